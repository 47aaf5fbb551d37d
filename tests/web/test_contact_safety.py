"""Issue 12, findings 2 and 5, on the screens: the new-ticket form caps a customer's contacts and
invites the strangers among them; the emailed link asks an invited address to opt in, and shows
any other holder their own details only; agents see consents, held emails and proposals."""

import re

from itsdangerous import URLSafeTimedSerializer

from helpdesk.models import ContactProposal, OutboxEmail, OutboxStatus, Ticket, TicketAttribute, TicketHistory
from helpdesk.services import contacts, outbox
from helpdesk.services.history import PROPOSAL
from helpdesk.services.tickets import Contacts
from tests.factories import make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import HTMX, csrf_from, csrf_token, sign_in

MAIN, CC = "main@customer.example", "cc@customer.example"


def confirm_path(app, ticket_id: int, address: str) -> str:
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=contacts.CONFIRM_SALT)
    return "/confirm/" + serializer.dumps({"ticket": ticket_id, "address": address})


async def new_ticket_form(client, **fields) -> dict:
    form = {
        "csrf_token": await csrf_token(client, "/tickets/new"),
        "title": "Cheap watches",
        "description": "Visit spam.example.net",
        "organisation": "ORG-1",
        "contract": "CON-1",
        "tenant": "1",
        "reporter": "USR-9",
    }
    return form | fields


async def signed_in_customer(client):
    await make_organisation("ORG-1", default_contract_hid="CON-1", default_tenant_hid="1")
    customer = await make_customer("ORG-1", human_id="USR-9", email="me@acme.example")
    await sign_in(client, customer)
    return customer


async def test_a_customer_naming_too_many_addresses_gets_a_form_error(app, client):
    await signed_in_customer(client)
    others = "\n".join(f"victim{n}@elsewhere.example" for n in range(app.config["CUSTOMER_CONTACT_LIMIT"]))
    form = await new_ticket_form(client, main_email="me@acme.example", additional_emails=others)
    response = await client.post("/tickets/new", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in html
    assert "at most 10 email contacts" in html and "victim9@elsewhere.example" in html
    assert not await Ticket.exists() and not await OutboxEmail.exists()


async def test_a_line_that_is_not_one_address_is_a_field_error(app, client):
    await signed_in_customer(client)
    form = await new_ticket_form(client, additional_emails="a@b.example, c@d.example")
    response = await client.post("/tickets/new", form=form, headers=HTMX)
    assert response.status_code == 422 and "one email address a line" in await response.get_data(as_text=True)


async def test_a_customers_new_ticket_invites_the_other_addresses(app, client):
    await signed_in_customer(client)
    form = await new_ticket_form(
        client, main_email="me@acme.example", additional_emails="x@elsewhere.example\n\ny@elsewhere.example\n"
    )
    assert (await client.post("/tickets/new", form=form)).status_code == 303
    subjects = dict(await OutboxEmail.all().values_list("recipient", "subject"))
    assert set(subjects) == {"me@acme.example", "x@elsewhere.example", "y@elsewhere.example"}
    assert "received" in subjects["me@acme.example"]
    assert all("Cheap watches" not in subjects[a] for a in ("x@elsewhere.example", "y@elsewhere.example"))


async def invited(app) -> tuple[Ticket, str]:
    customer = await make_customer("ORG-1", human_id="USR-9", email="me@acme.example")
    data = Contacts(main_email="me@acme.example", additional_emails=["stranger@elsewhere.example"])
    ticket = await make_ticket(actor=customer, contacts=data, reporter_hid="USR-9", title="Cheap watches")
    [invitation] = await OutboxEmail.filter(recipient="stranger@elsewhere.example")
    path = re.search(r"http://testserver\.local(/confirm/\S+)", invitation.body_text).group(1)
    return ticket, path


async def test_the_invitation_page_asks_without_the_tickets_text_and_records_the_answer(app, client):
    ticket, path = await invited(app)
    page = await client.get(path)
    html = await page.get_data(as_text=True)
    assert page.status_code == 200 and "Do you want emails about this ticket?" in html
    assert ticket.human_id in html and "Cheap watches" not in html and "me@acme.example" not in html
    refused = await client.post(path, form={"csrf_token": "forged", "accept": "y"})
    assert refused.status_code == 400
    assert (await TicketAttribute.get(value="stranger@elsewhere.example")).consent == "pending"
    answer = await client.post(path, form={"csrf_token": csrf_from(html), "accept": "y"})
    assert answer.status_code == 200 and "from now on" in await answer.get_data(as_text=True)
    assert (await TicketAttribute.get(value="stranger@elsewhere.example")).consent == "confirmed"
    assert (await client.get(path)).status_code == 410


async def test_an_invited_address_may_decline(app, client):
    _, path = await invited(app)
    html = await (await client.get(path)).get_data(as_text=True)
    answer = await client.post(path, form={"csrf_token": csrf_from(html), "decline": "y"})
    assert answer.status_code == 200 and "will not email you" in await answer.get_data(as_text=True)
    assert (await TicketAttribute.get(value="stranger@elsewhere.example")).consent == "declined"


async def ticket_with_contacts() -> Ticket:
    rows = Contacts(main_email=MAIN, phone_number="0113 496 0000", additional_emails=[CC])
    return await make_ticket(contacts=rows, title="Phones down")


async def test_a_cc_link_shows_only_the_cc_address_and_cannot_touch_the_others(app, client):
    ticket = await ticket_with_contacts()
    path = confirm_path(app, ticket.id, CC)
    html = await (await client.get(path)).get_data(as_text=True)
    assert CC in html and MAIN not in html and "0113 496 0000" not in html
    assert 'name="phone_number"' not in html and 'name="email"' in html
    for field in ({"phone_number": "0113 496 0666"}, {"main_email": "attacker@evil.example"}):
        form = {"csrf_token": csrf_from(html), "correct": "y"} | field
        response = await client.post(path, form=form)
        if "phone_number" in field:
            assert response.status_code == 422 and "cannot be corrected" in await response.get_data(
                as_text=True
            )
    assert (await TicketAttribute.get(ticket=ticket, key="mainEmail")).value == MAIN
    assert (await TicketAttribute.get(ticket=ticket, key="phoneNumber")).value == "0113 496 0000"


async def test_the_main_contacts_link_shows_their_phone(app, client):
    ticket = await ticket_with_contacts()
    html = await (await client.get(confirm_path(app, ticket.id, MAIN))).get_data(as_text=True)
    assert MAIN in html and "0113 496 0000" in html and CC not in html


async def test_a_note_reaches_the_agents_panel_where_they_accept_or_dismiss_it(app, client):
    ticket = await ticket_with_contacts()
    path = confirm_path(app, ticket.id, CC)
    html = await (await client.get(path)).get_data(as_text=True)
    note = "Main contact left; <b>write to Priya</b>"
    response = await client.post(path, form={"csrf_token": csrf_from(html), "correct": "y", "note": note})
    assert response.status_code == 200
    [proposal] = await ContactProposal.filter(ticket=ticket)
    agent = await make_agent(name="Priya Agent")
    await sign_in(client, agent)
    panel = await client.get(f"/tickets/{ticket.human_id}/contacts", headers=HTMX)
    html = await panel.get_data(as_text=True)
    assert (
        "Proposed by contacts" in html and "&lt;b&gt;write to Priya&lt;/b&gt;" in html and "<b>" not in html
    )
    action = f"/tickets/{ticket.human_id}/contacts/proposals/{proposal.id}/accept"
    assert f'action="{action}"' in html
    assert (await client.post(action, form={"csrf_token": "forged"}, headers=HTMX)).status_code == 400
    assert (await ContactProposal.get(id=proposal.id)).status == "open"
    accepted = await client.post(action, form={"csrf_token": csrf_from(html)}, headers=HTMX)
    assert accepted.status_code == 200 and "ticket-changed" in accepted.headers["HX-Trigger"]
    assert "Proposed by contacts" not in await accepted.get_data(as_text=True)
    history = await TicketHistory.get(ticket=ticket, field=PROPOSAL, actor=agent)
    assert history.new_value == "accepted"
    again = await client.post(action, form={"csrf_token": csrf_from(html)}, headers=HTMX)
    assert again.status_code == 409


async def test_customers_cannot_decide_proposals(app, client):
    await make_organisation("ORG-1")
    ticket = await ticket_with_contacts()
    path = confirm_path(app, ticket.id, CC)
    html = await (await client.get(path)).get_data(as_text=True)
    await client.post(path, form={"csrf_token": csrf_from(html), "correct": "y", "note": "hello"})
    proposal = await ContactProposal.get(ticket=ticket)
    await sign_in(client, await make_customer("ORG-1"))
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    action = f"/tickets/{ticket.human_id}/contacts/proposals/{proposal.id}/dismiss"
    response = await client.post(action, form={"csrf_token": token}, headers=HTMX)
    assert response.status_code in (403, 404)
    assert (await ContactProposal.get(id=proposal.id)).status == "open"
    panel = await (await client.get(f"/tickets/{ticket.human_id}/contacts", headers=HTMX)).get_data(
        as_text=True
    )
    assert "hello" not in panel


async def test_agents_see_each_contacts_consent_and_customers_do_not(app, client):
    await make_organisation("ORG-1")
    customer = await make_customer("ORG-1", human_id="USR-9", email="me@acme.example")
    data = Contacts(main_email="me@acme.example", additional_emails=["stranger@elsewhere.example"])
    ticket = await make_ticket(actor=customer, contacts=data, reporter_hid="USR-9")
    await sign_in(client, await make_agent())
    html = await (await client.get(f"/tickets/{ticket.human_id}/contacts", headers=HTMX)).get_data(
        as_text=True
    )
    assert "badge-consent-trusted" in html and "badge-consent-pending" in html and "Not opted in" in html
    await sign_in(client, customer)
    html = await (await client.get(f"/tickets/{ticket.human_id}/contacts", headers=HTMX)).get_data(
        as_text=True
    )
    assert "stranger@elsewhere.example" in html and "badge-consent" not in html


async def test_the_emails_panel_says_an_email_was_held_and_why(app, client, mailbox):
    await make_ticket(contacts=Contacts(main_email="ops@acme.example"))
    ticket = await make_ticket(contacts=Contacts(main_email="ops@acme.example"))
    await outbox.deliver_due(mailbox.config(app.config) | {"MAIL_HOURLY_LIMIT": 1})
    assert (await OutboxEmail.get(ticket=ticket)).status == OutboxStatus.HELD
    await sign_in(client, await make_agent())
    html = await (await client.get(f"/tickets/{ticket.human_id}/emails", headers=HTMX)).get_data(as_text=True)
    assert (
        "badge-email-held" in html
        and "Not sent. Held: 1 ticket emails" in html
        and "MAIL_HOURLY_LIMIT" in html
    )


async def test_an_agent_changing_the_main_email_on_the_page_tells_the_old_address(app, client):
    ticket = await ticket_with_contacts()
    await sign_in(client, await make_agent())
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    form = {"csrf_token": token, "key": "main_email", "value": "new@customer.example"}
    response = await client.post(f"/tickets/{ticket.human_id}/contacts", form=form, headers=HTMX)
    assert response.status_code == 200
    [notice] = await OutboxEmail.filter(recipient=MAIN, subject__contains="changed")
    assert "new@customer.example" not in notice.body_text and "n***@c***.example" in notice.body_text


async def test_a_main_email_without_a_dot_in_its_domain_is_a_field_error(app, client):
    """Issue 13 item 3: the new-ticket form took `a@b` as the main email (a looser pattern)."""
    await signed_in_customer(client)
    form = await new_ticket_form(client, main_email="a@b", phone_number="12")
    response = await client.post("/tickets/new", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert (
        response.status_code == 422
        and "must be one email address" in html
        and "must be a phone number" in html
    )
    assert not await Ticket.exists()
