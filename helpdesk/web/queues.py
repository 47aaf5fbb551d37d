"""The queues: `/` and `/queues/<name>`, with filters, search, sorting and "Load more"."""

from dataclasses import replace
from typing import Any

from quart import Blueprint, Response, request, url_for

from helpdesk.models import Group, StateKind, User
from helpdesk.services import catalog, queues, tickets, users
from helpdesk.web.auth import current_user, login_required
from helpdesk.web.forms import QueueFilterForm
from helpdesk.web.pages import is_htmx, page_or_partial

bp = Blueprint("queues", __name__)
PAGE_SIZE = 50
FILTERS = ("state", "priority", "type", "group", "assignee", "organisation", "q")


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


async def show_queue(user: User, name: str) -> Response:
    """Render a queue page, or the partial htmx asked for (the list, or more rows after a cursor)."""
    groups = await catalog.list_groups(actor=user) if user.is_staff else []
    all_queues = await queues.list_queues(actor=user, groups=groups)
    current = queues.pick_queue(all_queues, name)
    form = QueueFilterForm(request.args).usable()
    context = await _listing(user, current, form)
    if is_htmx() and form.cursor.data:
        return await page_or_partial("queues/_more.html", "queues/_more.html", **context)
    if not is_htmx():
        context |= await _page_context(user, all_queues, groups)
    return await page_or_partial("queues/page.html", "queues/_list.html", **context)


async def _listing(user: User, current: queues.Queue, form: QueueFilterForm) -> dict[str, Any]:
    """One page of the queue under the form's filters and sort, with a URL maker for its links."""
    sort = form.sort.data if form.sort.data in tickets.SORTS else current.sort
    filters = replace(current.filters, **_chosen(form, current.filters))
    cursor = form.cursor.data or None
    page = await tickets.list_tickets(actor=user, filters=filters, limit=PAGE_SIZE, cursor=cursor, sort=sort)
    params = {k: form[k].data for k in FILTERS if form[k].data not in (None, "")} | {"sort": sort}
    return {
        "queue": current,
        "page": page,
        "form": form,
        "sort": sort,
        "queue_url": _url_maker(current.name, params),
    }


def _chosen(form: QueueFilterForm, own: tickets.TicketFilters) -> dict[str, Any]:
    """The filters the user set, except where the queue sets its own (My tickets stays mine)."""
    return {k: form[k].data for k in FILTERS if form[k].data not in (None, "") and getattr(own, k) is None}


def _url_maker(name: str, params: dict[str, Any]):
    def queue_url(**changes: Any) -> str:
        merged = {k: v for k, v in (params | changes).items() if v not in (None, "")}
        return url_for("queues.queue", name=name, **merged)

    return queue_url


async def _page_context(user: User, all_queues: list[queues.Queue], groups: list[Group]) -> dict[str, Any]:
    """What only the full page shows: queue counts and the filter choices."""
    states = await catalog.list_states()
    return {
        "queues": await queues.count_queues(actor=user, queues=all_queues),
        "choices": {kind: [s for s in states if s.kind == kind] for kind in StateKind},
        "groups": groups,
        "agents": await users.list_agents(actor=user) if user.is_staff else [],
    }
