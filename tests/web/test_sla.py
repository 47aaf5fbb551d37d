"""Service levels on the desk's screens (issue 17 items 3-4): the queue's SLA column and its sort,
the "Due soon / breached" queue, the ticket's due times and their explanation, the dashboard's
figures. Customers see nothing of any of it."""

import re
from datetime import UTC, datetime, timedelta

from helpdesk.models import SlaCalendar, SlaPolicy, State, Ticket
from helpdesk.services import sla, ticket_queries
from helpdesk.web.pages import badge
from helpdesk.web.sla import Shown, row_shown, sla_badge, span
from tests.factories import make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import HTMX, sign_in
from tests.web.test_queues import count_of, ids

ALWAYS = "Mon-Sun 00:00-24:00"


async def make_policy(name: str = "Standard", **targets) -> SlaPolicy:
    """A policy for every ticket on a round-the-clock calendar: 1 h first response, 8 h resolution."""
    calendar = await SlaCalendar.create(name=f"{name} hours", time_zone="UTC", hours=ALWAYS)
    minutes = {"first_response_minutes": 60, "resolution_minutes": 480} | targets
    return await SlaPolicy.create(name=name, calendar=calendar, **minutes)


async def set_clocks(ticket, **columns) -> None:
    """Give a ticket the stored SLA columns the timer and the ticket services keep (services/sla.py),
    so a screen's reading of them is tested on its own."""
    await Ticket.filter(id=ticket.id).update(**columns)


def now() -> datetime:
    return datetime.now(UTC)


def sla_cells(html: str) -> dict[str, str]:
    """Each row's SLA cell text (tags stripped), by ticket."""
    rows = re.findall(r'<tr class="ticket-row">(.*?)</tr>', html, re.DOTALL)
    cells = {}
    for row in rows:
        human_id = re.search(r'class="ticket-link" href="/tickets/(INC-\d+)"', row).group(1)
        cell = re.search(r'<td class="sla-cell">(.*?)</td>', row, re.DOTALL)
        cells[human_id] = cell and cell.group(1)
    return cells


def words(cell: str) -> str:
    """What the cell says, its phone label aside."""
    cell = cell.replace('<span class="cell-label">SLA</span>', "")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()


def test_a_glance_reads_a_length_in_its_two_largest_units():
    assert span(timedelta(hours=2, minutes=10, seconds=5)) == "2 h 10 min"
    assert span(timedelta(days=165, hours=15, minutes=21)) == "165 d 15 h"
    assert span(timedelta(days=2, minutes=5)) == "2 d"
    assert span(timedelta(seconds=-2100)) == "35 min"
    assert span(timedelta(seconds=20)) == "under a minute"
    assert span(timedelta(hours=3)) == "3 h" and span(timedelta(days=1, hours=1)) == "1 d 1 h"


async def test_badges_escape_what_they_show(app):
    at = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    async with app.test_request_context("/"):
        timed = sla_badge(Shown("warning", "due <soon> & later", at))
        assert timed == (
            '<span class="badge sla sla-warning"><span class="visually-hidden">Warning: </span>'
            '<time datetime="2026-12-06T09:30:00+00:00" title="2026-12-06 09:30 UTC">'
            "due &lt;soon&gt; &amp; later</time></span>"
        )
        assert sla_badge(Shown("paused", "paused")) == '<span class="badge sla sla-paused">paused</span>'
    state = State(description='P1 "<b>Critical</b>"', closes=False)
    assert badge(state, "priority") == (
        '<span class="badge badge-priority badge-urgent">P1 &#34;&lt;b&gt;Critical&lt;/b&gt;&#34;</span>'
    )
    assert badge(State(description="Closed", closes=True), "state") == (
        '<span class="badge badge-state badge-closed">Closed</span>'
    )
    assert badge(None, "state") == ""


async def test_the_queue_shows_the_earliest_due_coloured_by_state(app, client):
    agent, policy = await make_agent(), await make_policy()
    late, soon, fine, none = [await make_ticket(actor=agent, title=f"T{n}") for n in range(4)]
    moment, minutes = now(), lambda n: timedelta(minutes=n, seconds=20 if n > 0 else -20)
    for ticket, (due, warn) in {late: (-35, -60), soon: (20, -5), fine: (130, 60)}.items():
        await set_clocks(
            ticket,
            sla_policy_id=policy.id,
            sla_due_at=moment + minutes(due),
            sla_warn_at=moment + minutes(warn),
        )
    await set_clocks(none, sla_policy_id=None, sla_due_at=None, sla_warn_at=None)
    await sign_in(client, agent)
    html = await (await client.get("/queues/open", headers=HTMX)).get_data(as_text=True)
    cells = sla_cells(html)
    assert "sla-breached" in cells[late.human_id] and words(cells[late.human_id]) == "breached 35 min ago"
    assert "sla-warning" in cells[soon.human_id] and words(cells[soon.human_id]) == "Warning: due in 20 min"
    assert "sla-ok" in cells[fine.human_id] and words(cells[fine.human_id]) == "due in 2 h 10 min"
    assert words(cells[none.human_id]) == "—"
    # The due moment itself is on hover, in the agent's time zone, and to machines
    hover = r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">due in 2 h'
    assert re.search(hover, cells[fine.human_id])
    # Labelled on the phone card like every other value
    assert '<span class="cell-label">SLA</span>' in cells[fine.human_id]
    # The row shows sla_badge's markup (web/sla.py): the same as the ticket's clocks show
    async with app.test_request_context("/"):
        for ticket in (late, soon, fine, none):
            row = await ticket_queries.select_one(ticket.id)
            badge_html = sla_badge(row_shown(row, {}))
            assert cells[ticket.human_id] == f'<span class="cell-label">SLA</span>{badge_html}'


async def test_resolved_and_paused_tickets_say_so(client):
    from helpdesk.models import State, StateKind

    agent, policy = await make_agent(), await make_policy()
    waiting = await State.create(kind=StateKind.STATE, description="Waiting for customer", pauses_sla=True)
    paused = await make_ticket(actor=agent, classification={"state": waiting.id})
    await set_clocks(paused, sla_policy_id=policy.id, sla_due_at=None, sla_warn_at=None)
    met, breached = await make_ticket(actor=agent), await make_ticket(actor=agent)
    for ticket, late in ((met, False), (breached, True)):
        await set_clocks(ticket, sla_policy_id=policy.id, resolved_at=now(), sla_due_at=None)
        await set_clocks(ticket, sla_breached=late)
    await sign_in(client, agent)
    open_ = sla_cells(await (await client.get("/queues/open", headers=HTMX)).get_data(as_text=True))
    assert words(open_[paused.human_id]) == "paused" and "sla-paused" in open_[paused.human_id]
    done = sla_cells(await (await client.get("/queues/resolved", headers=HTMX)).get_data(as_text=True))
    assert words(done[met.human_id]) == "met" and words(done[breached.human_id]) == "breached"


async def test_the_queue_sorts_by_due_most_urgent_first_and_pages_by_keyset(client, monkeypatch):
    agent, policy = await make_agent(), await make_policy()
    made = [await make_ticket(actor=agent, title=f"T{n}") for n in range(6)]
    base, later = now() + timedelta(hours=1), timedelta(minutes=30)
    dues = [base + later, None, base, base + later, None, base - 6 * later]
    for ticket, due in zip(made, dues, strict=True):
        await set_clocks(ticket, sla_policy_id=policy.id if due else None, sla_due_at=due)
    monkeypatch.setattr("helpdesk.web.queues.PAGE_SIZE", 2)
    await sign_in(client, agent)

    async def walk(sort: str) -> list[str]:
        html = await (await client.get(f"/queues/open?sort={sort}", headers=HTMX)).get_data(as_text=True)
        found = ids(html)
        while cursor := re.search(r'href="[^"]*cursor=([^"&]+)', html):
            more = await client.get(f"/queues/open?sort={sort}&cursor={cursor.group(1)}", headers=HTMX)
            html = await more.get_data(as_text=True)
            found += ids(html)
        return found

    h = [t.human_id for t in made]
    for size in (2, 3, 4, 5):  # pages that end before, across and after the tickets without a due
        monkeypatch.setattr("helpdesk.web.queues.PAGE_SIZE", size)
        # Ascending: overdue first, then soonest; equal dues by id; tickets without a due last
        assert await walk("due") == [h[5], h[2], h[0], h[3], h[1], h[4]], size
        assert await walk("-due") == [h[3], h[0], h[2], h[5], h[4], h[1]], size
    html = await (await client.get("/queues/open?sort=due", headers=HTMX)).get_data(as_text=True)
    assert 'aria-sort="ascending"' in html and ">SLA ▲</a>" in html


async def test_customers_see_no_sla_in_their_queue_nor_sort_by_it(client):
    await make_organisation("ORG-1")
    agent, customer, policy = await make_agent(), await make_customer("ORG-1"), await make_policy()
    first, second = await make_ticket(actor=agent), await make_ticket(actor=agent)
    await set_clocks(first, sla_policy_id=policy.id, sla_due_at=now() - timedelta(hours=1))
    await set_clocks(second, sla_policy_id=policy.id, sla_due_at=now() + timedelta(hours=1))
    await sign_in(client, customer)
    html = await (await client.get("/queues/open?sort=due", headers=HTMX)).get_data(as_text=True)
    assert ids(html) == [second.human_id, first.human_id]  # newest first, as by default
    assert "sla" not in html.lower()
    page = await (await client.get("/queues/open")).get_data(as_text=True)
    assert "Due soon" not in page
    assert (await client.get("/queues/due")).status_code == 404


async def test_the_due_soon_queue_holds_open_tickets_past_their_warning_with_its_count(client):
    agent, policy = await make_agent(), await make_policy()
    overdue, warned, calm, resolved, _without = [await make_ticket(actor=agent) for _ in range(5)]
    moment = now()
    clocks = {
        overdue: (moment - timedelta(hours=2), moment - timedelta(hours=1)),
        warned: (moment - timedelta(minutes=1), moment + timedelta(minutes=10)),
        calm: (moment + timedelta(hours=1), moment + timedelta(hours=2)),
        resolved: (moment - timedelta(hours=2), moment - timedelta(hours=1)),
    }
    for ticket, (warn, due) in clocks.items():
        await set_clocks(ticket, sla_policy_id=policy.id, sla_warn_at=warn, sla_due_at=due)
    await set_clocks(resolved, resolved_at=moment)
    await sign_in(client, agent)
    html = await (await client.get("/queues/due", headers=HTMX)).get_data(as_text=True)
    assert ids(html) == [overdue.human_id, warned.human_id]  # most urgent first
    nav = await (await client.get("/queues/due/counts", headers=HTMX)).get_data(as_text=True)
    link = re.search(r'<a href="/queues/due"[^>]*>(.*?)</a>', nav, re.DOTALL).group(1)
    assert "Due soon / breached" in link and count_of(2) in link
    assert 'aria-current="page"' in re.search(r'<a href="/queues/due"[^>]*>', nav).group(0)


async def test_the_ticket_page_shows_each_target_and_explains_it_to_agents_only(client):
    await make_organisation("ORG-1")
    agent, customer = await make_agent(), await make_customer("ORG-1")
    ticket = await make_ticket(actor=agent, title="Printer on fire")
    await make_policy("Gold support")
    sla.policies_changed()  # as the admin screens do: the policy applies to the open tickets
    await sla.recompute_open()
    await sign_in(client, agent)
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    placeholder = re.search(r'<section id="tickets-clocks".*?</section>', page, re.DOTALL).group(0)
    # The page leaves the clocks to the panel's own request, which it makes once loaded
    assert (
        f'hx-get="/tickets/{ticket.human_id}/clocks"' in placeholder and 'hx-trigger="load, ' in placeholder
    )
    assert "First response" not in placeholder
    response = await client.get(f"/tickets/{ticket.human_id}/clocks", headers=HTMX)
    panel = await response.get_data(as_text=True)
    assert panel.lstrip().startswith('<section id="tickets-clocks"') and "load," not in panel
    assert "First response" in panel and "Resolution" in panel
    assert re.search(r'title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">due in (59 min|1 h)', panel), panel
    assert f'hx-get="/tickets/{ticket.human_id}/sla"' in panel and '<div id="tickets-sla"' in panel

    why = await client.get(f"/tickets/{ticket.human_id}/sla", headers=HTMX)
    html = await why.get_data(as_text=True)
    assert why.status_code == 200 and html.lstrip().startswith('<div id="tickets-sla"')
    assert "Gold support" in html and "Gold support hours" in html and ALWAYS in html
    assert "First response" in html and "<ol" in html
    whole = await (await client.get(f"/tickets/{ticket.human_id}/sla")).get_data(as_text=True)
    assert "<html" in whole and "Gold support" in whole  # without JavaScript: a page of its own

    await sign_in(client, customer)
    mine = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "Printer on fire" in mine and "tickets-clocks" not in mine and "Service level" not in mine
    for path in ("sla", "clocks"):
        refused = await client.get(f"/tickets/{ticket.human_id}/{path}", headers=HTMX)
        assert refused.status_code in (403, 404), path
        assert "Gold support" not in await refused.get_data(as_text=True)


async def test_a_ticket_no_policy_covers_says_so(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await sign_in(client, agent)
    panel = await (await client.get(f"/tickets/{ticket.human_id}/clocks", headers=HTMX)).get_data(
        as_text=True
    )
    assert "No SLA policy applies to this ticket." in panel


async def test_the_dashboard_counts_targets_met_and_breached_and_the_median_first_response(client):
    agent, policy = await make_agent(), await make_policy()
    moment, hour = datetime(2026, 11, 10, 12, 0, tzinfo=UTC), timedelta(hours=1)
    made = [await make_ticket(actor=agent, title=f"T{n}") for n in range(4)]
    fresh = {"first_response_due_at": None, "resolution_due_at": None, "resolved_at": None}
    # first response: met after 10 min, met late after 2 h, never (overdue), and one without a target
    clocks = [
        {"created_at": -1, "first_response_due_at": 0, "first_response_at": -5 / 6},
        {"created_at": -3, "first_response_due_at": -2, "first_response_at": -1,
         "resolved_at": 0, "resolution_due_at": 1},
        {"created_at": -2, "first_response_due_at": -1, "resolved_at": 0, "resolution_due_at": -1},
        {"created_at": -1, "first_response_at": -0.5},
    ]  # fmt: skip
    for ticket, hours in zip(made, clocks, strict=True):
        columns = fresh | {name: moment + hour * n for name, n in hours.items()}
        await set_clocks(
            ticket, sla_policy_id=policy.id if "first_response_due_at" in hours else None, **columns
        )
    await sign_in(client, agent)
    period = "period=monthly&date=2026-11-10"
    response = await client.get(f"/reports/panels/service_levels?{period}", headers=HTMX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="dashboard-service-levels"')
    row = r'<th scope="row">(.*?)</th><td class="num">(\d+)</td><td class="num">(\d+)</td>'
    found = re.findall(row, html)
    rows = {words(name): (int(met), int(late)) for name, met, late in found}
    assert rows == {"First response (tickets created)": (1, 2), "Resolution (tickets resolved)": (1, 1)}
    # the median of 10 min, 30 min and 2 h: every ticket answered, under a policy or not
    assert "<dt>Median first response</dt><dd>30m</dd>" in html, html
    board = await (await client.get(f"/reports?{period}")).get_data(as_text=True)
    assert 'id="dashboard-service-levels"' in board
    await sign_in(client, await make_customer())
    assert (await client.get(f"/reports/panels/service_levels?{period}", headers=HTMX)).status_code == 404
