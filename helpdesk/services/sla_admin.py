"""What admins manage for service levels (issue 17): business-hours calendars with their holidays,
and the ordered policies that give tickets their targets. One function per intent, admins only.

Each change is published to the feed (`catalogue.changed`, what "sla") in its transaction, so every
process drops its cached policies; afterwards the open tickets are measured again
(`sla.policies_changed`), so a new or changed policy applies to them from that moment."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from helpdesk.errors import Conflict, Invalid, NotFound
from helpdesk.models import (
    Group,
    Organisation,
    SlaCalendar,
    SlaHoliday,
    SlaPolicy,
    State,
    StateKind,
    User,
    ids_in_range,
)
from helpdesk.services import business_time, feed, sla
from helpdesk.services.accounts import time_zone_error
from helpdesk.services.admin import ensure_admin

# --- calendars -------------------------------------------------------------------------------


async def list_calendars(*, actor: User) -> list[SlaCalendar]:
    """Every calendar by name, its holidays loaded."""
    ensure_admin(actor)
    return await SlaCalendar.all().order_by("name", "id").prefetch_related("holidays")


async def get_calendar(*, calendar_id: int, actor: User) -> SlaCalendar:
    """One calendar with its holidays, or NotFound."""
    ensure_admin(actor)
    found = await SlaCalendar.get_or_none(id=calendar_id) if ids_in_range(calendar_id) else None
    if found is None:
        raise NotFound(f"No calendar {calendar_id}.")
    await found.fetch_related("holidays")
    return found


async def create_calendar(
    *, name: str, time_zone: str, hours: str, holidays: list[tuple[date, str]] = (), actor: User
) -> SlaCalendar:
    """A new calendar: its weekly hours as text ("Mon-Fri 09:00-17:30"), kept in the canonical form."""
    ensure_admin(actor)
    calendar = SlaCalendar(name=name, time_zone=_zone(time_zone), hours=hours_text(hours))
    days = _holiday_rows(holidays)
    async with _saving(f"A calendar called {name} already exists."):
        await calendar.save()
        await SlaHoliday.bulk_create([SlaHoliday(calendar=calendar, day=d, name=n) for d, n in days])
        await _publish(actor)
    await _applied()
    return await get_calendar(calendar_id=calendar.id, actor=actor)


async def update_calendar(*, calendar_id: int, changes: dict[str, Any], actor: User) -> SlaCalendar:
    """Change the given fields (name, time_zone, hours; holidays: the whole list, replaced)."""
    calendar = await get_calendar(calendar_id=calendar_id, actor=actor)
    if "time_zone" in changes:
        calendar.time_zone = _zone(changes["time_zone"])
    if "hours" in changes:
        calendar.hours = hours_text(changes["hours"])
    calendar.name = changes.get("name", calendar.name)
    days = _holiday_rows(changes["holidays"]) if "holidays" in changes else None
    async with _saving(f"A calendar called {calendar.name} already exists."):
        await calendar.save()
        if days is not None:
            await SlaHoliday.filter(calendar_id=calendar.id).delete()
            await SlaHoliday.bulk_create([SlaHoliday(calendar=calendar, day=d, name=n) for d, n in days])
        await _publish(actor)
    await _applied()
    return await get_calendar(calendar_id=calendar.id, actor=actor)


async def delete_calendar(*, calendar_id: int, actor: User) -> SlaCalendar:
    """Delete a calendar no policy uses (Conflict naming those that do)."""
    calendar = await get_calendar(calendar_id=calendar_id, actor=actor)
    users = (
        await SlaPolicy.filter(calendar_id=calendar.id)
        .order_by("position", "id")
        .values_list("name", flat=True)
    )
    if users:
        raise Conflict(
            f"{calendar.name} is the calendar of {_listed(users)}: give them another calendar first."
        )
    try:
        async with in_transaction():
            await calendar.delete()
            await _publish(actor)
    except IntegrityError as exc:  # a policy took it up meanwhile
        raise Conflict(f"{calendar.name} is in use by a policy.") from exc
    await _applied()
    return calendar


async def add_holiday(*, calendar_id: int, day: date, name: str, actor: User) -> SlaHoliday:
    """A day the calendar's clock does not run; a day already on it is a Conflict."""
    calendar = await get_calendar(calendar_id=calendar_id, actor=actor)
    holiday = SlaHoliday(calendar=calendar, day=day, name=name)
    async with _saving(f"{day.isoformat()} is already a holiday on {calendar.name}."):
        await holiday.save()
        await _publish(actor)
    await _applied()
    return holiday


async def remove_holiday(*, calendar_id: int, holiday_id: int, actor: User) -> SlaHoliday | None:
    """Take a holiday off the calendar; the one removed, if it was there."""
    ensure_admin(actor)
    if not ids_in_range(calendar_id, holiday_id):
        return None
    holiday = await SlaHoliday.get_or_none(id=holiday_id, calendar_id=calendar_id)
    if holiday is None:
        return None
    async with in_transaction():
        await holiday.delete()
        await _publish(actor)
    await _applied()
    return holiday


async def import_holidays(*, calendar_id: int, ical: bytes, actor: User) -> int:
    """Add the all-day events of an iCalendar file as holidays; days already on the calendar are
    kept as they are. How many were added; an unreadable file is Invalid and adds nothing."""
    calendar = await get_calendar(calendar_id=calendar_id, actor=actor)
    try:
        found = business_time.holidays_from_ical(ical)
    except ValueError as exc:
        raise Invalid(f"That file cannot be imported: {exc}.", {"file": [str(exc)]}) from exc
    if not found:
        why = "it holds no all-day events (holidays)"
        raise Invalid(f"That file cannot be imported: {why}.", {"file": [why]})
    known = {h.day for h in calendar.holidays}
    new = {day: name for day, name in found if day not in known}
    if new:
        async with in_transaction():
            names = {day: name.replace("\x00", "")[:100] or "Holiday" for day, name in new.items()}
            rows = [SlaHoliday(calendar=calendar, day=d, name=n) for d, n in sorted(names.items())]
            await SlaHoliday.bulk_create(rows)
            await _publish(actor)
        await _applied()
    return len(new)


def hours_text(text: str) -> str:
    """The weekly hours in their canonical text, or Invalid naming `hours` with what is wrong."""
    try:
        hours = business_time.parse_hours(text)
    except ValueError as exc:
        raise Invalid(f"The business hours are not readable: {exc}.", {"hours": [str(exc)]}) from exc
    if not any(hours.values()):
        why = "name at least one day and its hours, e.g. Mon-Fri 09:00-17:30"
        raise Invalid(f"The calendar has no business hours: {why}.", {"hours": [why]})
    return business_time.format_hours(hours)


def _zone(name: str) -> str:
    if not name or (reason := time_zone_error(name)):
        raise Invalid("Unknown time zone.", {"time_zone": [reason if name else "is required"]})
    return name


def _holiday_rows(holidays: Any) -> list[tuple[date, str]]:
    """Holidays given as (date, name) pairs, each day once (a second is Invalid)."""
    days: dict[date, str] = {}
    for day, name in holidays:
        if day in days:
            raise Invalid(f"{day.isoformat()} is listed twice.", {"holidays": [f"{day.isoformat()} twice"]})
        days[day] = name
    return sorted(days.items())


# --- policies --------------------------------------------------------------------------------

CONDITIONS = {"priority_id": StateKind.PRIORITY, "type_id": StateKind.TYPE}
LABELS = {"priority_id": "priority", "type_id": "type", "group_id": "group", "calendar_id": "calendar"}


async def list_policies(*, actor: User) -> list[SlaPolicy]:
    """Every policy in the order they are tried, with what they name loaded."""
    ensure_admin(actor)
    return (
        await SlaPolicy.all()
        .order_by("position", "id")
        .select_related("calendar", "priority", "type", "group")
    )


async def get_policy(*, policy_id: int, actor: User) -> SlaPolicy:
    """One policy, or NotFound."""
    ensure_admin(actor)
    found = await SlaPolicy.get_or_none(id=policy_id) if ids_in_range(policy_id) else None
    if found is None:
        raise NotFound(f"No SLA policy {policy_id}.")
    return found


async def create_policy(*, values: dict[str, Any], actor: User) -> SlaPolicy:
    """A new policy (`values` by column: name, calendar_id, the conditions, the targets, warn_percent,
    active, position; no position: tried last)."""
    ensure_admin(actor)
    await _check_policy(values)
    policy = SlaPolicy(**values)
    if values.get("position") is None:
        policy.position = await _next_position()
    async with _saving(f"A policy called {policy.name} already exists."):
        await policy.save()
        await _publish(actor)
    await _applied()
    return policy


async def update_policy(*, policy_id: int, changes: dict[str, Any], actor: User) -> SlaPolicy:
    """Change the given columns of a policy."""
    policy = await get_policy(policy_id=policy_id, actor=actor)
    await _check_policy(changes)
    policy.update_from_dict(changes)
    async with _saving(f"A policy called {policy.name} already exists."):
        await policy.save()
        await _publish(actor)
    await _applied()
    return policy


async def move_policy(*, policy_id: int, by: int, actor: User) -> SlaPolicy:
    """Try the policy `by` places earlier (negative) or later; the order is renumbered 0, 1, 2..."""
    policy = await get_policy(policy_id=policy_id, actor=actor)
    order = await SlaPolicy.all().order_by("position", "id")
    ids = [p.id for p in order]
    at = ids.index(policy.id)
    ids.insert(max(0, min(len(ids) - 1, at + by)), ids.pop(at))
    moved = {row.id: ids.index(row.id) for row in order if row.position != ids.index(row.id)}
    policy.position = ids.index(policy.id)
    if not moved:  # already first (or last), in order
        return policy
    async with in_transaction():
        for row_id, position in moved.items():
            await SlaPolicy.filter(id=row_id).update(position=position)
        await _publish(actor)
    await _applied()
    return policy


async def delete_policy(*, policy_id: int, actor: User) -> SlaPolicy:
    """Delete a policy: its tickets are measured by the next policy that matches them, if any."""
    policy = await get_policy(policy_id=policy_id, actor=actor)
    async with in_transaction():
        await policy.delete()
        await _publish(actor)
    await _applied()
    return policy


async def _check_policy(values: dict[str, Any]) -> None:
    """What a policy names exists: the calendar, a priority and a type of the catalogue, a group,
    an organisation of the directory. Invalid names each that does not."""
    errors: dict[str, list[str]] = {}
    for column, kind in CONDITIONS.items():
        if values.get(column) is not None and not await _exists(State, values[column], kind=kind):
            errors[LABELS[column]] = [f"{values[column]} is not a {kind.name.lower()} of the catalogue"]
    if values.get("group_id") is not None and not await _exists(Group, values["group_id"]):
        errors["group"] = [f"{values['group_id']} is not a group"]
    if "calendar_id" in values and not await _exists(SlaCalendar, values["calendar_id"]):
        errors["calendar"] = [f"{values['calendar_id']} is not a calendar"]
    hid = values.get("organisation_hid")
    if hid is not None and not await Organisation.exists(human_id=hid):
        errors["organisation"] = [f"{hid} is not in the organisation directory"]
    if errors:
        raise Invalid(
            "The policy names what does not exist: "
            + "; ".join(f"{k} {v[0]}" for k, v in errors.items())
            + ".",
            errors,
        )


async def _exists(model: Any, row_id: int | None, **more: Any) -> bool:
    return row_id is not None and ids_in_range(row_id) and await model.exists(id=row_id, **more)


async def _next_position() -> int:
    last = await SlaPolicy.all().order_by("-position").first().values_list("position", flat=True)
    return 0 if last is None else last + 1


# --- shared ------------------------------------------------------------------------------------


@asynccontextmanager
async def _saving(taken: str) -> AsyncIterator[None]:
    """A transaction in which a unique name (or day) already taken is a Conflict saying `taken`."""
    try:
        async with in_transaction():
            yield
    except IntegrityError as exc:
        raise Conflict(taken) from exc


async def _publish(actor: User) -> None:
    await feed.publish("catalogue.changed", actor=actor, data={"what": "sla"})


async def _applied() -> None:
    """After a committed change: this process forgets its policies, and open tickets are measured again."""
    sla.policies_changed()
    await sla.recompute_open()


def _listed(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
