"""The dashboard's aggregates on hand-built tickets with known timestamps."""

from datetime import UTC, date, datetime

import pytest

from helpdesk.errors import BadRequest, NotFound
from helpdesk.models import Group, State, StateKind, Ticket
from helpdesk.services import dashboard
from helpdesk.services.dashboard import Bar, DayCount
from tests.factories import make_agent, make_customer, make_organisation, make_ticket

LONDON = "Europe/London"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def ticket_at(created: datetime, **fields) -> Ticket:
    """A ticket created at a known instant; `fields` may set the other timestamps too."""
    stamps = {"first_assigned_at": None} | {
        k: fields.pop(k) for k in ("first_assigned_at", "resolved_at", "deleted_at") if k in fields
    }
    ticket = await make_ticket(**fields)
    await Ticket.filter(id=ticket.id).update(created_at=created, **stamps)
    return ticket


def period(kind: str = "weekly", day: date = date(2026, 11, 25), now: datetime = NOW, actor=None):
    actor = actor or _staff
    return dashboard.dashboard_period(actor=actor, period=kind, day=day, timezone=LONDON, now=now)


class _Staff:
    is_staff = True


_staff = _Staff()


async def state(kind: StateKind, description: str) -> int:
    return (await State.get(kind=kind, description=description)).id


def test_week_period_knows_its_days_neighbours_and_whether_it_is_now():
    week = period()
    assert (week.first, week.after, week.label) == (date(2026, 11, 23), date(2026, 11, 30), "2026-W48")
    assert week.days[0] == date(2026, 11, 23) and len(week.days) == 7
    assert week.previous == date(2026, 11, 22) and not week.current
    assert period(day=date(2026, 11, 30)).current


def test_month_period_across_the_clock_change_ends_at_local_midnight():
    october = period("monthly", date(2026, 10, 10))
    assert (october.start, october.end) == (utc(2026, 9, 30, 23), utc(2026, 11, 1))
    assert len(october.days) == 31 and october.midnight(date(2026, 10, 26)) == utc(2026, 10, 26)


def test_a_bad_period_is_a_bad_request():
    with pytest.raises(BadRequest):
        period("daily")


async def test_customers_see_no_dashboard(app):
    customer = await make_customer()
    with pytest.raises(NotFound):
        period(actor=customer)
    week = period()
    for call in (
        dashboard.headline(actor=customer, period=week, now=NOW),
        dashboard.created_resolved(actor=customer, period=week),
        dashboard.open_by_state(actor=customer),
        dashboard.top_organisations(actor=customer, period=week),
    ):
        with pytest.raises(NotFound):
            await call


async def test_created_and_resolved_per_local_day_with_period_boundaries(app):
    agent = await make_agent()
    await ticket_at(utc(2026, 11, 22, 23, 59), actor=agent)  # Sunday before: outside
    await ticket_at(utc(2026, 11, 23, 0, 0), actor=agent)  # Monday 00:00: inside
    await ticket_at(utc(2026, 11, 23, 9), actor=agent, resolved_at=utc(2026, 11, 25, 10))
    await ticket_at(utc(2026, 11, 29, 23, 59), actor=agent)  # last minute of Sunday: inside
    await ticket_at(utc(2026, 11, 30, 0, 0), actor=agent)  # next Monday: outside
    await ticket_at(utc(2026, 11, 20), actor=agent, resolved_at=utc(2026, 11, 29, 8))  # resolved in week
    await ticket_at(utc(2026, 11, 24), actor=agent, deleted_at=utc(2026, 11, 24, 1))  # deleted: never
    days = await dashboard.created_resolved(actor=agent, period=period())
    assert [(d.day.day, d.created, d.resolved) for d in days] == [
        (23, 2, 0), (24, 0, 0), (25, 0, 1), (26, 0, 0), (27, 0, 0), (28, 0, 0), (29, 1, 1),
    ]  # fmt: skip
    assert days[0] == DayCount(date(2026, 11, 23), 2, 0)


async def test_days_follow_the_local_zone_in_summer_time(app):
    agent = await make_agent()
    await ticket_at(utc(2026, 6, 30, 23, 30), actor=agent)  # 1 July 00:30 in London
    july = period("monthly", date(2026, 7, 1))
    days = await dashboard.created_resolved(actor=agent, period=july)
    assert days[0] == DayCount(date(2026, 7, 1), 1, 0) and sum(d.created for d in days) == 1
    june = await dashboard.created_resolved(actor=agent, period=period("monthly", date(2026, 6, 1)))
    assert sum(d.created for d in june) == 0


async def test_headline_counts_and_medians(app):
    agent = await make_agent()
    monday = utc(2026, 11, 23, 9)
    await ticket_at(
        monday, actor=agent, first_assigned_at=utc(2026, 11, 23, 9, 10), resolved_at=utc(2026, 11, 23, 10)
    )
    await ticket_at(
        monday, actor=agent, first_assigned_at=utc(2026, 11, 23, 9, 30), resolved_at=utc(2026, 11, 23, 12)
    )
    await ticket_at(monday, actor=agent, first_assigned_at=utc(2026, 11, 23, 11))  # open: runs until NOW
    await ticket_at(monday, actor=agent)  # never assigned, open
    await ticket_at(utc(2026, 11, 1), actor=agent)  # older, still open
    await ticket_at(utc(2026, 11, 1), actor=agent, resolved_at=utc(2026, 11, 2))  # older, resolved
    numbers = await dashboard.headline(actor=agent, period=period(), now=NOW)
    assert (numbers.created, numbers.resolved, numbers.open_now) == (4, 2, 3)
    assert numbers.median_to_assign == 30 * 60  # 10m, 30m, 2h
    assert numbers.median_run == (3 * 3600 + 7 * 24 * 3600 + 3 * 3600) // 2  # 1h, 3h, 7d3h, 7d3h


async def test_headline_of_an_empty_period_has_no_medians(app):
    agent = await make_agent()
    numbers = await dashboard.headline(actor=agent, period=period(), now=NOW)
    assert numbers == dashboard.Headline(0, 0, 0, None, None)


async def test_open_tickets_by_state_priority_and_group(app):
    agent = await make_agent()
    group = await Group.get(name="Service Desk")
    other = await Group.create(name="Network <team>")
    opened = await state(StateKind.STATE, "Open")
    p1 = await state(StateKind.PRIORITY, "P1 - Priority 1")
    await make_ticket(actor=agent, group_id=group.id, classification={"state": opened, "priority": p1})
    await make_ticket(actor=agent, group_id=other.id, classification={"state": opened})
    await make_ticket(actor=agent, group_id=other.id)
    gone = await make_ticket(actor=agent, group_id=group.id)
    await Ticket.filter(id=gone.id).update(deleted_at=NOW)
    done = await make_ticket(actor=agent, group_id=group.id)
    await Ticket.filter(id=done.id).update(resolved_at=NOW)
    by_state = await dashboard.open_by_state(actor=agent)
    assert Bar("Open", 2) in by_state and sum(b.count for b in by_state) == 3
    by_priority = await dashboard.open_by_priority(actor=agent)
    assert by_priority[0] == Bar("P1 - Priority 1", 1) and sum(b.count for b in by_priority) == 3
    assert await dashboard.open_by_group(actor=agent) == [Bar("Network <team>", 2), Bar("Service Desk", 1)]


async def test_tickets_without_a_group_get_their_own_bar(app):
    agent = await make_agent()
    await make_ticket(actor=agent)
    assert await dashboard.open_by_group(actor=agent) == [Bar(dashboard.NONE, 1)]


async def test_top_organisations_of_the_period_most_first_unknown_by_id(app):
    agent = await make_agent()
    await make_organisation("ORG-1", name="Acme")
    await make_organisation("ORG-2", name="Globex")
    monday = utc(2026, 11, 23, 9)
    for hid in ("ORG-2", "ORG-1", "ORG-2", "ORG-9"):
        await ticket_at(monday, actor=agent, organisation_hid=hid)
    await ticket_at(utc(2026, 11, 2), actor=agent, organisation_hid="ORG-1")  # outside the week
    top = await dashboard.top_organisations(actor=agent, period=period())
    assert top == [Bar("Globex", 2), Bar("Acme", 1), Bar("ORG-9", 1)]
    assert len(await dashboard.top_organisations(actor=agent, period=period(), limit=1)) == 1
