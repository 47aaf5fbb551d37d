"""The live ticket page's requests: the heartbeat names who else is here (agents only), a draft is
saved and restored, a reply against an older thread is a 409 with the new replies and the choice to
send anyway, and nobody may post presence or drafts for a ticket they cannot see."""

import re

from helpdesk.models import Comment, ReplyDraft, TicketPresence
from helpdesk.services import tickets
from tests.factories import make_agent, make_customer, make_ticket
from tests.web.conftest import csrf_from, sign_in

HTMX = {"HX-Request": "true"}


async def open_ticket(client, ticket) -> tuple[str, str]:
    """The ticket page as the client's user sees it, and a CSRF token from it."""
    response = await client.get(f"/tickets/{ticket.human_id}")
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    return html, csrf_from(html)


def seen_through(html: str) -> str:
    return re.search(r'name="seen_through" type="hidden" value="(\d+)"', html).group(1)


async def test_the_heartbeat_names_the_other_agents_on_the_ticket(app):
    tom, ann = await make_agent(name="Tom Okafor"), await make_agent(name="Ann Lee")
    ticket = await make_ticket(actor=tom)
    toms, anns = app.test_client(), app.test_client()
    await sign_in(toms, tom)
    await sign_in(anns, ann)
    _, token = await open_ticket(toms, ticket)
    first = await toms.post(f"/tickets/{ticket.human_id}/presence", form={"csrf_token": token}, headers=HTMX)
    assert first.status_code == 200 and "Also here" not in await first.get_data(as_text=True)
    _, ann_token = await open_ticket(anns, ticket)
    form = {"csrf_token": ann_token, "typing": "y"}
    await anns.post(f"/tickets/{ticket.human_id}/presence", form=form, headers=HTMX)
    again = await toms.get(f"/tickets/{ticket.human_id}/presence", headers=HTMX)
    html = await again.get_data(as_text=True)
    assert 'id="tickets-presence"' in html and "Ann Lee" in html and "writing a reply" in html
    left = await anns.post(f"/tickets/{ticket.human_id}/presence/leave", form={"csrf_token": ann_token})
    assert left.status_code == 204
    after = await toms.get(f"/tickets/{ticket.human_id}/presence", headers=HTMX)
    assert "Ann Lee" not in await after.get_data(as_text=True)


async def test_a_heartbeat_without_its_token_writes_nothing(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    response = await client.post(f"/tickets/{ticket.human_id}/presence", form={}, headers=HTMX)
    assert response.status_code == 400 and await TicketPresence.all().count() == 0


async def test_a_customer_is_shown_no_one(app):
    agent, customer = await make_agent(name="Tom Okafor"), await make_customer()
    ticket = await make_ticket(actor=agent)
    agents, customers = app.test_client(), app.test_client()
    await sign_in(agents, agent)
    await sign_in(customers, customer)
    _, token = await open_ticket(agents, ticket)
    await agents.post(f"/tickets/{ticket.human_id}/presence", form={"csrf_token": token}, headers=HTMX)
    _, token = await open_ticket(customers, ticket)
    seen = await customers.post(
        f"/tickets/{ticket.human_id}/presence", form={"csrf_token": token}, headers=HTMX
    )
    assert seen.status_code == 200 and "Tom Okafor" not in await seen.get_data(as_text=True)


async def test_presence_and_drafts_on_a_ticket_one_cannot_see_are_404(client):
    ticket = await make_ticket()
    await sign_in(client, await make_customer(organisation_hid="ORG-2"))
    token = csrf_from(await (await client.get("/tickets/new")).get_data(as_text=True))
    for path, form in (("presence", {}), ("presence/leave", {}), ("draft", {"body": "Hi"})):
        response = await client.post(f"/tickets/{ticket.human_id}/{path}", form={"csrf_token": token} | form)
        assert response.status_code == 404, path
    assert (await client.get(f"/tickets/{ticket.human_id}/presence")).status_code == 404
    assert await TicketPresence.all().count() == 0 and await ReplyDraft.all().count() == 0


async def test_a_draft_is_saved_restored_on_the_page_and_cleared_by_posting(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    html, token = await open_ticket(client, ticket)
    form = {"csrf_token": token, "body": "Half <b>written</b>", "visibility": "internal"}
    saved = await client.post(f"/tickets/{ticket.human_id}/draft", form=form, headers=HTMX)
    assert saved.status_code == 204
    html, _ = await open_ticket(client, ticket)
    assert "Half &lt;b&gt;written&lt;/b&gt;</textarea>" in html
    assert re.search(r'value="internal" checked|checked[^>]*value="internal"', html)
    too_long = await client.post(f"/tickets/{ticket.human_id}/draft", form=form | {"body": "x" * 20001})
    assert too_long.status_code == 422
    form = {"csrf_token": token, "body": "Done", "visibility": "public", "seen_through": seen_through(html)}
    posted = await client.post(f"/tickets/{ticket.human_id}/comments", form=form, headers=HTMX)
    assert posted.status_code == 200 and await ReplyDraft.all().count() == 0


async def test_a_reply_after_another_is_409_with_the_new_replies_then_sent_anyway_once(client):
    agent, other = await make_agent(), await make_agent(name="Ann Lee")
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    html, token = await open_ticket(client, ticket)
    await tickets.post_comment(human_id=ticket.human_id, body="Ann's <reply>", actor=other)
    form = {"csrf_token": token, "body": "Mine", "visibility": "public", "seen_through": seen_through(html)}
    refused = await client.post(f"/tickets/{ticket.human_id}/comments", form=form, headers=HTMX)
    text = await refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Ann Lee" in text and "Ann&#39;s &lt;reply&gt;" in text and "Send anyway" in text
    assert "comment-added" in refused.headers["HX-Trigger"]
    assert "Mine</textarea>" in text  # the reply is kept
    assert await Comment.filter(ticket_id=ticket.id, body="Mine").count() == 0
    anyway = await client.post(
        f"/tickets/{ticket.human_id}/comments", form=form | {"send_anyway": "y"}, headers=HTMX
    )
    assert anyway.status_code == 200
    # "Edit" then send: the form now names the newest reply it showed, so it goes through too
    newest = seen_through(text)
    again = await client.post(
        f"/tickets/{ticket.human_id}/comments",
        form=form | {"body": "Edited", "seen_through": newest},
        headers=HTMX,
    )
    assert again.status_code == 200
    bodies = [c.body for c in await Comment.filter(ticket_id=ticket.id).order_by("id")]
    assert bodies.count("Mine") == 1 and bodies.count("Edited") == 1
