"""The ticket page and its panels: page vs partial, saving fields with versions, the thread, contacts."""

import json
import re

import pytest

from helpdesk.models import Comment, OutboxEmail, State, StateKind, Ticket, TicketAttribute, TicketHistory
from helpdesk.services import tickets
from tests.factories import make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import HTMX, csrf_from, csrf_token, sign_in

PANELS = ("header", "fields", "thread", "contacts", "emails", "history")


@pytest.fixture
async def agent_ticket(client):
    agent = await make_agent()
    contacts = tickets.Contacts(main_email="ops@acme.example")
    ticket = await make_ticket(actor=agent, contacts=contacts)
    await sign_in(client, agent)
    return agent, ticket


async def test_ticket_page_shows_every_panel(client, agent_ticket):
    _, ticket = agent_ticket
    response = await client.get(f"/tickets/{ticket.human_id}")
    html = await response.get_data(as_text=True)
    assert f"<title>{ticket.human_id} Phones down · Helpdesk</title>" in html
    for name in PANELS:
        assert f'id="tickets-{name}"' in html
    assert "ops@acme.example" in html and 'id="tickets-reply"' in html


@pytest.mark.parametrize("panel", PANELS)
async def test_each_panel_is_a_partial_for_htmx_and_a_page_otherwise(client, agent_ticket, panel):
    _, ticket = agent_ticket
    partial = await client.get(f"/tickets/{ticket.human_id}/{panel}", headers=HTMX)
    page = await client.get(f"/tickets/{ticket.human_id}/{panel}")
    partial_html = await partial.get_data(as_text=True)
    assert partial.status_code == page.status_code == 200
    assert partial_html.lstrip().startswith(f'<section id="tickets-{panel}"') and "<html" not in partial_html
    assert "<html" in await page.get_data(as_text=True)
    assert "HX-Request" in partial.headers["Vary"] and "HX-Request" in page.headers["Vary"]


async def field_form(client, ticket: Ticket, **values) -> dict:
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}"), "version": ticket.version}
    return form | {name: "" for name in ("state", "type", "priority", "stage", "outcome", "group")} | values


async def test_changing_a_select_saves_and_announces_the_change(client, agent_ticket):
    agent, ticket = agent_ticket
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    form = await field_form(client, ticket, state=pending.id, assignee=agent.id)
    response = await client.post(f"/tickets/{ticket.human_id}/fields", form=form, headers=HTMX)
    assert response.status_code == 200
    assert "ticket-changed" in json.loads(response.headers["HX-Trigger"])
    assert 'id="tickets-fields"' in await response.get_data(as_text=True)
    saved = await Ticket.get(id=ticket.id)
    assert (saved.state_id, saved.assignee_id, saved.version) == (pending.id, agent.id, ticket.version + 1)
    assert await TicketHistory.filter(ticket_id=ticket.id, field="state").exists()


async def test_without_javascript_a_save_redirects_back(client, agent_ticket):
    _, ticket = agent_ticket
    response = await client.post(f"/tickets/{ticket.human_id}/fields", form=await field_form(client, ticket))
    assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{ticket.human_id}"


async def test_a_stale_version_is_a_conflict_shown_in_place(client, agent_ticket):
    agent, ticket = agent_ticket
    form = await field_form(client, ticket)
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    changes = tickets.TicketChanges(values={"state": pending.id})
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    response = await client.post(f"/tickets/{ticket.human_id}/fields", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 409 and "HX-Trigger" not in response.headers
    assert "changed by someone else" in html and html.lstrip().startswith('<section id="tickets-fields"')
    assert f'name="version" value="{ticket.version + 1}"' in html


async def test_missing_csrf_is_rejected_and_nothing_is_written(client, agent_ticket):
    _, ticket = agent_ticket
    form = await field_form(client, ticket, state="")
    del form["csrf_token"]
    response = await client.post(f"/tickets/{ticket.human_id}/fields", form=form, headers=HTMX)
    assert response.status_code == 400
    assert 'id="tickets-fields"' in await response.get_data(as_text=True)
    assert (await Ticket.get(id=ticket.id)).version == ticket.version
    comment = await client.post(f"/tickets/{ticket.human_id}/comments", form={"body": "hi"}, headers=HTMX)
    assert comment.status_code == 400 and 'name="body"' in await comment.get_data(as_text=True)
    assert not await Comment.exists()


async def test_replies_and_internal_notes(client, agent_ticket):
    _, ticket = agent_ticket
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    for body, visibility in (("Line one\nLine two", "public"), ("Only us", "internal")):
        form = {"csrf_token": token, "body": body, "visibility": visibility}
        response = await client.post(f"/tickets/{ticket.human_id}/comments", form=form, headers=HTMX)
        assert response.status_code == 200
        assert "comment-added" in json.loads(response.headers["HX-Trigger"])
    assert [c.internal for c in await Comment.all().order_by("id")] == [False, True]
    thread = await (await client.get(f"/tickets/{ticket.human_id}/thread", headers=HTMX)).get_data(
        as_text=True
    )
    assert "Line one\nLine two" in thread and "Internal note" in thread


async def test_an_empty_reply_is_422_in_place(client, agent_ticket):
    _, ticket = agent_ticket
    form = {"csrf_token": await csrf_token(client, f"/tickets/{ticket.human_id}"), "body": ""}
    response = await client.post(f"/tickets/{ticket.human_id}/comments", form=form, headers=HTMX)
    assert response.status_code == 422
    assert (await response.get_data(as_text=True)).lstrip().startswith('<section id="tickets-reply"')


async def test_contacts_can_be_set_added_and_switched_off(client, agent_ticket):
    _, ticket = agent_ticket
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    url = f"/tickets/{ticket.human_id}/contacts"
    for key, value in (("main_email", "new@acme.example"), ("additional_email", "cc@acme.example")):
        response = await client.post(
            url, form={"csrf_token": token, "key": key, "value": value}, headers=HTMX
        )
        assert response.status_code == 200
    rows = {row.key: row for row in await TicketAttribute.filter(ticket_id=ticket.id)}
    assert (
        rows["mainEmail"].value == "new@acme.example" and rows["additionalEmail"].value == "cc@acme.example"
    )
    off = await client.post(f"{url}/{rows['mainEmail'].id}/off", form={"csrf_token": token}, headers=HTMX)
    assert off.status_code == 200 and "Enable" in await off.get_data(as_text=True)
    assert not (await TicketAttribute.get(id=rows["mainEmail"].id)).enabled


async def test_no_get_changes_anything(client, agent_ticket):
    _, ticket = agent_ticket
    contact = await TicketAttribute.get(ticket=ticket, key="mainEmail")
    for path in ("comments", f"contacts/{contact.id}/off", "contacts/confirmation"):
        response = await client.get(f"/tickets/{ticket.human_id}/{path}")
        assert response.status_code == 405, path  # these only accept POST
    assert (await client.get(f"/tickets/{ticket.human_id}/fields")).status_code == 200  # a read
    assert (await Ticket.get(id=ticket.id)).version == ticket.version
    assert not await Comment.exists()
    assert (await TicketAttribute.get(id=contact.id)).enabled
    assert not await OutboxEmail.filter(ticket=ticket).exclude(subject__contains="received").exists()


async def test_customers_cannot_reach_another_organisations_ticket_or_its_partials(client):
    await make_organisation("ORG-1")
    agent, customer = await make_agent(), await make_customer("ORG-1")
    other = await make_ticket(actor=agent, organisation_hid="ORG-2")
    await sign_in(client, customer)
    for path in ("", *[f"/{p}" for p in PANELS]):
        response = await client.get(f"/tickets/{other.human_id}{path}", headers=HTMX)
        assert response.status_code == 404, path
    token = await csrf_token(client, "/")
    form = {"csrf_token": token, "body": "let me in", "visibility": "public"}
    assert (
        await client.post(f"/tickets/{other.human_id}/comments", form=form, headers=HTMX)
    ).status_code == 404
    assert not await Comment.exists()


async def test_customers_see_no_internal_notes_and_change_no_fields(client):
    await make_organisation("ORG-1")
    agent, customer = await make_agent(), await make_customer("ORG-1")
    ticket = await make_ticket(actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="secret plan", actor=agent, internal=True)
    await tickets.post_comment(human_id=ticket.human_id, body="we are on it", actor=agent)
    await sign_in(client, customer)
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "we are on it" in html and "secret plan" not in html and 'name="visibility" value="public"' in html
    response = await client.post(f"/tickets/{ticket.human_id}/fields", form=await field_form(client, ticket))
    assert response.status_code == 403
    for panel in ("history", "emails"):
        assert (await client.get(f"/tickets/{ticket.human_id}/{panel}", headers=HTMX)).status_code == 404
    assert 'id="tickets-history"' not in html and 'id="tickets-emails"' not in html


async def test_new_ticket_errors_come_back_inline_as_422(client):
    await sign_in(client, await make_agent())
    form = {"csrf_token": await csrf_token(client, "/tickets/new"), "title": "", "description": "x"}
    response = await client.post("/tickets/new", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and html.lstrip().startswith('<form id="tickets-new"')
    assert "This field is required." in html and not await Ticket.exists()


async def test_new_ticket_goes_to_the_ticket(client):
    await make_organisation("ORG-1")
    await make_customer("ORG-1", human_id="USR-9")
    await sign_in(client, await make_agent())
    form = {
        "csrf_token": await csrf_token(client, "/tickets/new"),
        "title": "VPN down",
        "description": "Since 9am",
        "organisation": "ORG-1",
        "contract": "CON-1",
        "tenant": "1",
        "reporter": "USR-9",
        "main_email": "it@acme.example",
    }
    response = await client.post("/tickets/new", form=form, headers=HTMX)
    ticket = await Ticket.get(title="VPN down")
    assert response.headers["HX-Redirect"] == f"/tickets/{ticket.human_id}"
    assert await TicketAttribute.filter(ticket_id=ticket.id, value="it@acme.example").exists()
    plain = await client.post("/tickets/new", form=form)
    assert plain.status_code == 303


async def test_customers_open_tickets_for_their_own_organisation_only(client):
    await make_organisation("ORG-1", default_contract_hid="CON-1", default_tenant_hid="1")
    await sign_in(client, await make_customer("ORG-1"))
    form = {
        "csrf_token": await csrf_token(client, "/tickets/new"),
        "title": "Help",
        "description": "Please",
        "organisation": "ORG-2",
        "contract": "CON-1",
        "tenant": "1",
        "reporter": "USR-1",
    }
    response = await client.post("/tickets/new", form=form)
    assert response.status_code == 403 and not await Ticket.exists()


async def test_new_ticket_form_is_prefilled_for_a_customer_but_not_for_an_agent(client):
    customer = await make_customer(organisation_hid="ORG-7", human_id="USR-70", email="kim@acme.example")
    await sign_in(client, customer)
    html = await (await client.get("/tickets/new")).get_data(as_text=True)
    for name, value in (
        ("organisation", "ORG-7"),
        ("reporter", "USR-70"),
        ("main_email", "kim@acme.example"),
    ):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', html), name
    await client.post("/logout", form={"csrf_token": csrf_from(html)})
    await sign_in(client, await make_agent())
    html = await (await client.get("/tickets/new")).get_data(as_text=True)
    assert not re.search(r'name="reporter"[^>]*value="[^"]', html)


async def test_a_contact_email_that_is_not_an_address_is_refused_in_place(client, agent_ticket):
    _, ticket = agent_ticket
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    form = {"csrf_token": token, "key": "additional_email", "value": "not an address"}
    response = await client.post(f"/tickets/{ticket.human_id}/contacts", form=form, headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="tickets-contacts"' in html and "not an email address" in html
    assert not await TicketAttribute.exists(ticket=ticket, key="additionalEmail")


async def test_adding_an_email_to_a_ticket_changed_meanwhile_is_a_conflict_not_a_lost_address(
    agent_ticket, monkeypatch
):
    from helpdesk.errors import Conflict
    from helpdesk.services import ticket_contacts

    agent, ticket = agent_ticket
    write = ticket_contacts.update_ticket

    async def someone_else_first(**kwargs):
        # Another agent's change lands between our read of the ticket and our write.
        await Ticket.filter(id=ticket.id).update(version=ticket.version + 1)
        return await write(**kwargs)

    monkeypatch.setattr(ticket_contacts, "update_ticket", someone_else_first)
    with pytest.raises(Conflict):
        await ticket_contacts.set_contact(
            human_id=ticket.human_id, key="additional_email", value="b@acme.example", actor=agent
        )
    assert not await TicketAttribute.exists(ticket=ticket, value="b@acme.example")


async def test_a_customer_files_web_tickets_as_themselves_only(client):
    await make_organisation("ORG-7", default_contract_hid="CON-7", default_tenant_hid="7")
    await sign_in(client, await make_customer("ORG-7", human_id="USR-70"))
    html = await (await client.get("/tickets/new")).get_data(as_text=True)
    assert re.search(r'name="reporter"[^>]*readonly', html) or re.search(
        r'readonly[^>]*name="reporter"', html
    )
    form = {
        "csrf_token": csrf_from(html),
        "title": "Help",
        "description": "Please",
        "organisation": "ORG-7",
        "contract": "CON-1",
        "tenant": "1",
        "reporter": "USR-1",
    }
    assert (await client.post("/tickets/new", form=form)).status_code == 303
    assert (await Ticket.get(title="Help")).reporter_hid == "USR-70"


async def test_the_panel_endpoint_serves_panels_only(client, agent_ticket):
    _, ticket = agent_ticket
    assert (await client.get(f"/tickets/{ticket.human_id}/nothing")).status_code == 404
    assert (await client.get(f"/tickets/{ticket.human_id}/comments")).status_code == 405
    assert (await client.get(f"/tickets/{ticket.human_id}/reply")).status_code == 404
