"""The ticket page's quicker tools on screen (issue 16 tool 7)."""

import json
from datetime import UTC, datetime, timedelta

from helpdesk.models import Comment, State, StateKind, Ticket, User
from helpdesk.services import tickets
from helpdesk.web import pages
from tests.factories import make_agent, make_customer, make_ticket
from tests.web.conftest import HTMX, csrf_token, sign_in


async def test_assign_to_me_from_the_header(client):
    agent, ticket = await make_agent(name="Priya"), await make_ticket()
    await sign_in(client, agent)
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert 'id="assign-to-me"' in html and "Press <kbd>?</kbd>" in html and "ticket_keys.js" in html
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    response = await client.post(
        f"/tickets/{ticket.human_id}/assign-to-me", form={"csrf_token": token}, headers=HTMX
    )
    assert response.status_code == 200 and '<section id="tickets-header"' in await response.get_data(
        as_text=True
    )
    assert set(json.loads(response.headers["HX-Trigger"])) == {"ticket-changed", "ticket-fields-stale"}
    assert (await Ticket.get(id=ticket.id)).assignee_id == agent.id
    after = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert 'id="assign-to-me"' not in after  # already mine
    plain = await client.post(f"/tickets/{ticket.human_id}/assign-to-me", form={"csrf_token": token})
    assert plain.status_code == 303


async def test_customers_get_no_agent_tools(client):
    ticket = await make_ticket()
    await sign_in(client, await make_customer("ORG-1", human_id="USR-5"))
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    for tool in ("assign-to-me", "ticket_keys.js", "then_state", "queues-bulk"):
        assert tool not in html
    token = await csrf_token(client, "/account")
    response = await client.post(f"/tickets/{ticket.human_id}/assign-to-me", form={"csrf_token": token})
    assert response.status_code == 403 and (await Ticket.get(id=ticket.id)).assignee_id is None
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    form = {"csrf_token": token, "body": "hi", "visibility": "public", "then_state": str(pending.id)}
    response = await client.post(f"/tickets/{ticket.human_id}/comments", form=form, headers=HTMX)
    assert response.status_code == 403
    assert (await Ticket.get(id=ticket.id)).state_id != pending.id
    assert not await Comment.filter(ticket_id=ticket.id).exists()


async def test_send_and_set_state_in_one_step(client):
    agent, ticket = await make_agent(), await make_ticket()
    await sign_in(client, agent)
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert 'name="then_state"' in html and "Keep the state" in html
    token = await csrf_token(client, f"/tickets/{ticket.human_id}")
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    form = {
        "csrf_token": token,
        "body": "Waiting on you",
        "visibility": "public",
        "then_state": str(pending.id),
    }
    response = await client.post(f"/tickets/{ticket.human_id}/comments", form=form, headers=HTMX)
    assert response.status_code == 200
    assert {"comment-added", "ticket-changed", "ticket-fields-stale"} <= set(
        json.loads(response.headers["HX-Trigger"])
    )
    assert (await Ticket.get(id=ticket.id)).state_id == pending.id
    bad = form | {"then_state": "99999999999"}
    response = await client.post(f"/tickets/{ticket.human_id}/comments", form=bad, headers=HTMX)
    assert response.status_code == 422
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    response = await client.post(
        f"/tickets/{ticket.human_id}/comments", form=form | {"then_state": str(priority.id)}, headers=HTMX
    )
    assert response.status_code == 422 and "is not a state" in await response.get_data(as_text=True)
    assert await Comment.filter(ticket_id=ticket.id).count() == 1


async def test_the_thread_shows_the_newest_and_the_rest_on_request(client):
    agent, ticket = await make_agent(), await make_ticket()
    for n in range(25):
        await tickets.post_comment(human_id=ticket.human_id, body=f"comment number {n:02}", actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="secret note", actor=agent, internal=True)
    await sign_in(client, agent)
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    html = page.split('<section id="tickets-thread"')[1].split('<section id="tickets-reply"')[0]
    assert "comment number 24" in html and "comment number 05" not in html and "Show 6 older" in html
    whole = await client.get(f"/tickets/{ticket.human_id}/thread/all", headers=HTMX)
    text = await whole.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="tickets-thread"') and "comment number 00" in text
    assert "older" not in text
    await sign_in(client, await make_customer("ORG-1"))
    text = await (await client.get(f"/tickets/{ticket.human_id}/thread/all", headers=HTMX)).get_data(
        as_text=True
    )
    assert "comment number 00" in text and "secret note" not in text
    await sign_in(client, await make_customer("ORG-2"))
    assert (await client.get(f"/tickets/{ticket.human_id}/thread/all")).status_code == 404


async def test_the_reporter_shows_by_name(client):
    await make_customer("ORG-1", name="Wile <E> Coyote", human_id="USR-42")
    ticket = await make_ticket(reporter_hid="USR-42")
    await sign_in(client, await make_agent())
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "Wile &lt;E&gt; Coyote <small>(USR-42)</small>" in html


async def test_times_show_in_the_agents_time_zone_relative_when_recent(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await Ticket.filter(id=ticket.id).update(created_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    await sign_in(client, agent)
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "2026-07-01 12:00 UTC" in html and 'datetime="2026-07-01T12:00:00+00:00"' in html
    assert ">just now</time>" in html  # updated a moment ago
    token = await csrf_token(client, "/account")
    response = await client.post(
        "/account/time-zone", form={"csrf_token": token, "time_zone": "Europe/Berlin"}
    )
    assert response.status_code == 303 and (await User.get(id=agent.id)).time_zone == "Europe/Berlin"
    html = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "2026-07-01 14:00 CEST" in html
    page = await (await client.get("/account")).get_data(as_text=True)
    assert 'value="Europe/Berlin"' in page and "Your time zone is saved" not in page


async def test_an_unknown_time_zone_is_a_422_on_the_account_page(client):
    agent = await make_agent()
    await sign_in(client, agent)
    token = await csrf_token(client, "/account")
    response = await client.post(
        "/account/time-zone", form={"csrf_token": token, "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 422 and "is not a time zone" in await response.get_data(as_text=True)
    assert (await User.get(id=agent.id)).time_zone == ""


def test_ago_reads_short_and_falls_back_to_the_date(app):
    now = datetime.now(UTC)
    assert pages.ago(now - timedelta(seconds=5)) == "just now"
    assert pages.ago(now - timedelta(minutes=5, seconds=2)) == "5 min ago"
    assert pages.ago(now - timedelta(hours=3, minutes=1)) == "3 h ago"
    assert pages.ago(now - timedelta(days=2, minutes=1)) == "2 d ago"
    assert pages.ago(datetime(2020, 1, 2, 3, 4, tzinfo=UTC)) == "2020-01-02 03:04 UTC"
