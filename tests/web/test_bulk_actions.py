"""Bulk actions from a queue: the rows' checkboxes, one form post, one summary (issue 16 tool 2)."""

import json
from urllib.parse import urlencode

from helpdesk.models import Comment, State, StateKind, Ticket, TicketHistory
from tests.factories import make_agent, make_customer, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in


async def post(client, form: dict, htmx: bool = False):
    """POST the form as a browser does, a repeated `ticket` field for each ticked row."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"} | (HTMX if htmx else {})
    return await client.post("/queues/bulk", data=urlencode(form, doseq=True), headers=headers)


async def pending_id() -> int:
    return (await State.get(kind=StateKind.STATE, description="Pending")).id


async def test_an_agents_queue_has_a_checkbox_per_row_and_the_bulk_form(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    html = await (await client.get("/queues/open")).get_data(as_text=True)
    assert '<form id="queues-bulk"' in html and 'id="pick-all"' in html
    assert '<option value="state">Set state</option>' in html and '<option value="note">' in html
    assert f'name="ticket" value="{ticket.human_id}" form="queues-bulk"' in html
    assert 'name="next" type="hidden" value="/queues/open"' in html


async def test_customers_get_no_bulk_form_and_their_post_changes_nothing(client):
    ticket = await make_ticket()
    await sign_in(client, await make_customer("ORG-1"))
    html = await (await client.get("/queues/open")).get_data(as_text=True)
    assert "queues-bulk" not in html and 'name="ticket"' not in html
    token = await csrf_token(client, "/account")
    form = {"csrf_token": token, "action": "reply", "body": "hello", "ticket": ticket.human_id}
    response = await post(client, form)
    assert response.status_code == 403
    assert not await Comment.filter(ticket_id=ticket.id).exists()


async def test_a_state_change_of_three_tickets_says_so_once_and_refreshes_the_list(client):
    agent = await make_agent()
    chosen = [await make_ticket(actor=agent) for _ in range(3)]
    await sign_in(client, agent)
    token = await csrf_token(client, "/queues/open")
    form = {"csrf_token": token, "action": "state", "state": str(await pending_id()), "next": "/queues/open"}
    form["ticket"] = [t.human_id for t in chosen]
    response = await post(client, form, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and html.count("3 updated") == 1 and 'role="status"' in html
    assert '<form id="queues-bulk"' in html
    assert "queue-changed" in json.loads(response.headers["HX-Trigger"])
    for ticket in chosen:
        assert (await Ticket.get(id=ticket.id)).state_id == await pending_id()
        assert await TicketHistory.filter(ticket_id=ticket.id, field="state").count() == 1


async def test_without_javascript_it_goes_back_to_the_queue_which_says_what_happened_once(client):
    agent = await make_agent()
    kept, gone = await make_ticket(actor=agent), await make_ticket(actor=agent)
    await Ticket.filter(id=gone.id).update(deleted_at=kept.created_at)
    await sign_in(client, agent)
    token = await csrf_token(client, "/queues/open")
    form = {"csrf_token": token, "action": "note", "body": "Outage", "next": "/queues/open?state=1"}
    form["ticket"] = [kept.human_id, gone.human_id]
    response = await post(client, form)
    assert response.status_code == 303 and response.headers["Location"] == "/queues/open?state=1"
    html = await (await client.get("/queues/open")).get_data(as_text=True)
    assert (
        f"1 updated, 1 refused: {gone.human_id}: No ticket {gone.human_id}." in html
        and 'role="alert"' in html
    )
    again = await (await client.get("/queues/open")).get_data(as_text=True)
    assert "1 updated" not in again
    assert await Comment.filter(ticket_id=kept.id, internal=True).count() == 1


async def test_next_never_leaves_the_site(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    token = await csrf_token(client, "/queues/open")
    form = {"csrf_token": token, "action": "assignee", "assignee": str(agent.id), "ticket": ticket.human_id}
    response = await post(client, form | {"next": "//evil.example/"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert (await Ticket.get(id=ticket.id)).assignee_id == agent.id


async def test_bad_input_is_a_422_form_with_the_selection_kept(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    token = await csrf_token(client, "/queues/open")
    cases = [
        ({"action": "reply", "body": " "}, "The message is empty."),
        ({"action": "explode"}, "Not a valid choice"),
        ({"action": "state", "state": "abc"}, "Not a valid integer value"),
        ({"action": "state", "state": "99999999999"}, "is not an id"),
    ]
    for changes, text in cases:
        form = {"csrf_token": token, "ticket": ticket.human_id} | changes
        response = await post(client, form)
        html = await response.get_data(as_text=True)
        assert response.status_code == 422, (changes, html)
        assert text in html and f'type="hidden" name="ticket" value="{ticket.human_id}"' in html
    nothing = await post(client, {"csrf_token": token, "action": "note", "body": "x"})
    assert nothing.status_code == 422 and "Select at least one ticket." in await nothing.get_data(
        as_text=True
    )
    forged = await post(client, {"csrf_token": "x", "action": "note", "body": "x"})
    assert forged.status_code == 400
    assert not await Comment.filter(ticket_id=ticket.id).exists()
    assert await TicketHistory.filter(ticket_id=ticket.id).count() == 1


async def test_a_selection_over_the_bound_is_refused_whole(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    token = await csrf_token(client, "/queues/open")
    ids = [ticket.human_id] + [f"INC-{n}" for n in range(1000, 1101)]
    form = {"csrf_token": token, "action": "note", "body": "x", "ticket": ids}
    response = await post(client, form, htmx=True)
    assert response.status_code == 422 and "At most 100" in await response.get_data(as_text=True)
    assert not await Comment.filter(ticket_id=ticket.id).exists()
