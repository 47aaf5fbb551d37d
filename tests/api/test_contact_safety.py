"""Issue 12, findings 2 and 5, through the API: a customer's POST /api/tickets cannot make the
helpdesk email strangers, and a PATCH of the main email tells the old address."""

from helpdesk.models import OutboxEmail, TicketAttribute
from helpdesk.services import outbox
from tests.api.conftest import TICKET

ATTRIBUTES = {"preferredContactMethod": "email"}


async def post_ticket(user, **attributes):
    body = TICKET | {"attributes": ATTRIBUTES | attributes}
    return await user.post("/api/tickets", json=body)


async def test_a_customers_fifty_additional_emails_are_422_naming_the_field(app, customer):
    others = [f"victim{n}@elsewhere.example" for n in range(50)]
    response = await post_ticket(customer, mainEmail=customer.user.email, additionalEmails=others)
    assert response.status_code == 422
    body = await response.get_json()
    assert set(body) == {"title", "message", "errors"} and body["title"] == "Unprocessable Entity"
    assert list(body["errors"]) == ["attributes.additionalEmails"]
    assert not await OutboxEmail.exists()


async def test_a_customers_ticket_emails_strangers_only_an_invitation(app, customer, mailbox):
    others = [f"victim{n}@elsewhere.example" for n in range(3)]
    response = await post_ticket(customer, mainEmail=customer.user.email, additionalEmails=others)
    assert response.status_code == 201
    await outbox.deliver_due(mailbox.config(app.config))
    received = {message["To"]: message for message in mailbox.messages}
    assert set(received) == {customer.user.email, *others}
    assert "ticket received" in received[customer.user.email]["Subject"]
    for address in others:
        message = received[address]
        text = message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()
        assert "received" not in message["Subject"] and "Do you want emails" in message["Subject"]
        assert TICKET["title"] not in text + message["Subject"] and TICKET["description"] not in text
        assert "/confirm/" in text


async def test_an_agents_additional_emails_are_trusted(app, agent, mailbox):
    others = [f"cc{n}@acme.example" for n in range(12)]
    assert (
        await post_ticket(agent, mainEmail="ops@acme.example", additionalEmails=others)
    ).status_code == 201
    await outbox.deliver_due(mailbox.config(app.config) | {"MAIL_TICKET_HOURLY_LIMIT": 30})
    assert all("ticket received" in message["Subject"] for message in mailbox.messages)
    assert len(mailbox.messages) == 13


async def test_patching_the_main_email_tells_the_old_address_without_the_new_one(app, agent):
    created = await post_ticket(agent, mainEmail="old@acme.example")
    human_id = created.headers["Location"]
    await OutboxEmail.all().delete()
    patch = {"attributes": {"mainEmail": "attacker@evil.example"}}
    assert (await agent.patch(f"/api/tickets/{human_id}", json=patch)).status_code == 204
    [notice] = await OutboxEmail.filter(recipient="old@acme.example")
    assert human_id in notice.subject and "changed" in notice.subject
    assert "attacker@evil.example" not in notice.body_text + notice.body_html
    assert "a***@e***.example" in notice.body_text
    assert TICKET["title"] not in notice.subject + notice.body_text
    assert (await TicketAttribute.get(key="mainEmail")).value == "attacker@evil.example"


async def test_an_address_without_a_dot_in_its_domain_is_422_wherever_it_is_sent(app, agent, admin):
    """Issue 13 item 3: the API took `a@b`, which the outbox then never mailed."""
    for attributes in ({"mainEmail": "a@b"}, {"additionalEmails": ["ok@acme.example", "a@b"]}):
        response = await post_ticket(agent, **attributes)
        assert response.status_code == 422
        assert list((await response.get_json())["errors"])[0].startswith("attributes.")
    response = await admin.post("/api/users", json={"email": "a@b", "name": "A"})
    assert response.status_code == 422 and "email" in (await response.get_json())["errors"]
    assert not await TicketAttribute.exists()


async def test_an_impossible_phone_number_is_422(app, agent):
    response = await post_ticket(agent, phoneNumber="12")
    assert response.status_code == 422 and list((await response.get_json())["errors"]) == [
        "attributes.phoneNumber"
    ]
    assert (await post_ticket(agent, phoneNumber="+44 113 496 0000")).status_code == 201
