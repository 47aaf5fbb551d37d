"""The queues: `/` and `/queues/<name>`, with filters, search, sorting and "Load more"."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from quart import Blueprint, Response, request, url_for

from helpdesk.models import Group, User
from helpdesk.services import catalog, organisations, queues, tags, tickets, users
from helpdesk.web.auth import current_user, login_required
from helpdesk.web.forms import QueueFilterForm, classification_choices
from helpdesk.web.pages import age, badge, is_htmx, page_or_partial, when
from helpdesk.web.sla import row_shown, sla_badge

bp = Blueprint("queues", __name__)
PAGE_SIZE = 50
COUNTS_SECONDS = 5  # how long a browser may reuse the menu's counts
URL_SAFE = "!$'()*,/:;?@"  # what url_for leaves unquoted in a query (werkzeug's _urlencode)
FILTERS = ("state", "priority", "type", "group", "assignee", "organisation", "q", "tag")


@bp.get("/")
@login_required
async def home() -> Response:
    """The signed-in user's default queue."""
    user = await current_user()
    return await show_queue(user, queues.default_queue(user))


@bp.get("/queues/<name>")
@login_required
async def queue(name: str) -> Response:
    """One queue: the page, the list partial (search, filters, sort) or the next rows."""
    return await show_queue(await current_user(), name)


@bp.get("/queues/<name>/counts")
@login_required
async def counts(name: str) -> Response:
    """The queue menu with each queue's count, which the page fetches once it has loaded; without
    htmx (the menu's noscript link), the whole page with its counts."""
    user = await current_user()
    if not is_htmx():
        return await show_queue(user, name, counted=True)
    all_queues, _ = await _queues(user)
    context = {"queue": queues.pick_queue(all_queues, name), "queues": await _counted(user, all_queues)}
    response = await page_or_partial("queues/_nav.html", "queues/_nav.html", **context)
    # Moving between queues within a few seconds reuses the counts; Cookie: never another user's.
    response.headers["Cache-Control"] = f"private, max-age={COUNTS_SECONDS}"
    response.vary.add("Cookie")
    return response


async def show_queue(user: User, name: str, counted: bool = False) -> Response:
    """Render a queue page, or the partial htmx asked for (the list, or more rows after a cursor).

    The page leaves its menu's counts to the menu's own request (`counts`) unless `counted`: they
    are the slowest part of the page, and the list need not wait for them."""
    all_queues, groups = await _queues(user)
    current = queues.pick_queue(all_queues, name)
    form = QueueFilterForm(request.args).usable()
    context = await _listing(user, current, form)
    if is_htmx() and form.cursor.data:
        return await page_or_partial("queues/_more.html", "queues/_more.html", **context)
    if not is_htmx():
        shown = await _counted(user, all_queues) if counted else all_queues
        context |= await _page_context(user, shown, groups)
    return await page_or_partial("queues/page.html", "queues/_list.html", **context)


async def _queues(user: User) -> tuple[list[queues.Queue], list[Group]]:
    """The user's queues, and the agent groups they were made from (none for customers)."""
    groups = await catalog.list_groups(actor=user) if user.is_staff else []
    return await queues.list_queues(actor=user, groups=groups), groups


async def _counted(user: User, all_queues: list[queues.Queue]) -> list[queues.Queue]:
    return await queues.count_queues(actor=user, queues=all_queues)


async def _listing(user: User, current: queues.Queue, form: QueueFilterForm) -> dict[str, Any]:
    """One page of the queue under the form's filters and sort, with a URL maker for its links."""
    sort = form.sort.data if _may_sort(user, form.sort.data) else current.sort
    chosen = _chosen(form, current.filters)
    if "organisation" in chosen:
        chosen["organisation"] = await organisations.organisation_filter(
            text=chosen["organisation"], actor=user
        )
    if "tag" in chosen:
        chosen["tag"] = tags.filter_name(chosen["tag"])
    filters = replace(current.filters, **chosen)
    cursor = form.cursor.data or None
    page = await tickets.list_tickets(actor=user, filters=filters, limit=PAGE_SIZE, cursor=cursor, sort=sort)
    params = {k: form[k].data for k in FILTERS if form[k].data not in (None, "")} | {"sort": sort}
    return {
        "queue": current,
        "page": page,
        "form": form,
        "sort": sort,
        "queue_url": _url_maker(current.name, params),
        "filtered": bool(chosen),
        "total": None if cursor else await _total(user, filters),
    }


async def _total(user: User, filters: tickets.TicketFilters) -> int:
    """How many tickets the list holds, counted as the queue menu counts (at most "1000+")."""
    found = await tickets.count_tickets(actor=user, filters=filters, cap=queues.COUNT_CAP)
    return queues.AtLeast(found) if found >= queues.COUNT_CAP else found


@bp.get("/organisations/suggest")
@login_required
async def suggest_organisations() -> Response:
    """The organisation filter's suggestions for what is typed so far (agents only)."""
    found = await organisations.suggest_organisations(
        text=request.args.get("organisation", ""), actor=await current_user()
    )
    return await page_or_partial("queues/_organisations.html", "queues/_organisations.html", found=found)


def _may_sort(user: User, sort: str | None) -> bool:
    """A sort the list offers this user (customers: not by SLA due)."""
    return sort in tickets.SORTS and (user.is_staff or sort not in tickets.AGENT_SORTS)


@bp.app_template_global()
def queue_rows(page: tickets.TicketPage, staff: bool, queue_url: Any) -> Markup:
    """The page's rows, written in Python: a page shows 50 and the live list refreshes them, and
    Jinja spent ~30 us a row on its lookups, filters and calls (Markup's `%`, ~20 us: it wraps
    each value). Every value is escaped here unless it is markup already (the badges).

    What the rows name (states, users, organisations) comes once per page, in page.related. An
    agent's rows carry their tags (services/ticket_queries `_listed`), each a link to the queue
    filtered by it, a checkbox for the bulk form (`x` toggles the selected row's) and the SLA
    cell. Each cell's label shows on a phone, where the rows are cards and the headers hidden."""
    related, moment = page.related, datetime.now(UTC)
    states, users, organisations = related.states, related.users, related.organisations
    ticket_path = url_for("tickets.show", human_id="")
    rows = []
    for t in page.tickets:
        hid, org, assignee = (
            escape(t.human_id),
            organisations.get(t.organisation_hid),
            users.get(t.assignee_id),
        )
        tags = "".join(
            f'<a class="tag" href="{escape(queue_url(tag=name, cursor=None))}">{escape(name)}</a>'
            for name in t.tags or ()
        )
        if tags:
            tags = f'<span class="row-tags"><span class="visually-hidden">Tags: </span>{tags}</span>'
        pick = sla = ""
        if staff:
            pick = (
                '<td class="pick"><label><span class="cell-label">Select</span><input type="checkbox" '
                f'name="ticket" value="{hid}" form="queues-bulk" aria-label="Select {hid}"></label></td>\n  '
            )
            shown = sla_badge(row_shown(t, states, moment))
            sla = f'<td class="sla-cell"><span class="cell-label">SLA</span>{shown}</td>\n  '
        link = f'<a class="ticket-link" href="{ticket_path}{hid}">{hid}</a>'
        organisation = escape(org.name if org else t.organisation_hid)
        assigned = escape(assignee.name if assignee else "—")
        state, priority = badge(states.get(t.state_id), "state"), badge(states.get(t.priority_id), "priority")
        rows.append(
            f'<tr class="ticket-row">\n  {pick}<td><span class="cell-label">Ticket</span>{link}</td>\n'
            f'  <td class="title">{escape(t.title)}{tags}</td>\n'
            f'  <td class="organisation"><span class="cell-label">Organisation</span>{organisation}</td>\n'
            f'  <td><span class="cell-label">State</span>{state}</td>\n'
            f'  <td><span class="cell-label">Priority</span>{priority}</td>\n'
            f'  <td><span class="cell-label">Assignee</span>{assigned}</td>\n'
            f'  {sla}<td><span class="cell-label">Age</span>{_moment(t.created_at)}</td>\n'
            f'  <td><span class="cell-label">Updated</span>{_moment(t.updated_at)}</td>\n'
            "</tr>\n"
        )
    return Markup("".join(rows))  # noqa: S704 - every value in it is escaped above, or markup already


def _moment(moment: datetime) -> str:
    """A moment as a row shows it: how long ago, its date and time on hover, ISO for machines."""
    return (
        f'<time datetime="{moment.isoformat()}" title="{escape(when(moment))}">{escape(age(moment))}</time>'
    )


def _chosen(form: QueueFilterForm, own: tickets.TicketFilters) -> dict[str, Any]:
    """The filters the user set, except where the queue sets its own (My tickets stays mine)."""
    return {k: form[k].data for k in FILTERS if form[k].data not in (None, "") and getattr(own, k) is None}


def _url_maker(name: str, params: dict[str, Any]):
    """queue_url(**changes): this queue's URL with its filters and sort, changed. The path is built
    once and the query written as url_for writes it: a page makes a dozen of these (sort headers,
    tags, the next rows), and url_for cost ~12 us each."""
    path = url_for("queues.queue", name=name)

    def queue_url(**changes: Any) -> str:
        merged = {k: v for k, v in (params | changes).items() if v not in (None, "")}
        return f"{path}?{urlencode(merged, safe=URL_SAFE)}" if merged else path

    return queue_url


async def _page_context(user: User, all_queues: list[queues.Queue], groups: list[Group]) -> dict[str, Any]:
    """What only the full page shows: the queue menu and the filter choices."""
    return {
        "queues": all_queues,
        "choices": classification_choices(await catalog.list_states()),
        "groups": groups,
        "agents": await users.list_agents(actor=user) if user.is_staff else [],
    }
