"""Queues: page vs list partial, counts, filters, search, sorting, "Load more", customers' view."""

import re

from quart import url_for

from helpdesk.models import Group, State, StateKind, User
from helpdesk.services import tickets
from helpdesk.web import pages
from helpdesk.web.queues import _url_maker
from tests.factories import make_agent, make_customer, make_organisation, make_ticket
from tests.web.conftest import HTMX, sign_in


def count_of(n: int) -> str:
    """A queue's count in the menu: the number, with the words a screen reader adds around it."""
    return f'<span class="visually-hidden">, </span>{n}<span class="visually-hidden"> tickets</span>'


ROW = re.compile(r'class="ticket-link" href="/tickets/(INC-\d+)"')


def ids(html: str) -> list[str]:
    return ROW.findall(html)


async def test_queue_page_and_list_partial_differ_and_vary(client):
    agent = await make_agent()
    await make_ticket(actor=agent, title="Printer on fire")
    await sign_in(client, agent)
    page = await client.get("/queues/open")
    partial = await client.get("/queues/open", headers=HTMX)
    page_html, partial_html = await page.get_data(as_text=True), await partial.get_data(as_text=True)
    assert "<html" in page_html and 'id="queues-list"' in page_html
    assert "<html" not in partial_html and partial_html.lstrip().startswith('<div id="queues-list"')
    assert "Printer on fire" in partial_html
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in partial.headers["Vary"]


async def test_home_is_my_queue_and_its_menu_fetches_the_counts(client):
    agent = await make_agent()
    await make_ticket(actor=agent, title="Mine", assignee_id=agent.id)
    await make_ticket(actor=agent, title="Nobody's")
    await sign_in(client, agent)
    html = await (await client.get("/")).get_data(as_text=True)
    assert "<title>My open tickets · Helpdesk</title>" in html
    assert "Mine" in html and "Nobody&#39;s" not in html
    assert 'class="count"' not in html
    assert 'hx-get="/queues/mine/counts" hx-trigger="load"' in html
    menu = await client.get("/queues/mine/counts", headers=HTMX)
    counted = await menu.get_data(as_text=True)
    assert counted.lstrip().startswith('<nav id="queues-nav"') and "hx-trigger" not in counted
    assert '<a href="/queues/mine" aria-current="page">' in counted
    assert count_of(1) in counted  # mine
    assert count_of(2) in counted  # all open


async def test_counts_are_kept_briefly_by_the_browser_never_across_users(client):
    await sign_in(client, await make_agent())
    menu = await client.get("/queues/open/counts", headers=HTMX)
    assert menu.headers["Cache-Control"] == "private, max-age=5"
    assert {"Cookie", "HX-Request"} <= {v.strip() for v in menu.headers["Vary"].split(",")}
    assert (await client.get("/queues/group-999/counts", headers=HTMX)).status_code == 404


async def test_without_javascript_the_counts_link_gives_the_page_with_counts(client):
    agent = await make_agent()
    await make_ticket(actor=agent, title="Nobody's")
    await sign_in(client, agent)
    page = await (await client.get("/queues/open")).get_data(as_text=True)
    assert '<noscript><a class="counts-link" href="/queues/open/counts">' in page
    html = await (await client.get("/queues/open/counts")).get_data(as_text=True)
    assert "<html" in html and "Nobody&#39;s" in html and "noscript" not in html
    assert count_of(1) in html and 'hx-trigger="load"' not in html


async def test_customers_count_only_their_own_queues(client):
    await make_organisation("ORG-1")
    agent, customer = await make_agent(), await make_customer("ORG-1")
    await make_ticket(actor=agent, title="Ours", organisation_hid="ORG-1")
    await make_ticket(actor=agent, title="Theirs", organisation_hid="ORG-2")
    await sign_in(client, customer)
    counted = await (await client.get("/queues/open/counts", headers=HTMX)).get_data(as_text=True)
    assert count_of(1) in counted and "Service Desk" not in counted
    assert (await client.get("/queues/mine/counts", headers=HTMX)).status_code == 404


async def test_group_queues_and_unassigned(client):
    agent = await make_agent()
    group = await Group.get(name="Service Desk")
    await make_ticket(actor=agent, title="Grouped", group_id=group.id)
    await make_ticket(actor=agent, title="Loose", assignee_id=agent.id)
    await sign_in(client, agent)
    grouped = await (await client.get(f"/queues/group-{group.id}", headers=HTMX)).get_data(as_text=True)
    unassigned = await (await client.get("/queues/unassigned", headers=HTMX)).get_data(as_text=True)
    assert "Grouped" in grouped and "Loose" not in grouped
    assert "Grouped" in unassigned and "Loose" not in unassigned
    assert (await client.get("/queues/group-999")).status_code == 404


async def test_filters_and_search_narrow_the_list(client):
    agent = await make_agent()
    urgent = await State.get(kind=StateKind.PRIORITY, description="P1 - Priority 1")
    await make_ticket(actor=agent, title="Router melted", classification={"priority": urgent.id})
    await make_ticket(actor=agent, title="Mouse squeaks", description="squeaky")
    await sign_in(client, agent)
    by_priority = await client.get(f"/queues/open?priority={urgent.id}", headers=HTMX)
    assert "Router melted" in (html := await by_priority.get_data(as_text=True)) and "Mouse" not in html
    searched = await (await client.get("/queues/open?q=squeaky", headers=HTMX)).get_data(as_text=True)
    assert "Mouse squeaks" in searched and "Router" not in searched
    junk = await client.get("/queues/open?priority=abc&sort=evil", headers=HTMX)
    assert junk.status_code == 200 and len(ids(await junk.get_data(as_text=True))) == 2


async def test_sort_and_load_more_walk_every_ticket_once(client, monkeypatch):
    from helpdesk.web import queues

    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    agent = await make_agent()
    made = [(await make_ticket(actor=agent, title=f"T{n}")).human_id for n in range(5)]
    await sign_in(client, agent)
    html = await (await client.get("/queues/open?sort=id", headers=HTMX)).get_data(as_text=True)
    seen = ids(html)
    while match := re.search(r'hx-get="([^"]*cursor=[^"]+)"', html):
        more = await client.get(match.group(1).replace("&amp;", "&"), headers=HTMX)
        html = await more.get_data(as_text=True)
        assert "queues-list" not in html and "HX-Request" in more.headers["Vary"]
        seen += ids(html)
    assert seen == made


async def test_customers_see_only_their_organisation(client):
    await make_organisation("ORG-1")
    agent, customer = await make_agent(), await make_customer("ORG-1")
    await make_ticket(actor=agent, title="Ours", organisation_hid="ORG-1")
    await make_ticket(actor=agent, title="Theirs", organisation_hid="ORG-2")
    await sign_in(client, customer)
    html = await (await client.get("/")).get_data(as_text=True)
    assert "Ours" in html and "Theirs" not in html
    filtered = await client.get("/queues/open?organisation=ORG-2", headers=HTMX)
    assert "Theirs" not in await filtered.get_data(as_text=True)
    assert (await client.get("/queues/mine")).status_code == 404


async def test_recently_resolved(client):
    agent = await make_agent()
    done = await State.get(kind=StateKind.STATE, description="Resolved")
    ticket = await make_ticket(actor=agent, title="Fixed it")
    await make_ticket(actor=agent, title="Still broken")
    changes = tickets.TicketChanges(values={"state": done.id})
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    await sign_in(client, agent)
    html = await (await client.get("/queues/resolved", headers=HTMX)).get_data(as_text=True)
    assert "Fixed it" in html and "Still broken" not in html


async def test_a_queue_keeps_its_own_filter(client):
    agent, other = await make_agent(), await make_agent()
    await make_ticket(actor=agent, title="Someone else's", assignee_id=other.id)
    await sign_in(client, agent)
    html = await (await client.get(f"/queues/mine?assignee={other.id}", headers=HTMX)).get_data(as_text=True)
    assert "Someone else" not in html


async def test_history_restore_gets_the_whole_page(client):
    await sign_in(client, await make_agent())
    response = await client.get("/queues/open", headers=HTMX | {"HX-History-Restore-Request": "true"})
    assert "<html" in await response.get_data(as_text=True)
    assert "HX-History-Restore-Request" in response.headers["Vary"]


async def test_the_full_page_reads_the_groups_once(client):
    from tests.web.test_ticket_page_queries import logged_queries

    await sign_in(client, await make_agent())
    with logged_queries() as log:
        response = await client.get("/queues/open")
    assert response.status_code == 200 and "Service Desk" in await response.get_data(as_text=True)
    assert len(log.reads(re.compile(r'FROM "?agent_group"?\s'))) == 1, log.statements


async def test_a_search_sorted_by_date_walks_a_bounded_stretch_of_that_order(client, monkeypatch):
    from helpdesk.services import ticket_queries

    monkeypatch.setattr(ticket_queries, "SORTED_SEARCH_CANDIDATES", 3)
    await make_organisation("ORG-1")
    agent = await make_agent()
    made = [(await make_ticket(actor=agent, title=f"printer jam {n}")).human_id for n in range(5)]
    for user in (agent, await make_customer("ORG-1")):
        await sign_in(client, user)
        response = await client.get("/queues/open?q=printer&sort=dateCreated", headers=HTMX)
        assert ids(await response.get_data(as_text=True)) == made[:3]


async def test_the_organisation_filter_takes_a_name_and_suggests_names(client):
    """The filter took only an ID: typing "Acme" showed nothing."""
    await make_organisation("ORG-1", name="Acme Trading", legal_name="Acme Trading Ltd")
    await make_organisation("ORG-2", name="Globex", legal_name="Globex Corporation")
    agent = await make_agent()
    await make_ticket(actor=agent, title="Ours", organisation_hid="ORG-1")
    await make_ticket(actor=agent, title="Theirs", organisation_hid="ORG-2")
    await sign_in(client, agent)
    for typed in ("Acme Trading", "acme trading ltd", "acme", "ORG-1"):
        html = await (await client.get(f"/queues/open?organisation={typed}", headers=HTMX)).get_data(
            as_text=True
        )
        assert "Ours" in html and "Theirs" not in html, typed
    html = await (await client.get("/queues/open?organisation=nobody", headers=HTMX)).get_data(as_text=True)
    assert "No tickets match." in html
    page = await (await client.get("/queues/open")).get_data(as_text=True)
    assert 'list="queues-organisations"' in page and 'hx-get="/organisations/suggest"' in page
    suggested = await client.get("/organisations/suggest?organisation=glo", headers=HTMX)
    html = await suggested.get_data(as_text=True)
    assert html.lstrip().startswith('<datalist id="queues-organisations">')
    assert '<option value="Globex">ORG-2 · Globex Corporation</option>' in html and "Acme" not in html


async def test_customers_cannot_browse_the_organisation_directory(client):
    await make_organisation("ORG-2", name="Globex")
    await sign_in(client, await make_customer("ORG-1"))
    response = await client.get("/organisations/suggest?organisation=glo", headers=HTMX)
    assert response.status_code == 403 and "Globex" not in await response.get_data(as_text=True)


async def test_the_list_says_how_many_match_and_offers_to_clear_the_filters(client, monkeypatch):
    from helpdesk.services import queues

    agent = await make_agent()
    for n in range(4):
        await make_ticket(actor=agent, title=f"Printer {n}", organisation_hid="ORG-1" if n else "ORG-2")
    await sign_in(client, agent)
    monkeypatch.setattr("helpdesk.web.queues.PAGE_SIZE", 2)
    html = await (await client.get("/queues/open", headers=HTMX)).get_data(as_text=True)
    assert '<span class="shown">2</span> of <span class="total">4</span> tickets' in html
    assert "Clear filters" not in html
    html = await (await client.get("/queues/open?organisation=ORG-1", headers=HTMX)).get_data(as_text=True)
    assert '<span class="shown">2</span> of <span class="total">3</span> tickets match the filters' in html
    assert '<a class="clear-filters" href="/queues/open">Clear filters</a>' in html
    monkeypatch.setattr(queues, "COUNT_CAP", 3)  # as the menu's counts: bounded, "1000+"
    html = await (await client.get("/queues/open", headers=HTMX)).get_data(as_text=True)
    assert '<span class="total">3+</span>' in html


async def test_age_arrow_points_the_way_ages_run(client):
    """Newest first (the youngest at the top) showed ▼ beside Age, whose values then go up."""
    await sign_in(client, await make_agent())
    newest = await (await client.get("/queues/open?sort=-dateCreated", headers=HTMX)).get_data(as_text=True)
    oldest = await (await client.get("/queues/open?sort=dateCreated", headers=HTMX)).get_data(as_text=True)
    assert 'aria-sort="ascending"' in newest and ">Age ▲</a>" in newest
    assert 'aria-sort="descending"' in oldest and ">Age ▼</a>" in oldest


async def test_the_queue_sorts_by_priority_state_and_assignee(client, monkeypatch):
    agent = await make_agent(name="Ann")
    other = await make_agent(name="Bob")
    priorities = sorted(await State.filter(kind=StateKind.PRIORITY).values_list("id", flat=True))
    states = sorted(await State.filter(kind=StateKind.STATE).values_list("id", flat=True))
    made = []
    for n, assignee in enumerate([other.id, None, agent.id, other.id]):
        classification = {"priority": priorities[n % 2], "state": states[(n + 1) % 2]}
        made.append(await make_ticket(actor=agent, classification=classification, assignee_id=assignee))
    await sign_in(client, agent)
    monkeypatch.setattr("helpdesk.web.queues.PAGE_SIZE", 2)

    async def walk(sort: str) -> list[str]:
        html = await (await client.get(f"/queues/open?sort={sort}", headers=HTMX)).get_data(as_text=True)
        found = ids(html)
        while cursor := re.search(r'href="[^"]*cursor=([^"&]+)', html):
            url = f"/queues/open?sort={sort}&cursor={cursor.group(1)}"
            html = await (await client.get(url, headers=HTMX)).get_data(as_text=True)
            found += ids(html)
        return found

    for key, column in (("priority", "priority_id"), ("state", "state_id")):
        for sort, down in ((key, False), (f"-{key}", True)):
            found = await walk(sort)
            expected = sorted(made, key=lambda t: (getattr(t, column), t.id), reverse=down)
            assert found == [t.human_id for t in expected], sort
    assert await walk("assignee") == [made[2].human_id, made[0].human_id, made[3].human_id, made[1].human_id]
    assert await walk("-assignee") == [made[3].human_id, made[0].human_id, made[2].human_id, made[1].human_id]


async def test_each_filter_offers_its_own_classification(client):
    await sign_in(client, await make_agent())
    html = await (await client.get("/queues/open")).get_data(as_text=True)
    selects = dict(re.findall(r'<select id="f-(\w+)" name="\w+">(.*?)</select>', html, flags=re.DOTALL))
    for name, kind in (
        ("state", StateKind.STATE),
        ("priority", StateKind.PRIORITY),
        ("type", StateKind.TYPE),
    ):
        offered = set(re.findall(r'<option value="(\d+)"', selects[name]))
        assert offered == {str(s.id) for s in await State.filter(kind=kind)}, name


async def test_queue_counts_are_set_apart_from_their_labels_for_eyes_and_screen_readers(client):
    """The menu read "My open tickets36": no space for a screen reader, none on a phone."""
    await sign_in(client, await make_agent())
    html = await (await client.get("/queues/mine/counts", headers=HTMX)).get_data(as_text=True)
    link = re.search(r'<a href="/queues/mine"[^>]*>(.*?)</a>', html, re.DOTALL).group(1)
    words = re.sub(r"<[^>]+>", "", link)  # what a screen reader reads: every text, hidden or not
    assert re.fullmatch(r"\s*My open tickets, \d+ tickets", words), words
    assert "aria-label" not in link  # a span's aria-label is not read


async def test_every_value_in_a_queue_row_carries_its_label_for_the_phone_card(client):
    agent = await make_agent()
    await make_ticket(actor=agent)
    await sign_in(client, agent)
    html = await (await client.get("/queues/open")).get_data(as_text=True)
    row = re.search(r'<tr class="ticket-row">(.*?)</tr>', html, re.DOTALL).group(1)
    cells = re.findall(r"<td( class=\"title\")?(?: class=\"[a-z-]+\")?>(.*?)</td>", row, re.DOTALL)
    labels = [
        re.search(r'<span class="cell-label">([^<]+)</span>', body) for title, body in cells if not title
    ]
    assert [label.group(1) if label else None for label in labels] == [
        "Select", "Ticket", "Organisation", "State", "Priority", "Assignee", "SLA", "Age", "Updated"
    ]  # fmt: skip


async def test_the_queue_s_links_are_written_as_url_for_writes_them(app):
    """queue_url writes the query itself (url_for was a dozen calls a page): the same URLs."""
    params = {"q": "printer & scanner/2 #5 ü+%", "state": 3, "sort": "-updated", "tag": "vip's"}
    async with app.test_request_context("/"):
        queue_url = _url_maker("open", params)
        for changes in ({}, {"cursor": "abc=="}, {"sort": "title", "cursor": None}, {"q": None}):
            merged = {k: v for k, v in (params | changes).items() if v is not None}
            assert queue_url(**changes) == url_for("queues.queue", name="open", **merged)
        assert _url_maker("my tickets", {})() == url_for("queues.queue", name="my tickets")


def test_a_select_s_options_mark_the_chosen_one_and_escape_what_they_show():
    agents = [User(id=7, name="Tom"), User(id=9, name="<b>Ann</b>")]
    states = [State(id=1, description="Open"), State(id=2, description="Pending")]
    assert str(pages.options(agents, 9, empty="Unassigned")) == (
        '<option value="">Unassigned</option>\n<option value="7">Tom</option>\n'
        '<option value="9" selected>&lt;b&gt;Ann&lt;/b&gt;</option>\n'
    )
    assert str(pages.options(states, None)) == (
        '<option value="">Any</option>\n<option value="1">Open</option>\n<option value="2">Pending</option>\n'
    )
