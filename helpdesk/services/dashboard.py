"""The reports dashboard's numbers: each one a bounded GROUP BY or count in the database (issue 6)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Case, RawSQL, When
from tortoise.functions import Coalesce, Count
from tortoise.queryset import QuerySet

from helpdesk.db import dialect
from helpdesk.models import Group, Organisation, State, StateKind, Ticket, User
from helpdesk.services import access
from helpdesk.services.reports import NO_REPORT, local_midnight, report_window

TOP_ORGANISATIONS = 10
NONE = "(none)"


@dataclass(frozen=True)
class Period:
    """A report window: its local first day and the day after it, the UTC [start, end), its label."""

    kind: str
    first: date
    after: date
    start: datetime
    end: datetime
    label: str
    timezone: str
    current: bool
    # The board's scope, as the report API's `group` and `organisation`: None is every ticket.
    group_id: int | None = None
    organisation_hid: str | None = None

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.after - self.first).days)]

    @property
    def previous(self) -> date:
        return self.first - timedelta(days=1)

    def midnight(self, day: date) -> datetime:
        """The local day's first instant, in UTC."""
        return local_midnight(day, ZoneInfo(self.timezone))


@dataclass(frozen=True)
class Headline:
    """The period's headline numbers; medians in whole seconds, None when there is nothing to count."""

    created: int
    resolved: int
    open_now: int
    median_to_assign: int | None
    median_run: int | None


@dataclass(frozen=True)
class Targets:
    """How one SLA target fared: met on time, breached (met late, or overdue and not met yet)."""

    met: int
    breached: int


@dataclass(frozen=True)
class ServiceLevels:
    """The period's SLA performance (services/sla.py): the first responses to the tickets created in
    it (and their median, SLA or not), and the resolutions of the tickets resolved in it."""

    first_response: Targets
    resolution: Targets
    median_first_response: int | None


@dataclass(frozen=True)
class DayCount:
    day: date
    created: int
    resolved: int


@dataclass(frozen=True)
class Bar:
    label: str
    count: int


def dashboard_period(
    *,
    actor: User,
    period: str,
    day: date | None,
    timezone: str,
    now: datetime,
    group_id: int | None = None,
    organisation_hid: str | None = None,
) -> Period:
    """The week or month holding `day` (default today) in the configured zone (DECISIONS 30),
    of one group's and one organisation's tickets when given."""
    access.staff_only(actor, NO_REPORT)
    start, end, label = report_window(period=period, day=day, timezone=timezone, now=now)
    zone = ZoneInfo(timezone)
    first, after = start.astimezone(zone).date(), end.astimezone(zone).date()
    current = start <= now < end
    return Period(period, first, after, start, end, label, timezone, current, group_id, organisation_hid)


def _scoped(query: QuerySet[Ticket], period: Period | None) -> QuerySet[Ticket]:
    """The query narrowed to the board's group and organisation, if it has them."""
    if period is not None and period.group_id is not None:
        query = query.filter(group_id=period.group_id)
    if period is not None and period.organisation_hid is not None:
        query = query.filter(organisation_hid=period.organisation_hid)
    return query


def _live(period: Period) -> QuerySet[Ticket]:
    # COALESCE hides deleted_at from the planner, so SQLite walks the created_at (or resolved_at)
    # index of the window instead of every live ticket (as in services/reports.py).
    return _scoped(Ticket.annotate(deleted=Coalesce("deleted_at", None)).filter(deleted__isnull=True), period)


def _created_in(period: Period) -> QuerySet[Ticket]:
    return _live(period).filter(created_at__gte=period.start, created_at__lt=period.end)


def _resolved_in(period: Period) -> QuerySet[Ticket]:
    return _live(period).filter(resolved_at__gte=period.start, resolved_at__lt=period.end)


def _open_now(period: Period | None = None) -> QuerySet[Ticket]:
    """Unresolved live tickets (of the board's scope): the (deleted_at, resolved_at, id) index
    answers this alone when unscoped."""
    return _scoped(Ticket.filter(deleted_at__isnull=True, resolved_at__isnull=True), period)


async def headline(*, actor: User, period: Period, now: datetime) -> Headline:
    """Created and resolved in the period, open now, and the medians of the period's tickets."""
    access.staff_only(actor, NO_REPORT)
    assigned = _created_in(period).filter(first_assigned_at__isnull=False)
    created = await _created_in(period).count()
    return Headline(
        created=created,
        resolved=await _resolved_in(period).count(),
        open_now=await _open_now(period).count(),
        median_to_assign=await _median_seconds(assigned, '"ticket"."first_assigned_at"'),
        median_run=await _median_seconds(_created_in(period), _resolved_or_now(now), total=created),
    )


def _resolved_or_now(now: datetime) -> str:
    """SQL for when a ticket stopped running: its resolution, or `now` while open (ticketRunTime)."""
    return f"""COALESCE("ticket"."resolved_at", {_stamp(now)})"""


def _stamp(now: datetime) -> str:
    """`now` as an SQL timestamp literal."""
    # `now` is a datetime we made, never request text, so its ISO form is safe as a literal.
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
    return f"CAST('{stamp}' AS TIMESTAMPTZ)" if dialect() == "postgres" else f"'{stamp}'"


def _seconds_since_created(end: str) -> RawSQL:
    if dialect() == "postgres":
        return RawSQL(f'EXTRACT(EPOCH FROM ({end} - "ticket"."created_at"))')
    return RawSQL(f'(julianday({end}) - julianday("ticket"."created_at")) * 86400.0')


async def _median_seconds(query: QuerySet[Ticket], end: str, total: int | None = None) -> int | None:
    """The median of end - created_at over the query: the database sorts, we read the middle one or two.

    `total` is the query's count when the caller already has it."""
    total = await query.count() if total is None else total
    if not total:
        return None
    middle = (
        await query.annotate(seconds=_seconds_since_created(end))
        .order_by("seconds")
        .offset((total - 1) // 2)
        .limit(2 - total % 2)
        .values_list("seconds", flat=True)
    )
    return round(sum(float(s) for s in middle) / len(middle))


async def service_levels(*, actor: User, period: Period, now: datetime) -> ServiceLevels:
    """First responses and resolutions met and breached in the period, and the median first response."""
    access.staff_only(actor, NO_REPORT)
    responded = _created_in(period).filter(first_response_at__isnull=False)
    return ServiceLevels(
        first_response=await _targets(_created_in(period), "first_response_at", "first_response_due_at", now),
        resolution=await _targets(_resolved_in(period), "resolved_at", "resolution_due_at", now),
        median_first_response=await _median_seconds(responded, '"ticket"."first_response_at"'),
    )


async def _targets(query: QuerySet[Ticket], done: str, due: str, now: datetime) -> Targets:
    """Of the query's tickets with a `due` (the target their policy set): done by then, or not."""
    with_target = query.filter(**{f"{due}__isnull": False})
    done_sql, due_sql = f'"ticket"."{done}"', f'"ticket"."{due}"'
    late = f"{done_sql} > {due_sql} OR ({done_sql} IS NULL AND {due_sql} < {_stamp(now)})"
    on_time = f"{done_sql} <= {due_sql}"
    flag = "CASE WHEN {} THEN 1 ELSE 0 END"
    return Targets(
        met=await with_target.annotate(on_time=RawSQL(flag.format(on_time))).filter(on_time=1).count(),
        breached=await with_target.annotate(late=RawSQL(flag.format(late))).filter(late=1).count(),
    )


async def created_resolved(*, actor: User, period: Period) -> list[DayCount]:
    """Tickets created and resolved on each local day of the period."""
    access.staff_only(actor, NO_REPORT)
    created = await _per_day(_created_in(period), "created_at", period)
    resolved = await _per_day(_resolved_in(period), "resolved_at", period)
    return [DayCount(day, created.get(day, 0), resolved.get(day, 0)) for day in period.days]


async def _per_day(query: QuerySet[Ticket], field: str, period: Period) -> dict[date, int]:
    """Counts by local day: a CASE over the days' UTC boundaries, so zones and DST need no SQL support."""
    days = period.days
    whens = [
        When(**{f"{field}__lt": period.midnight(after)}, then=day.isoformat())
        for day, after in zip(days, days[1:], strict=False)
    ]
    rows = (
        await query.annotate(day=Case(*whens, default=days[-1].isoformat()), n=Count("id"))
        .group_by("day")
        .values("day", "n")
    )
    return {date.fromisoformat(row["day"]): row["n"] for row in rows}


async def open_by_state(*, actor: User, period: Period | None = None) -> list[Bar]:
    """Open tickets now per state, in catalogue order (of the period's scope, never its window)."""
    return await _open_by_catalogue(actor, "state_id", StateKind.STATE, period)


async def open_by_priority(*, actor: User, period: Period | None = None) -> list[Bar]:
    """Open tickets now per priority, in catalogue order (of the period's scope, never its window)."""
    return await _open_by_catalogue(actor, "priority_id", StateKind.PRIORITY, period)


async def _open_by_catalogue(actor: User, column: str, kind: StateKind, period: Period | None) -> list[Bar]:
    access.staff_only(actor, NO_REPORT)
    counts = await _open_counts(column, period)
    return _bars(counts, await State.filter(kind=kind).values_list("id", "description"))


async def open_by_group(*, actor: User, period: Period | None = None) -> list[Bar]:
    """Open tickets now per agent group, most first (of the period's scope, never its window)."""
    access.staff_only(actor, NO_REPORT)
    counts = await _open_counts("group_id", period)
    names = await Group.filter(id__in=[key for key in counts if key is not None]).values_list("id", "name")
    return _bars(counts, sorted(names, key=lambda group: (-counts[group[0]], group[1])))


async def _open_counts(column: str, period: Period | None) -> dict[int | None, int]:
    rows = await _open_now(period).annotate(n=Count("id")).group_by(column).values(column, "n")
    return {row[column]: row["n"] for row in rows}


def _bars(counts: dict[int | None, int], names: list[tuple[int, str]]) -> list[Bar]:
    """One bar per named key that has tickets, in the names' order, then one for tickets with none."""
    bars = [Bar(name, counts[key]) for key, name in names if counts.get(key)]
    if counts.get(None):
        bars.append(Bar(NONE, counts[None]))
    return bars


async def top_organisations(*, actor: User, period: Period, limit: int = TOP_ORGANISATIONS) -> list[Bar]:
    """The organisations with the most tickets created in the period, most first."""
    access.staff_only(actor, NO_REPORT)
    rows = (
        await _created_in(period)
        .annotate(n=Count("id"))
        .group_by("organisation_hid")
        .order_by("-n", "organisation_hid")
        .limit(limit)
        .values("organisation_hid", "n")
    )
    hids = [row["organisation_hid"] for row in rows]
    names = dict(await Organisation.filter(human_id__in=hids).values_list("human_id", "name"))
    return [Bar(names.get(hid, hid), row["n"]) for hid, row in zip(hids, rows, strict=True)]
