"""Service levels as the agent reads them: each clock in words ("due in 2 h 10 min", "breached
35 min ago", "met in 1 h 5 min", "paused"), a queue row's SLA cell, and the ticket's "Why?"
explanation (`/tickets/<id>/sla`). The clocks themselves come from services/sla.py."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup
from quart import Blueprint, Response

from helpdesk.models import State, Ticket, User
from helpdesk.services import sla, tickets
from helpdesk.services.ticket_queries import TicketRow
from helpdesk.web.auth import current_user, login_required
from helpdesk.web.pages import page_or_partial, when

bp = Blueprint("sla", __name__, url_prefix="/tickets")


def span(length: timedelta) -> str:
    """A length of time as a glance reads it, in its two largest units: "2 h 10 min", "165 d 15 h",
    "35 min". The explanation's exact amounts ("1 d 1 h 30 min") are sla.duration's."""
    seconds = abs(int(length.total_seconds()))
    if seconds < 60:
        return "under a minute"
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


EXPLANATION = "tickets/_sla.html"


@dataclass(frozen=True)
class Shown:
    """One SLA as a cell or a line shows it: its state (the colour), its words, and the moment they
    count from or to (its full time on hover), if any."""

    state: str  # "breached" | "warning" | "ok" | "met" | "paused" | "none"
    text: str
    at: datetime | None = None


NONE = Shown("none", "—")
WARNING = Markup('<span class="visually-hidden">Warning: </span>')
NO_BADGE = Markup('<span class="sla-none">—</span>')
TIMED_BADGE = Markup('<span class="badge sla sla-%s">%s<time datetime="%s" title="%s">%s</time></span>')
BADGE = Markup('<span class="badge sla sla-%s">%s%s</span>')


def sla_badge(shown: Shown) -> Markup:
    """An SLA as one badge: its words, coloured by state and said in words too (a warning), the
    moment in the viewer's time zone on hover. The ticket's clocks and explanation show it, and each
    agent's queue row (web/queues.py `queue_rows`). (`%` escapes each value, in one step; Markup.format
    took twice as long.)"""
    if shown.state == "none":
        return NO_BADGE
    warning = WARNING if shown.state == "warning" else ""
    if shown.at:
        return TIMED_BADGE % (shown.state, warning, shown.at.isoformat(), when(shown.at), shown.text)
    return BADGE % (shown.state, warning, shown.text)


def clock_shown(clock: sla.Clock, now: datetime | None = None) -> Shown:
    """A ticket page's clock in words, relative to now."""
    now = now or datetime.now(UTC)
    if clock.state == "met":
        taken = span((clock.met_at or now) - clock.started_at)
        return Shown("breached" if clock.late else "met", f"met in {taken}", clock.met_at)
    if clock.state == "paused":
        return Shown("paused", "paused")  # its due moves on while it is paused
    if clock.due is None:
        return NONE
    if clock.due <= now:
        return Shown("breached", f"breached {span(now - clock.due)} ago", clock.due)
    return Shown(
        "warning" if clock.state == "warning" else "ok", f"due in {span(clock.due - now)}", clock.due
    )


def row_shown(row: TicketRow, states: dict[int, State], now: datetime | None = None) -> Shown:
    """A queue row's SLA cell, from the ticket's stored columns alone: the earliest due of its
    running clocks, coloured breached / warning / ok; met or breached once resolved; paused."""
    now = now or datetime.now(UTC)
    if row.sla_policy_id is None:
        return NONE
    if row.resolved_at is not None:
        return Shown("breached", "breached") if row.sla_breached else Shown("met", "met")
    due = row.sla_due_at
    if due is None:
        state = states.get(row.state_id) if row.state_id else None
        return Shown("paused", "paused") if state is not None and state.pauses_sla else NONE
    if due <= now:
        return Shown("breached", f"breached {span(now - due)} ago", due)
    warned = row.sla_warn_at is not None and row.sla_warn_at <= now
    return Shown("warning" if warned else "ok", f"due in {span(due - now)}", due)


async def clocks_context(user: User, ticket: Ticket) -> dict[str, Any]:
    """The ticket page's SLA panel (agents only: the service refuses customers)."""
    clocks = await sla.ticket_clocks(ticket=ticket, actor=user)
    return {"ticket": ticket, "clocks": [(clock, clock_shown(clock)) for clock in clocks]}


def clocks_placeholder(ticket: Ticket) -> dict[str, Any]:
    """The SLA panel as the ticket page first shows it: it loads itself (its own request), so the
    page's queries stay those of the ticket's own rows (tests/web/test_ticket_page_queries.py)."""
    return {"ticket": ticket, "clocks": None}


@bp.get("/<human_id>/sla")
@login_required
async def explanation(human_id: str) -> Response:
    """Why the ticket's SLA times are what they are: policy, calendar, pauses, each due's steps.
    Agents only; to a customer the ticket has no SLA (services/sla.py refuses them)."""
    user = await current_user()
    ticket = await tickets.load(human_id=human_id, actor=user, related=True)
    why = await sla.explain(ticket=ticket, actor=user)
    shown = {clock.target: clock_shown(clock) for clock in why.clocks}
    context = {"human_id": human_id, "sla": {"why": why, "shown": shown}, "partial": EXPLANATION}
    return await page_or_partial("tickets/panel.html", EXPLANATION, **context)
