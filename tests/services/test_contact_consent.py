"""Finding 2 of issue 12: a customer cannot make the helpdesk email anyone. Addresses a customer
names (other than their own) get one content-free invitation and nothing else until they opt in;
a customer names at most CUSTOMER_CONTACT_LIMIT addresses; ticket emails are capped per hour."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.errors import Invalid
from helpdesk.models import Event, OutboxEmail, OutboxStatus, Ticket, TicketAttribute, TicketHistory
from helpdesk.services import contacts, outbox, ticket_contacts, tickets
from helpdesk.services.tickets import Contacts, NewTicket
from tests.factories import make_agent, make_customer, make_ticket

TITLE, BODY = "Cheap watches at example.net", "Visit https://spam.example.net now"
LINK = re.compile(r"http://testserver\.local/confirm/(\S+)")


async def customer_ticket(customer, others: list[str], **fields) -> Ticket:
    data = NewTicket(
        organisation_hid="ORG-1", contract_hid="CON-1", tenant_hid="1", reporter_hid="USR-9",
        title=TITLE, description=BODY,
        contacts=Contacts(main_email=customer.email, additional_emails=others), **fields,
    )  # fmt: skip
    return await tickets.create_ticket(data=data, actor=customer)


async def emails_to(address: str) -> list[OutboxEmail]:
    return await OutboxEmail.filter(recipient=address).order_by("id")


async def test_customer_named_addresses_get_one_content_free_invitation_and_nothing_else(app):
    customer = await make_customer(human_id="USR-9", email="me@acme.example")
    others = [f"victim{n}@elsewhere.example" for n in range(3)]
    ticket = await customer_ticket(customer, others)
    [received] = await emails_to("me@acme.example")  # the customer's own address is trusted
    assert "received" in received.subject and TITLE in received.subject and BODY in received.body_text
    for address in others:
        [invitation] = await emails_to(address)
        assert ticket.human_id in invitation.subject
        for text in (invitation.subject, invitation.body_text, invitation.body_html):
            assert TITLE not in text and BODY not in text and "Cheap" not in text
        assert LINK.search(invitation.body_text)
    consents = dict(
        await TicketAttribute.filter(ticket=ticket, key__in=contacts.EMAIL_KEYS).values_list(
            "value", "consent"
        )
    )
    assert consents == {"me@acme.example": "trusted"} | dict.fromkeys(others, "pending")
    assert await contacts.email_contacts(ticket) == ["me@acme.example"]
    # Replies and confirmation requests go to the trusted address only.
    agent = await make_agent()
    await tickets.post_comment(human_id=ticket.human_id, body="We are on it", actor=agent)
    await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)
    for address in others:
        assert len(await emails_to(address)) == 1
    assert len(await emails_to("me@acme.example")) == 3


async def test_fifty_additional_emails_from_a_customer_are_refused_and_nothing_is_written(app):
    customer = await make_customer(human_id="USR-9")
    limit = app.config["CUSTOMER_CONTACT_LIMIT"]
    with pytest.raises(Invalid) as error:
        await customer_ticket(customer, [f"v{n}@elsewhere.example" for n in range(50)])
    assert list(error.value.errors) == ["attributes.additionalEmails"]
    assert str(limit) in error.value.message
    assert not await Ticket.exists() and not await OutboxEmail.exists()
    # Exactly at the limit (the customer's own address counts) is fine.
    await customer_ticket(customer, [f"v{n}@elsewhere.example" for n in range(limit - 1)])
    assert await OutboxEmail.filter(subject__contains="Do you want emails").count() == limit - 1


async def test_agents_name_any_number_of_trusted_contacts(app):
    many = [f"cc{n}@acme.example" for n in range(20)]
    ticket = await make_ticket(contacts=Contacts(main_email="ops@acme.example", additional_emails=many))
    assert await OutboxEmail.filter(ticket=ticket, subject__contains="received").count() == 21
    assert not await TicketAttribute.filter(ticket=ticket).exclude(consent="trusted").exists()


async def invitation_token(address: str) -> str:
    [invitation] = await emails_to(address)
    return LINK.search(invitation.body_text).group(1)


async def test_an_invited_address_that_opts_in_gets_the_emails_from_then_on(app):
    customer = await make_customer(human_id="USR-9", email="me@acme.example")
    ticket = await customer_ticket(customer, ["colleague@acme.example"])
    token = await invitation_token("colleague@acme.example")
    link = await contacts.read_link(token=token, config=app.config)
    assert link.invited and [row.value for row in link.contacts] == ["colleague@acme.example"]
    event = await contacts.answer_invitation(token=token, accept=True, config=app.config)
    assert (event.key, event.value) == (contacts.OPTED_IN_KEY, "colleague@acme.example")
    assert (await TicketAttribute.get(ticket=ticket, value="colleague@acme.example")).consent == "confirmed"
    await tickets.post_comment(human_id=ticket.human_id, body="Fixed", actor=await make_agent())
    assert [e.subject for e in await emails_to("colleague@acme.example")][1:] == [
        f"[{ticket.human_id}] {TITLE}: new reply"
    ]


async def test_an_invited_address_that_declines_is_never_emailed_and_its_link_dies(app):
    customer = await make_customer(human_id="USR-9", email="me@acme.example")
    ticket = await customer_ticket(customer, ["stranger@elsewhere.example"])
    token = await invitation_token("stranger@elsewhere.example")
    await contacts.answer_invitation(token=token, accept=False, config=app.config)
    assert (
        await TicketAttribute.get(ticket=ticket, value="stranger@elsewhere.example")
    ).consent == "declined"
    await tickets.post_comment(human_id=ticket.human_id, body="Fixed", actor=await make_agent())
    assert len(await emails_to("stranger@elsewhere.example")) == 1
    with pytest.raises(contacts.LinkGone):
        await contacts.read_link(token=token, config=app.config)


async def test_an_invited_address_cannot_confirm_details_before_it_opts_in(app):
    customer = await make_customer(human_id="USR-9", email="me@acme.example")
    await customer_ticket(customer, ["stranger@elsewhere.example"])
    token = await invitation_token("stranger@elsewhere.example")
    with pytest.raises(contacts.LinkGone):
        await contacts.confirm_contacts(token=token, corrections={"email": "x@y.example"}, config=app.config)
    assert not await Event.filter(key=contacts.CONFIRMED_KEY).exists()


async def test_the_contacts_panel_rows_carry_each_consent(app):
    customer = await make_customer(human_id="USR-9", email="me@acme.example")
    ticket = await customer_ticket(customer, ["colleague@acme.example"])
    rows = await ticket_contacts.list_contacts(ticket=ticket, actor=await make_agent())
    assert [(row.value, row.consent) for row in rows] == [
        ("me@acme.example", "trusted"),
        ("colleague@acme.example", "pending"),
    ]


async def test_an_agent_who_gives_a_waiting_address_makes_it_trusted(app):
    customer = await make_customer(human_id="USR-9", email="me@acme.example")
    ticket = await customer_ticket(customer, ["colleague@acme.example"])
    agent = await make_agent(name="Priya")
    await ticket_contacts.set_contact(
        human_id=ticket.human_id, key="additional_email", value="colleague@acme.example", actor=agent
    )
    assert (await TicketAttribute.get(ticket=ticket, value="colleague@acme.example")).consent == "trusted"
    assert "colleague@acme.example" in await contacts.email_contacts(ticket)
    history = await TicketHistory.get(ticket=ticket, field="contact.consent")
    assert (history.actor_label, history.new_value) == ("Priya", "colleague@acme.example: trusted")


# --- hourly caps ------------------------------------------------------------------------


def capped(config, per_ticket: int = 0, overall: int = 0) -> dict:
    return dict(config) | {"MAIL_TICKET_HOURLY_LIMIT": per_ticket, "MAIL_HOURLY_LIMIT": overall}


async def replies(ticket: Ticket, count: int) -> None:
    agent = await make_agent()
    for n in range(count):
        await tickets.post_comment(human_id=ticket.human_id, body=f"Update {n}", actor=agent)


async def test_emails_over_the_per_ticket_cap_are_held_with_the_reason(app, mailbox):
    ticket = await make_ticket(contacts=Contacts(main_email="ops@acme.example"))
    other = await make_ticket(contacts=Contacts(main_email="ops@acme.example"))
    await replies(ticket, 4)
    config = capped(mailbox.config(app.config), per_ticket=3)
    await outbox.deliver_due(config)
    statuses = await OutboxEmail.filter(ticket=ticket).order_by("id").values_list("status", flat=True)
    assert statuses == ["sent"] * 3 + ["held"] * 2
    held = await OutboxEmail.filter(ticket=ticket, status=OutboxStatus.HELD).first()
    assert "MAIL_TICKET_HOURLY_LIMIT" in held.last_error and held.sent_at is None
    assert (await OutboxEmail.get(ticket=other)).status == OutboxStatus.SENT  # another ticket's own cap
    assert len(mailbox.messages) == 4
    # Held is final: a later round sends none of them.
    assert await outbox.deliver_due(config) == 0
    assert len(mailbox.messages) == 4


async def test_emails_over_the_overall_cap_are_held_but_account_emails_still_leave(app, mailbox):
    for _ in range(3):
        await make_ticket(contacts=Contacts(main_email="ops@acme.example"))
    await outbox.queue_email(recipient="someone@acme.example", subject="Reset", body_text="x", body_html="x")
    await outbox.deliver_due(capped(mailbox.config(app.config), overall=2))
    statuses = await OutboxEmail.all().order_by("id").values_list("status", flat=True)
    assert statuses == ["sent", "sent", "held", "sent"]
    assert "MAIL_HOURLY_LIMIT" in (await OutboxEmail.get(status=OutboxStatus.HELD)).last_error


async def test_the_caps_count_only_the_last_hour(app, mailbox):
    ticket = await make_ticket(contacts=Contacts(main_email="ops@acme.example"))
    await replies(ticket, 2)
    long_ago = datetime.now(UTC) - timedelta(hours=1, seconds=1)
    first = await OutboxEmail.filter(ticket=ticket).order_by("id").first()
    await OutboxEmail.filter(id=first.id).update(status=OutboxStatus.SENT, sent_at=long_ago)
    await outbox.deliver_due(capped(mailbox.config(app.config), per_ticket=2))
    assert await OutboxEmail.filter(ticket=ticket, status=OutboxStatus.SENT).count() == 3
