"""The reports dashboard: page vs board partial, panels, who may see it, the CSV download, escaping."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape

from helpdesk.models import Group, Ticket
from helpdesk.services.users import create_token
from tests.factories import make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import HTMX, sign_in

PANELS = (
    "headline",
    "created_resolved",
    "open_by_state",
    "open_by_priority",
    "open_by_group",
    "organisations",
)


async def test_page_and_board_partial_differ_and_vary(client):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    # Inside the week asked for below, whatever day the test runs on.
    await Ticket.filter(id=ticket.id).update(created_at=datetime(2026, 11, 25, 12, tzinfo=UTC))
    await sign_in(client, agent)
    page = await client.get("/reports?period=weekly&date=2026-11-25")
    partial = await client.get("/reports?period=weekly&date=2026-11-25", headers=HTMX)
    page_html, partial_html = await page.get_data(as_text=True), await partial.get_data(as_text=True)
    assert "<html" in page_html and "<title>Reports · Helpdesk</title>" in page_html
    assert "<html" not in partial_html and partial_html.lstrip().startswith('<div id="dashboard-board"')
    assert "23 Nov – 29 Nov 2026" in partial_html and "2026-W48" in partial_html
    assert partial_html.count("<svg") == 5
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in partial.headers["Vary"]


@pytest.mark.parametrize("name", PANELS)
async def test_each_panel_is_its_own_partial_named_after_its_target(client, name):
    agent = await make_agent()
    await make_ticket(actor=agent)
    await sign_in(client, agent)
    response = await client.get(f"/reports/panels/{name}?period=monthly", headers=HTMX)
    html = (await response.get_data(as_text=True)).lstrip()
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    target = f"dashboard-{name.replace('_', '-')}"
    assert html.startswith(f'<section id="{target}"')
    assert (
        f'hx-get="/reports/panels/{name}?period=monthly&amp;date=' in html
        and 'hx-trigger="every 60s"' in html
    )


async def test_unknown_panel_and_bad_period_or_date(client):
    await sign_in(client, await make_agent())
    assert (await client.get("/reports/panels/secrets")).status_code == 404
    assert (await client.get("/reports?period=daily")).status_code == 400
    assert (await client.get("/reports?date=yesterday")).status_code == 400


async def test_period_links_step_and_push_the_url(client):
    await sign_in(client, await make_agent())
    html = await (await client.get("/reports?period=monthly&date=2026-03-10")).get_data(as_text=True)
    assert "March 2026" in html
    previous = re.search(r'<a href="([^"]+)" hx-get="\1" hx-target="#dashboard-board"[^>]*rel="prev"', html)
    assert previous and previous.group(1) == "/reports?period=monthly&amp;date=2026-02-28"
    assert 'href="/reports?period=monthly&amp;date=2026-04-01"' in html and 'hx-push-url="true"' in html
    assert 'href="/reports?period=weekly&amp;date=2026-03-01"' in html


async def test_customers_get_404_and_no_nav_link(client):
    customer = await make_customer()
    await sign_in(client, customer)
    for path in ("/reports", "/reports/panels/headline", "/reports/download"):
        assert (await client.get(path)).status_code == 404, path
    home = await (await client.get("/")).get_data(as_text=True)
    assert 'href="/reports"' not in home


async def test_agents_see_the_nav_link(client):
    await sign_in(client, await make_agent())
    assert 'href="/reports">Reports</a>' in await (await client.get("/")).get_data(as_text=True)


async def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/reports?period=weekly", "/reports/download"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=")
    assert (await client.get("/reports/panels/headline", headers=HTMX)).headers["HX-Redirect"]


async def test_download_is_the_apis_csv(client):
    agent = await make_agent()
    await make_organisation("ORG-1", name="=cmd|' /C calc'!A0")
    today = "2026-03-10"  # a fixed day: the tickets below are placed in its month, whatever the clock says
    for n in range(3):
        ticket = await make_ticket(actor=agent, title=f"T{n}", description=f'Line one\nline {n}, "quoted"')
        # Resolved, so the run-time column does not depend on the second each download runs in.
        created = datetime(2026, 3, 10, 12, n, tzinfo=UTC)
        await Ticket.filter(id=ticket.id).update(created_at=created, resolved_at=created + timedelta(hours=1))
    await sign_in(client, agent)
    response = await client.get(f"/reports/download?period=monthly&date={today}")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="tickets-{today[:7]}.csv"'
    token = await create_token(user=agent, name="test", actor=None)
    api = await client.get(
        f"/api/reporting/tickets/download?period=monthly&date={today}",
        headers={"Authorization": f"Bearer {token}"},
    )
    rows = list(csv.reader(io.StringIO(body)))
    assert rows == list(csv.reader(io.StringIO(await api.get_data(as_text=True))))
    assert len(rows) == 4 and rows[1][1] == "'=cmd|' /C calc'!A0" and rows[1][-1] == "01:00:00"


async def test_user_text_is_escaped_in_charts_and_tables(client):
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    agent = await make_agent()
    await make_organisation("ORG-1", name=payload)
    group = await Group.create(name=payload)
    ticket = await make_ticket(actor=agent, group_id=group.id)
    await Ticket.filter(id=ticket.id).update(created_at=datetime.now(UTC))
    await sign_in(client, agent)
    for headers in ({}, HTMX):
        html = await (await client.get("/reports", headers=headers)).get_data(as_text=True)
        assert payload not in html and "<script>alert" not in html
        assert html.count(str(escape(payload))) >= 6  # org and group: svg title, bar title, label/table


async def test_a_past_period_says_its_open_panels_are_now_and_steps_read_apart(client):
    """Viewing November, "Open tickets by …" showed the present unlabelled; Previous/Next looked alike."""
    await sign_in(client, await make_agent())
    past = await (await client.get("/reports?period=monthly&date=2026-11-01", headers=HTMX)).get_data(
        as_text=True
    )
    for what in ("state", "priority", "group"):
        assert f'Open tickets by {what} <small class="now">now</small></h2>' in past
    assert re.search(r'rel="prev" class="period-prev">← Previous month</a>', past)
    assert re.search(
        r'href="[^"]*date=2026-12-01[^"]*"[^>]*rel="next" class="period-next">Next month →</a>', past
    )
    today = await (await client.get("/reports?period=weekly", headers=HTMX)).get_data(as_text=True)
    assert (
        '<span class="button period-next disabled" aria-disabled="true"' in today
        and ">Next week →</span>" in today
    )
    assert 'class="period-next">' not in today.replace('class="button period-next disabled"', "")


async def test_the_board_filters_by_group_and_organisation_as_the_report_api_does(client):
    await make_organisation("ORG-1", name="Acme Trading")
    await make_organisation("ORG-2", name="Globex")
    agent = await make_agent()
    desk = await Group.create(name="Service desk")
    await make_ticket(actor=agent, organisation_hid="ORG-1", group_id=desk.id)
    await make_ticket(actor=agent, organisation_hid="ORG-1")
    await make_ticket(actor=agent, organisation_hid="ORG-2", group_id=desk.id)
    await sign_in(client, agent)

    async def created(query: str) -> str:
        html = await (await client.get(f"/reports?period=weekly&{query}", headers=HTMX)).get_data(
            as_text=True
        )
        return re.search(r"<dt>Created</dt><dd>(\d+)</dd>", html).group(1)

    assert await created("") == "3"
    assert await created(f"group={desk.id}") == "2"
    assert await created("organisation=Acme Trading") == "2"
    assert await created(f"organisation=ORG-2&group={desk.id}") == "1"
    board = await (await client.get(f"/reports?period=weekly&group={desk.id}", headers=HTMX)).get_data(
        as_text=True
    )
    assert f'<option value="{desk.id}" selected>Service desk</option>' in board
    assert "/reports/panels/headline?period=weekly&amp;date=" in board and f"group={desk.id}" in board
    panel = await client.get(f"/reports/panels/headline?period=weekly&group={desk.id}&organisation=ORG-1")
    assert "<dt>Open now</dt><dd>1</dd>" in await panel.get_data(as_text=True)
    download = await client.get("/reports/download?period=weekly&organisation=Globex")
    rows = list(csv.DictReader(io.StringIO(await download.get_data(as_text=True))))
    assert len(rows) == 1
    assert (await client.get("/reports?group=abc")).status_code == 400
