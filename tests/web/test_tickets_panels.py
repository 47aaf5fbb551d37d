"""The ticket page's agent panels: asking contacts to confirm, the ticket's emails, the history timeline."""

import json
import re
from datetime import UTC, datetime

import pytest
from markupsafe import escape

from helpdesk.models import Event, OutboxEmail, OutboxStatus, TicketAttribute, TicketHistory
from helpdesk.services import contacts, ticket_contacts, tickets
from helpdesk.services.history import REQUESTED
from tests.factories import make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in

ADDRESS = "ops@acme.example"
XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture
async def agent_ticket(client):
    agent = await make_agent(name="Priya Shah")
    ticket = await make_ticket(
        actor=agent, contacts=tickets.Contacts(main_email=ADDRESS, phone_number="0113 496 0123")
    )
    await sign_in(client, agent)
    return agent, ticket


def confirm_requests():
    return Event.filter(key=contacts.REQUEST_KEY)


async def test_sending_the_confirm_email_refreshes_the_panel_and_announces_it(client, agent_ticket):
    _, ticket = agent_ticket
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}")}
    response = await client.post(f"/tickets/{ticket.human_id}/contacts/confirmation", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="tickets-contacts"')
    assert "ticket-changed" in json.loads(response.headers["HX-Trigger"])
    assert "Confirm contacts notification sent." in html and "Last asked" in html and "Not confirmed" in html
    assert await confirm_requests().count() == 1


async def test_sending_it_again_at_once_says_so_and_sends_no_second_email(client, agent_ticket):
    _, ticket = agent_ticket
    url = f"/tickets/{ticket.human_id}/contacts/confirmation"
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}")}
    await client.post(url, form=form, headers=HTMX)
    emails = await OutboxEmail.filter(ticket_id=ticket.id).count()
    response = await client.post(url, form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Trigger" not in response.headers
    assert "no second email was sent" in html and html.lstrip().startswith('<section id="tickets-contacts"')
    assert '<div class="notice" role="status">' in html  # news, not an error
    assert await confirm_requests().count() == 1
    assert await OutboxEmail.filter(ticket_id=ticket.id).count() == emails
    assert (
        await OutboxEmail.filter(ticket_id=ticket.id, subject__contains="confirm your contact").count() == 1
    )
    history = await (await client.get(f"/tickets/{ticket.human_id}/history", headers=HTMX)).get_data(
        as_text=True
    )
    assert "Priya Shah" in history and "asked the contacts to confirm their details" in history


async def test_without_javascript_sending_redirects_back(client, agent_ticket):
    _, ticket = agent_ticket
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}")}
    response = await client.post(f"/tickets/{ticket.human_id}/contacts/confirmation", form=form)
    assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{ticket.human_id}"


async def test_sending_without_csrf_is_400_and_sends_nothing(client, agent_ticket):
    _, ticket = agent_ticket
    emails_before = await OutboxEmail.all().count()
    response = await client.post(f"/tickets/{ticket.human_id}/contacts/confirmation", form={}, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 400 and "HX-Trigger" not in response.headers
    assert html.lstrip().startswith('<section id="tickets-contacts"') and 'role="alert"' in html
    assert not await confirm_requests().exists() and await OutboxEmail.all().count() == emails_before


async def test_no_get_sends_anything(client, agent_ticket):
    _, ticket = agent_ticket
    for path in ("contacts/confirmation", "contacts", "emails", "history"):
        response = await client.get(f"/tickets/{ticket.human_id}/{path}")
        assert response.status_code in (200, 405), path
    assert not await confirm_requests().exists()
    assert not await TicketHistory.filter(field=REQUESTED).exists()


async def test_customers_cannot_send_or_see_confirmations_emails_or_history(client):
    await make_organisation("ORG-1")
    agent, customer = await make_agent(), await make_customer("ORG-1")
    own = await make_ticket(actor=agent, contacts=tickets.Contacts(main_email=ADDRESS))
    other = await make_ticket(
        actor=agent, organisation_hid="ORG-2", contacts=tickets.Contacts(main_email=ADDRESS)
    )
    await sign_in(client, customer)
    token = await csrf_token(client, f"/tickets/{own.human_id}")
    for ticket in (own, other):
        for panel in ("emails", "history"):
            for headers in (HTMX, {}):
                response = await client.get(f"/tickets/{ticket.human_id}/{panel}", headers=headers)
                assert response.status_code == 404, (ticket.human_id, panel)
        url = f"/tickets/{ticket.human_id}/contacts/confirmation"
        assert (await client.post(url, form={"csrf_token": token}, headers=HTMX)).status_code in (403, 404)
    contacts_html = await (await client.get(f"/tickets/{own.human_id}/contacts", headers=HTMX)).get_data(
        as_text=True
    )
    assert "Send confirm-contacts email" not in contacts_html and "Last asked" not in contacts_html
    assert not await confirm_requests().exists()


async def test_contacts_panel_shows_who_confirmed_and_when(app, client, agent_ticket):
    agent, ticket = agent_ticket
    await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)
    url = contacts.confirmation_url(app.config, ticket_id=ticket.id, address=ADDRESS)
    token = url.rpartition("/")[2]
    await contacts.confirm_contacts(token=token, corrections={"phoneNumber": "+44 1632"}, config=app.config)
    html = await (await client.get(f"/tickets/{ticket.human_id}/contacts", headers=HTMX)).get_data(
        as_text=True
    )
    assert "Confirmed" in html and "Not confirmed" not in html and "+44 1632" in html
    keys = re.findall(r'<span class="key">([^<]*)</span>', html)
    assert "Phone number" in keys and "Main email" in keys and "phoneNumber" not in keys  # in words
    history = await (await client.get(f"/tickets/{ticket.human_id}/history", headers=HTMX)).get_data(
        as_text=True
    )
    assert "confirmed the contact details" in history and "changed <em>Phone number</em>" in history
    assert history.count(ADDRESS) >= 2


async def make_email(ticket, status: OutboxStatus, **fields) -> OutboxEmail:
    values = {"recipient": ADDRESS, "subject": "Hello", "body_text": "x", "body_html": "x"} | fields
    return await OutboxEmail.create(
        ticket=ticket,
        status=status,
        message_id=f"<{status}-{datetime.now(UTC).timestamp()}-{fields}@t>",
        next_attempt_at=datetime.now(UTC),
        **values,
    )


async def test_emails_panel_shows_status_attempts_and_failures_escaped(client, agent_ticket):
    _, ticket = agent_ticket
    await OutboxEmail.filter(ticket_id=ticket.id).delete()
    await make_email(
        ticket, OutboxStatus.SENT, attempts=1, sent_at=datetime.now(UTC), subject="Delivered one"
    )
    await make_email(ticket, OutboxStatus.FAILED, attempts=5, last_error=f"SMTPDataError: {XSS}", subject=XSS)
    await make_email(ticket, OutboxStatus.PENDING, recipient="later@acme.example")
    for headers in (HTMX, {}):
        response = await client.get(f"/tickets/{ticket.human_id}/emails", headers=headers)
        html = await response.get_data(as_text=True)
        assert response.status_code == 200 and XSS not in html and str(escape(XSS)) in html
    assert (
        "Delivered one" in html and "Sent " in html and "Failed" in html and "Gave up: SMTPDataError" in html
    )
    assert "5 attempts" in html and "later@acme.example" in html and "every 5s" in html


async def test_emails_panel_says_which_email_may_have_been_sent_twice(client, agent_ticket):
    _, ticket = agent_ticket
    await OutboxEmail.filter(ticket_id=ticket.id).delete()
    sent = {"attempts": 2, "sent_at": datetime.now(UTC)}
    await make_email(ticket, OutboxStatus.SENT, subject="Resent one", maybe_duplicate=True, **sent)
    html = await (await client.get(f"/tickets/{ticket.human_id}/emails", headers=HTMX)).get_data(as_text=True)
    assert html.count("May have been sent twice") == 1
    await OutboxEmail.filter(ticket_id=ticket.id).update(status=OutboxStatus.PENDING, sent_at=None)
    html = await (await client.get(f"/tickets/{ticket.human_id}/emails", headers=HTMX)).get_data(as_text=True)
    assert "May have been sent twice" not in html and "May have been delivered already" in html
    await OutboxEmail.filter(ticket_id=ticket.id).update(maybe_duplicate=False)
    html = await (await client.get(f"/tickets/{ticket.human_id}/emails", headers=HTMX)).get_data(as_text=True)
    assert "May have been" not in html


async def test_emails_panel_shows_the_latest_twenty_and_stops_polling_when_all_left(client, agent_ticket):
    _, ticket = agent_ticket
    await OutboxEmail.filter(ticket_id=ticket.id).delete()
    for n in range(25):
        await make_email(ticket, OutboxStatus.SENT, subject=f"Mail number {n:02d}", sent_at=datetime.now(UTC))
    html = await (await client.get(f"/tickets/{ticket.human_id}/emails", headers=HTMX)).get_data(as_text=True)
    assert html.count('class="email email-sent"') == 20
    assert "Mail number 24" in html and "Mail number 04" not in html and "every 5s" not in html
    assert "The latest 20 emails." in html


async def test_timeline_merges_changes_comments_and_events_newest_first(client, agent_ticket):
    agent, ticket = agent_ticket
    await tickets.post_comment(human_id=ticket.human_id, body=f"public {XSS}", actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="only us", actor=agent, internal=True)
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=tickets.TicketChanges(values={"title": XSS}), actor=agent
    )
    for headers in (HTMX, {}):
        response = await client.get(f"/tickets/{ticket.human_id}/history", headers=headers)
        html = await response.get_data(as_text=True)
        assert response.status_code == 200 and XSS not in html and str(escape(XSS)) in html
        assert "HX-Request" in response.headers["Vary"]
    order = [
        html.index(text)
        for text in ("changed <em>Title</em>", "Internal note", "Reply notification queued.", "Public reply")
    ]
    assert order == sorted(order) and html.index("opened the ticket") > order[-1]
    assert 'class="timeline-comment internal"' in html and "Create ticket notification queued." in html


async def test_history_names_contact_changes_in_words_whoever_made_them(app, client, agent_ticket):
    """Issue 13 item 2: the history printed `contact.mainEmail`, `attributes.phoneNumber`, and an
    agent's edit and a contact's correction of one detail recorded two different field names."""
    agent, ticket = agent_ticket
    await ticket_contacts.set_contact(
        human_id=ticket.human_id, key="phone_number", value="0113 496 0999", actor=agent
    )
    await ticket_contacts.set_contact(
        human_id=ticket.human_id, key="additional_email", value="cc@acme.example", actor=agent
    )
    cc = await TicketAttribute.get(ticket=ticket, key="additionalEmail")
    await ticket_contacts.set_contact_enabled(
        human_id=ticket.human_id, attribute_id=cc.id, enabled=False, actor=agent
    )
    url = contacts.confirmation_url(app.config, ticket_id=ticket.id, address=ADDRESS)
    await contacts.confirm_contacts(
        token=url.rpartition("/")[2], corrections={"phoneNumber": "+44 20 7946 0000"}, config=app.config
    )
    fields = await TicketHistory.filter(ticket=ticket, new_value__contains="0").values_list(
        "field", flat=True
    )
    assert fields.count("contact.phoneNumber") == 2
    history = await (await client.get(f"/tickets/{ticket.human_id}/history", headers=HTMX)).get_data(
        as_text=True
    )
    for words in ("Phone number", "Additional emails", "Additional email enabled"):
        assert f"changed <em>{words}</em>" in history
    assert "contact." not in history and "attributes." not in history
