"""The reports dashboard: `/reports`, its self-refreshing panels and the CSV download (issue 6)."""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from quart import Blueprint, Response, abort, current_app, request

from helpdesk.errors import BadRequest
from helpdesk.models import User
from helpdesk.services import catalog, dashboard, organisations, reports
from helpdesk.services.dashboard import Period
from helpdesk.web.auth import current_user, login_required
from helpdesk.web.pages import page_or_partial

bp = Blueprint("dashboard", __name__)
Loader = Callable[[User, Period, datetime], Awaitable[Any]]

# Each panel: its data, under the name its partial `dashboard/_<name>.html` reads.
PANELS: dict[str, Loader] = {
    "headline": lambda user, period, now: dashboard.headline(actor=user, period=period, now=now),
    "created_resolved": lambda user, period, now: dashboard.created_resolved(actor=user, period=period),
    "open_by_state": lambda user, period, now: dashboard.open_by_state(actor=user, period=period),
    "open_by_priority": lambda user, period, now: dashboard.open_by_priority(actor=user, period=period),
    "open_by_group": lambda user, period, now: dashboard.open_by_group(actor=user, period=period),
    "organisations": lambda user, period, now: dashboard.top_organisations(actor=user, period=period),
    "service_levels": lambda user, period, now: dashboard.service_levels(actor=user, period=period, now=now),
}


def _kind_and_day() -> tuple[str, date | None]:
    """`period` and `date` from the query string; a date that is not YYYY-MM-DD is a bad request."""
    text = request.args.get("date") or None
    try:
        return request.args.get("period", "monthly"), date.fromisoformat(text) if text else None
    except ValueError:
        raise BadRequest("date must be YYYY-MM-DD.") from None


async def _scope_args(user: User) -> tuple[int | None, str | None]:
    """`group` (an ID) and `organisation` (a name or an ID) from the query string, as the report API's."""
    group, organisation = request.args.get("group") or None, (request.args.get("organisation") or "").strip()
    if group is not None and not (group.isascii() and group.isdigit() and len(group) < 10):
        raise BadRequest("group must be a group ID.")
    if organisation:
        organisation = await organisations.organisation_filter(text=organisation, actor=user)
    return (int(group) if group else None), organisation or None


async def _report_args(user: User, now: datetime) -> dict[str, Any]:
    """The period and scope the query string asks for, as the keywords of both the board's period
    (dashboard.dashboard_period) and the CSV's rows (reports.report_rows)."""
    kind, day = _kind_and_day()
    group_id, organisation_hid = await _scope_args(user)
    timezone = current_app.config["TIMEZONE"]
    scope = {"group_id": group_id, "organisation_hid": organisation_hid}
    return {"actor": user, "period": kind, "day": day, "timezone": timezone, "now": now} | scope


async def _period(user: User, now: datetime) -> Period:
    return dashboard.dashboard_period(**await _report_args(user, now))


@bp.get("/reports")
@login_required
async def board() -> Response:
    """The dashboard page, or just its board when htmx switches the period."""
    user, now = await current_user(), datetime.now(UTC)
    period = await _period(user, now)
    context = {name: await load(user, period, now) for name, load in PANELS.items()}
    context["groups"] = await catalog.list_groups(actor=user)
    return await page_or_partial("dashboard/page.html", "dashboard/_board.html", period=period, **context)


@bp.get("/reports/panels/<name>")
@login_required
async def panel(name: str) -> Response:
    """One panel of the board, fetched again by its own timer."""
    if name not in PANELS:
        abort(404)
    user, now = await current_user(), datetime.now(UTC)
    period = await _period(user, now)
    partial = f"dashboard/_{name}.html"
    context = {name: await PANELS[name](user, period, now)}
    return await page_or_partial(partial, partial, period=period, **context)


@bp.get("/reports/download")
@login_required
async def download() -> Response:
    """The period's report as the same streamed CSV the API gives (DECISIONS 32)."""
    user, now = await current_user(), datetime.now(UTC)
    args = await _report_args(user, now)
    period = dashboard.dashboard_period(**args)  # the same checks as the board, and the file's label
    rows = reports.report_rows(**args)
    response = Response(reports.report_csv(rows), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{reports.report_filename(period.label)}"'
    )
    response.timeout = None  # a large month streams for longer than Quart's default response timeout
    return response
