"""Service levels: which policy a ticket falls under, its clocks (first response, next response,
resolution) worked out from its own history, the due times stored on it for the queues, and the
timer that announces each warning and breach once.

The clocks are never ticked: each is a start, an amount of business time on the policy's calendar
and the spans the ticket spent in a pausing (or resolved) state, all read from the ticket's history
and thread, so the same answer comes out whenever it is asked (README, "Service levels: how due
times are computed"). Each change that can move a clock recomputes the stored columns in its
transaction; the timer in `helpdesk worker` takes the tickets whose `sla_next_event_at` has come.
"""

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.signals import post_delete, post_save
from tortoise.transactions import in_transaction

from helpdesk import compat, db
from helpdesk.models import (
    MAX_ID,
    SlaCalendar,
    SlaEvent,
    SlaHoliday,
    SlaPolicy,
    State,
    StateKind,
    Ticket,
    User,
)
from helpdesk.services import access, business_time, cache, feed, history, notifications, sql

log = logging.getLogger(__name__)

FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION = "first_response", "next_response", "resolution"
TARGETS = (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION)
LABELS = {FIRST_RESPONSE: "First response", NEXT_RESPONSE: "Next response", RESOLUTION: "Resolution"}
RUNNING, WARNING, PAUSED, MET, BREACHED = "running", "warning", "paused", "met", "breached"
WARN, BREACH = "warning", "breach"  # SlaEvent.kind
POLICY_FIELD = "sla_policy"  # the history field of a re-evaluation
EVENT_FIELDS = {WARN: "sla.warning", BREACH: "sla.breach"}
# The changes that can move a clock or choose another policy (services/tickets.update_ticket)
RELEVANT = frozenset({"state", "priority", "type", "organisation_hid", "group"})
TIMER_LABEL = "Service levels"  # who the history and notifications say acted
NEW_COMMENT = 2**31 - 1  # the id a comment not yet written sorts by (after every written one)
POLL_SECONDS = 1.0


# --- Policies and calendars (per-process cache) ----------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Every policy (active ones are matched, in order), each calendar as business time reads it,
    and the state catalogue by description (the history names states by description)."""

    policies: list[SlaPolicy]
    calendars: dict[int, business_time.Calendar]
    calendar_rows: dict[int, SlaCalendar]
    states: dict[str, State]

    @property
    def active(self) -> list[SlaPolicy]:
        return [policy for policy in self.policies if policy.active]


async def _load_setup(keys: list[str]) -> dict[str, Setup]:
    policies = await SlaPolicy.all().order_by("position", "id")
    rows = {row.id: row for row in await SlaCalendar.all()}
    days: dict[int, set] = {pk: set() for pk in rows}
    for calendar_id, day in await SlaHoliday.all().values_list("calendar_id", "day"):
        days[calendar_id].add(day)
    calendars = {pk: calendar_of(row, days[pk]) for pk, row in rows.items()}
    states = {s.description: s for s in await State.filter(kind=StateKind.STATE)}
    return dict.fromkeys(keys, Setup(policies, calendars, rows, states))


def calendar_of(row: SlaCalendar, holidays: set | frozenset = frozenset()) -> business_time.Calendar:
    """The calendar row as business time reads it (a row that no longer parses: round the clock).
    The same rows give the same object every reload: business time caches its days by calendar,
    and an equal but new calendar would be compared field by field on every lookup."""
    key = (row.time_zone, row.hours, frozenset(holidays))
    if key not in _calendars:
        if len(_calendars) > 1000:  # a bound on memory: start again rather than grow
            _calendars.clear()
        _calendars[key] = _parsed(row, key[2])
    return _calendars[key]


def _parsed(row: SlaCalendar, holidays: frozenset) -> business_time.Calendar:
    try:
        return business_time.Calendar(row.time_zone, business_time.parse_hours(row.hours), holidays)
    except ValueError:
        log.warning("calendar %s does not parse; counting it as 24x7", row.name)
        return business_time.TWENTY_FOUR_SEVEN


_calendars: dict[tuple[str, str, frozenset], business_time.Calendar] = {}


_setup_cache = cache.TimedCache(_load_setup)


async def setup() -> Setup:
    return await _setup_cache.one("setup")


def policies_changed() -> None:
    """A policy, calendar or holiday changed: forget the cached ones (cache.changed() does too)."""
    cache.changed()


async def _saved(*_: Any, **__: Any) -> None:
    cache.changed()


for _model in (SlaPolicy, SlaCalendar, SlaHoliday):
    post_save(_model)(_saved)
    post_delete(_model)(_saved)


def match(policies: list[SlaPolicy], ticket: Any, partner_hid: str | None) -> SlaPolicy | None:
    """The first policy whose conditions the ticket meets: priority, type, group, and organisation
    (the ticket's own, or its partner: the organisation's parent). None when none does."""
    for policy in policies:
        if (
            policy.priority_id in (None, ticket.priority_id)
            and policy.type_id in (None, ticket.type_id)
            and policy.group_id in (None, ticket.group_id)
            and policy.organisation_hid
            in (None, ticket.organisation_hid, partner_hid or ticket.organisation_hid)
        ):
            return policy
    return None


async def _partner(organisation_hid: str) -> str | None:
    organisation = await cache.organisations.one(organisation_hid)
    return organisation.parent.human_id if organisation is not None and organisation.parent else None


# --- Clocks from facts (pure) -------------------------------------------------------------------


@dataclass
class Facts:
    """What the clocks are worked out from: the ticket's states over time, its public thread, when
    it was resolved (now), and the events already announced."""

    created_at: datetime
    states: list[tuple[datetime, str]]  # (from, state description), the first at created_at
    replies: list[tuple[int, datetime, bool]]  # (comment id, when, by an agent), in order
    resolved_at: datetime | None = None
    fired: set[tuple[str, str, int]] = field(default_factory=set)  # (target, kind, cycle)


@dataclass(frozen=True)
class Clock:
    """One target's clock at a moment (see the interface notes)."""

    target: str
    label: str
    state: str
    started_at: datetime
    due: datetime | None
    warn_at: datetime | None
    met_at: datetime | None
    remaining: timedelta | None
    late: bool
    cycle: int = 0


@dataclass(frozen=True)
class Stop:
    """A span the clocks did not run: the ticket was in a pausing or resolving state."""

    start: datetime
    end: datetime | None  # None: still stopped
    state: str


@dataclass
class Result:
    clocks: list[Clock]
    stops: list[Stop]
    first_response_at: datetime | None
    breached_before: bool  # an earlier next-response cycle was answered late


def stops_of(facts: Facts, states: Mapping[str, State]) -> list[Stop]:
    """The spans spent in a state that pauses the clock or resolves the ticket."""
    stops = []
    for n, (start, name) in enumerate(facts.states):
        state = states.get(name)
        if state is not None and (state.pauses_sla or state.closes):
            end = facts.states[n + 1][0] if n + 1 < len(facts.states) else None
            stops.append(Stop(start, end, name))
    return stops


def compute(policy: SlaPolicy | None, calendar: business_time.Calendar, facts: Facts, *, now: datetime,
            states: Mapping[str, State]) -> Result:  # fmt: skip
    """Every clock the policy sets, at `now`."""
    stops = stops_of(facts, states)
    pauses = [(stop.start, stop.end or max(now, stop.start)) for stop in stops]
    paused_now = bool(stops) and stops[-1].end is None and facts.resolved_at is None
    agent_replies = [(pk, at) for pk, at, by_agent in facts.replies if by_agent]
    first = agent_replies[0] if agent_replies else None
    result = Result([], stops, first[1] if first else None, False)
    if policy is None:
        return result
    clock = _ClockMaker(calendar, pauses, policy.warn_percent, now, paused_now, facts.resolved_at)
    if policy.first_response_minutes is not None:
        result.clocks.append(clock.make(FIRST_RESPONSE, facts.created_at, policy.first_response_minutes,
                                        first[1] if first else None))  # fmt: skip
    if policy.next_response_minutes is not None and first is not None:
        cycles = _cycles(facts.replies, first[0])
        for cycle, start, met_at in cycles:
            made = clock.make(NEXT_RESPONSE, start, policy.next_response_minutes, met_at, cycle)
            if (cycle, start, met_at) == cycles[-1]:
                result.clocks.append(made)
            else:
                result.breached_before |= made.late
    if policy.resolution_minutes is not None:
        result.clocks.append(clock.make(RESOLUTION, facts.created_at, policy.resolution_minutes, None))
    return result


def _cycles(
    replies: list[tuple[int, datetime, bool]], first_id: int
) -> list[tuple[int, datetime, datetime | None]]:
    """Each customer message after the first response that waited for an agent's reply:
    (its comment id, when, when an agent answered or None)."""
    cycles: list[tuple[int, datetime, datetime | None]] = []
    waiting: tuple[int, datetime] | None = None
    seen_first = False
    for pk, at, by_agent in replies:
        seen_first = seen_first or pk == first_id
        if not seen_first or pk == first_id:
            continue
        if not by_agent and waiting is None:
            waiting = (pk, at)
        elif by_agent and waiting is not None:
            cycles.append((*waiting, at))
            waiting = None
    if waiting is not None:
        cycles.append((*waiting, None))
    return cycles


@dataclass
class _ClockMaker:
    calendar: business_time.Calendar
    pauses: list[tuple[datetime, datetime]]
    warn_percent: int
    now: datetime
    paused_now: bool
    resolved_at: datetime | None

    def make(
        self, target: str, start: datetime, minutes: int, met_at: datetime | None, cycle: int = 0
    ) -> Clock:
        amount = timedelta(minutes=minutes)
        due = self._add(start, amount)
        warn_at = self._add(start, amount * max(0, min(self.warn_percent, 100)) / 100)
        met_at = met_at or self.resolved_at  # resolving the ticket stops (meets) every clock
        if met_at is not None:
            return Clock(target, LABELS[target], MET, start, due, warn_at, met_at, None, met_at > due, cycle)
        remaining = self._between(self.now, due) if due > self.now else -self._between(due, self.now)
        state = (
            PAUSED
            if self.paused_now
            else BREACHED
            if self.now >= due
            else WARNING
            if self.now >= warn_at
            else RUNNING
        )
        return Clock(
            target, LABELS[target], state, start, due, warn_at, None, remaining, self.now >= due, cycle
        )

    def _add(self, start: datetime, amount: timedelta) -> datetime:
        try:
            return business_time.add_business_time(self.calendar, start, amount, self.pauses)
        except ValueError:  # a calendar with no open time at all: the clock never runs out
            return datetime.max.replace(tzinfo=UTC)

    def _between(self, start: datetime, end: datetime) -> timedelta:
        return business_time.business_time_between(self.calendar, start, end, self.pauses)


@dataclass(frozen=True)
class Due:
    """An announcement the timer owes: a target's warning or breach, at `at`."""

    target: str
    kind: str
    cycle: int
    at: datetime


def owed(result: Result, fired: set[tuple[str, str, int]]) -> list[Due]:
    """The warnings and breaches of the running clocks not announced yet, soonest first."""
    events = []
    for clock in result.clocks:
        if clock.state in (MET, PAUSED) or clock.due is None:
            continue
        for kind, at in ((WARN, clock.warn_at), (BREACH, clock.due)):
            if at is not None and (clock.target, kind, clock.cycle) not in fired and at.year < 9999:
                events.append(Due(clock.target, kind, clock.cycle, at))
    return sorted(events, key=lambda due: due.at)


def columns(policy: SlaPolicy | None, result: Result, fired: set[tuple[str, str, int]]) -> dict[str, Any]:
    """The ticket's stored SLA columns for a result."""
    by_target = {clock.target: clock for clock in result.clocks}
    running = [c for c in result.clocks if c.state in (RUNNING, WARNING, BREACHED) and c.due.year < 9999]
    events = owed(result, fired)

    def due(target: str) -> datetime | None:
        return by_target[target].due if target in by_target and by_target[target].due.year < 9999 else None

    return {
        "sla_policy_id": policy.id if policy else None,
        "first_response_at": result.first_response_at,
        "first_response_due_at": due(FIRST_RESPONSE),
        "next_response_due_at": due(NEXT_RESPONSE),
        "resolution_due_at": due(RESOLUTION),
        "sla_due_at": min((c.due for c in running), default=None),
        "sla_warn_at": min((c.warn_at for c in running), default=None),
        "sla_next_event_at": events[0].at if events else None,
        "sla_breached": result.breached_before or any(c.late for c in result.clocks),
    }


# --- Reading a ticket's facts ---------------------------------------------------------------------

_FACTS = """
SELECT 0, h.id, h.created_at, h.old_value, h.new_value FROM ticket_history h
WHERE h.ticket_id = ? AND h.field = 'state'
UNION ALL
SELECT 1, c.id, c.created_at, CASE WHEN u.agent OR u.admin THEN 'agent' ELSE 'customer' END, NULL
FROM comment c LEFT JOIN "user" u ON u.id = c.author_id
WHERE c.ticket_id = ? AND c.internal = ?
UNION ALL
SELECT 2, e.cycle, e.due_at, e.target, e.kind FROM sla_event e WHERE e.ticket_id = ?
"""
_TICKET = (
    "id", "organisation_hid", "state_id", "priority_id", "type_id", "group_id", "created_at", "resolved_at",
    "sla_policy_id", "deleted_at", "version", "title", "assignee_id",
)  # fmt: skip


@dataclass
class _Ticket:
    id: int
    organisation_hid: str
    state_id: int | None
    priority_id: int | None
    type_id: int | None
    group_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    sla_policy_id: int | None
    deleted_at: datetime | None
    version: int
    title: str
    assignee_id: int | None

    @property
    def human_id(self) -> str:
        return f"INC-{self.id}"


async def _read(ticket_id: int, states_by_id: Mapping[int, State]) -> tuple[_Ticket, Facts] | None:
    """The ticket's row and facts: two indexed reads."""
    rows = await Ticket.filter(id=ticket_id).values_list(*_TICKET)
    if not rows:
        return None
    ticket = _Ticket(*rows[0])
    return ticket, await _facts(ticket, states_by_id)


async def _facts(ticket: Any, states_by_id: Mapping[int, State]) -> Facts:
    """The facts of a ticket whose row is in hand (its id, created_at, state_id, resolved_at): one read."""
    changes, replies, fired = [], [], set()
    for part, pk, at, a, b in await sql.select_rows(_FACTS, ticket.id, ticket.id, False, ticket.id):
        at = sql.as_datetime(at)
        if part == 0:
            changes.append((at, pk, a, b))
        elif part == 1:
            replies.append((pk, at, a == "agent"))
        else:
            fired.add((a, b, pk))
    changes.sort(key=lambda change: (change[0], change[1]))
    replies.sort(key=lambda reply: (reply[1], reply[0]))
    current = states_by_id.get(ticket.state_id)
    first = changes[0][2] if changes else (current.description if current else "")
    timeline = [(ticket.created_at, first or "")] + [(at, new or "") for at, _, _, new in changes]
    return Facts(ticket.created_at, timeline, replies, ticket.resolved_at, fired)


# --- Writing: on each change ---------------------------------------------------------------------


async def _policy_for(ticket: Any, found: Setup) -> SlaPolicy | None:
    active = found.active
    if not active:
        return None
    by_organisation = any(policy.organisation_hid for policy in active)
    return match(active, ticket, await _partner(ticket.organisation_hid) if by_organisation else None)


def _calendar(policy: SlaPolicy | None, found: Setup) -> business_time.Calendar:
    if policy is None:
        return business_time.TWENTY_FOUR_SEVEN
    return found.calendars.get(policy.calendar_id, business_time.TWENTY_FOUR_SEVEN)


async def columns_for_new_ticket(*, ticket: Ticket, state: State | None, moment: datetime) -> dict[str, Any]:
    """The SLA columns of a ticket being created (no query: the policies are cached)."""
    found = await setup()
    policy = await _policy_for(ticket, found)
    if policy is None:
        return {}
    facts = Facts(moment, [(moment, state.description if state else "")], [], ticket.resolved_at)
    result = compute(policy, _calendar(policy, found), facts, now=moment, states=found.states)
    return columns(policy, result, set())


async def recompute(*, ticket_id: int, actor: User | None = None, moment: datetime | None = None,
                    actor_label: str = "") -> dict[str, Any]:  # fmt: skip
    """Re-evaluate the ticket's policy and clocks from its history and store them, inside the
    caller's transaction; a changed policy is recorded in the history. The columns written."""
    moment = moment or datetime.now(UTC)
    found = await setup()
    read = await _read(ticket_id, {s.id: s for s in found.states.values()})
    if read is None:
        return {}
    ticket, facts = read
    policy = await _policy_for(ticket, found)
    result = compute(policy, _calendar(policy, found), facts, now=moment, states=found.states)
    values = columns(policy, result, facts.fired)
    await Ticket.filter(id=ticket_id).update(**values)
    if ticket.sla_policy_id != values["sla_policy_id"]:
        names = {p.id: p.name for p in found.policies}
        await history.record_change(
            ticket=ticket, actor=actor, field=POLICY_FIELD, actor_label=actor_label,
            old=names.get(ticket.sla_policy_id), new=names.get(values["sla_policy_id"]),
        )  # fmt: skip
    return values


async def columns_after_comment(
    *, ticket: Ticket, moment: datetime, by_agent: bool, internal: bool, reopened_to: State | None = None
) -> dict[str, Any]:
    """The SLA columns once a comment being written on the (just loaded) ticket lands, for its
    one-trip write: the ticket's facts as read now (one query), plus the comment and the reopening
    it causes. A note moves no clock; on a ticket without a policy only a first reply is noted
    (no query)."""
    if internal:
        return {}
    if ticket.sla_policy_id is None:
        return {"first_response_at": moment} if by_agent and ticket.first_response_at is None else {}
    found = await setup()
    facts = await _facts(ticket, {s.id: s for s in found.states.values()})
    facts.replies.append((NEW_COMMENT, moment, by_agent))
    if reopened_to is not None:
        facts.states.append((moment, reopened_to.description))
        facts.resolved_at = None
    policy = next((p for p in found.policies if p.id == ticket.sla_policy_id), None)
    result = compute(policy, _calendar(policy, found), facts, now=moment, states=found.states)
    values = columns(policy, result, facts.fired)
    values.pop("sla_policy_id")  # a comment chooses no policy
    return values


async def recompute_open(*, limit: int = 2000, batch: int = 200) -> int:
    """Re-evaluate up to `limit` open tickets, newest first (after a policy or calendar changed),
    `batch` at a time, each batch its own transaction; how many were recomputed."""
    done, through = 0, MAX_ID
    while done < limit:
        ids = (
            await Ticket.filter(deleted_at=None, resolved_at=None, id__lte=through)
            .order_by("-id")
            .limit(min(batch, limit - done))
            .values_list("id", flat=True)
        )
        if not ids:
            break
        async with in_transaction():
            for ticket_id in ids:
                await recompute(ticket_id=ticket_id, actor_label=TIMER_LABEL)
        done, through = done + len(ids), ids[-1] - 1
    return done


# --- Reading: for the UI and the API ----------------------------------------------------------


async def ticket_clocks(*, ticket: Any, actor: User, now: datetime | None = None) -> list[Clock]:
    """The ticket's clocks at `now` (agents only; missing to customers). [] without a policy."""
    return (await _result(ticket, actor, now))[1].clocks


@dataclass(frozen=True)
class Explanation:
    """How the ticket's due times were obtained."""

    policy: SlaPolicy | None
    calendar: SlaCalendar | None
    hours_text: str
    time_zone: str
    paused: list[tuple[datetime, datetime | None, str]]
    clocks: list[Clock]
    steps: dict[str, list[str]]
    first_response_at: datetime | None


async def explain(*, ticket: Any, actor: User, now: datetime | None = None) -> Explanation:
    """The policy, calendar, stopped spans and, per clock, the sentences that give its due time."""
    policy, result, found = await _result(ticket, actor, now)
    row = found.calendar_rows.get(policy.calendar_id) if policy else None
    calendar = _calendar(policy, found)
    paused = [(stop.start, stop.end, stop.state) for stop in result.stops]
    steps = {
        clock.target: _steps(clock, policy, row, result.stops, now or datetime.now(UTC))
        for clock in result.clocks
    }
    hours = business_time.format_hours(calendar.hours)
    return Explanation(
        policy, row, hours, calendar.time_zone, paused, result.clocks, steps, result.first_response_at
    )


def _steps(
    clock: Clock, policy: SlaPolicy, row: SlaCalendar | None, stops: list[Stop], now: datetime
) -> list[str]:
    minutes = {FIRST_RESPONSE: policy.first_response_minutes, NEXT_RESPONSE: policy.next_response_minutes,
               RESOLUTION: policy.resolution_minutes}[clock.target]  # fmt: skip
    began = "the ticket was opened" if clock.target != NEXT_RESPONSE else "the customer wrote"
    lines = [f"Started {_utc(clock.started_at)} ({began}).",
             f"Target {duration(timedelta(minutes=minutes))} of business time on the "
             f"{row.name if row else '24x7'} calendar ({policy.name})."]  # fmt: skip
    for stop in stops:
        if (stop.end or now) > clock.started_at and (clock.due is None or stop.start < clock.due):
            end = _utc(stop.end) if stop.end else "now (still stopped)"
            lines.append(
                f"Stopped from {_utc(stop.start)} to {end} ({stop.state}): that time does not count."
            )
    lines.append(f"Warning at {_utc(clock.warn_at)} ({policy.warn_percent} % of the target).")
    lines.append(f"Due {_utc(clock.due)}.")
    if clock.met_at:
        lines.append(f"Met {_utc(clock.met_at)}, {'late' if clock.late else 'in time'}.")
    return lines


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment and moment.year < 9999 else "never"


def duration(amount: timedelta) -> str:
    """An amount of time as a person reads it: "2 h 10 min", "3 d 4 h", "45 min"."""
    minutes = int(abs(amount).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part) or "0 min"


async def _result(ticket: Any, actor: User, now: datetime | None) -> tuple[SlaPolicy | None, Result, Setup]:
    access.authorise(ticket, actor, staff_only=True)
    found = await setup()
    read = await _read(ticket.id, {s.id: s for s in found.states.values()})
    if read is None:
        return None, Result([], [], None, False), found
    row, facts = read
    policy = next((p for p in found.policies if p.id == row.sla_policy_id), None)
    result = compute(
        policy, _calendar(policy, found), facts, now=now or datetime.now(UTC), states=found.states
    )
    return policy, result, found


@dataclass(frozen=True)
class Summary:
    """The API's `sla` object: the stored columns."""

    policy: str | None
    first_response_due: datetime | None
    first_response_at: datetime | None
    next_response_due: datetime | None
    resolution_due: datetime | None
    due: datetime | None
    breached: bool


async def summary(*, ticket: Any, actor: User) -> Summary | None:
    """The ticket's stored service level for the API, from the columns of the ticket just read (no
    query of its own: the policy's name comes from the cached setup); None for customers."""
    if not actor.is_staff:
        return None
    policy = next((p.name for p in (await setup()).policies if p.id == ticket.sla_policy_id), None)
    return Summary(
        policy, ticket.first_response_due_at, ticket.first_response_at, ticket.next_response_due_at,
        ticket.resolution_due_at, ticket.sla_due_at, bool(ticket.sla_breached),
    )  # fmt: skip


# --- The timer -----------------------------------------------------------------------------------


async def fire_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Announce every warning and breach whose time has come, on up to `limit` tickets; how many
    tickets it looked at. Safe with several timers at once: each announcement is a unique SlaEvent
    row written with its history row, so the second timer's insert fails and it announces nothing."""
    now = now or datetime.now(UTC)
    due = Ticket.filter(sla_next_event_at__lte=now, deleted_at=None).order_by("sla_next_event_at", "id")
    ids = await due.limit(limit).values_list("id", flat=True)
    for ticket_id in ids:
        await _fire_ticket(ticket_id, now)
    return len(ids)


async def _fire_ticket(ticket_id: int, now: datetime) -> None:
    found = await setup()
    read = await _read(ticket_id, {s.id: s for s in found.states.values()})
    if read is None:
        return
    row, facts = read
    policy = next((p for p in found.policies if p.id == row.sla_policy_id), None)
    result = compute(policy, _calendar(policy, found), facts, now=now, states=found.states)
    for event in owed(result, facts.fired):
        if event.at <= now:
            await _announce(row, event, now)
    async with in_transaction():
        await recompute(ticket_id=ticket_id, moment=now, actor_label=TIMER_LABEL)


async def _announce(ticket: _Ticket, event: Due, now: datetime) -> bool:
    """One warning or breach: its event row, history row, notifications (with their emails) and feed
    row in one transaction; False when another timer announced it first."""
    label = LABELS[event.target]
    said = f"{label} {'is due soon' if event.kind == WARN else 'is overdue'} (due {_utc(event.at)})"
    try:
        async with in_transaction():
            await SlaEvent.create(
                ticket_id=ticket.id, target=event.target, kind=event.kind, cycle=event.cycle,
                due_at=event.at, created_at=now,
            )  # fmt: skip
            await history.record_change(
                ticket=ticket, actor=None, field=EVENT_FIELDS[event.kind], new=label, actor_label=TIMER_LABEL
            )
            plan = await notifications.for_service_level(ticket=ticket, kind=event.kind, detail=said)
            await plan.write(ticket)
            await feed.publish_ticket("ticket.updated", ticket, None, fields={"sla": label}, said=said)
    except IntegrityError:
        return False
    return True


async def run_timer(*, once: bool = False) -> None:
    """Fire due SLA events until cancelled (with `once`, until a round finds nothing)."""
    while True:
        compat.stop_if_cancelled()
        try:
            taken = await fire_due()
        except Exception as error:  # noqa: BLE001 - a database hiccup must not stop the timer for good
            if db.fault_of(error) is None:
                log.exception("SLA timer: round failed")
            else:
                db.report_fault(error, "SLA timer")
            taken = 0
        if once and not taken:
            return
        if not taken:
            await asyncio.sleep(POLL_SECONDS)
