"""Ticket reports: the period window, the blueprint's sixteen columns and their CSV (DECISIONS 30-33)."""

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from tortoise.expressions import Q

from helpdesk.errors import BadRequest
from helpdesk.models import Organisation, TicketHistory, User
from helpdesk.models.tickets import TICKET_PREFIX
from helpdesk.services import access
from helpdesk.services.contacts import contact_rows
from helpdesk.services.sql import Params, as_datetime, select_rows
from helpdesk.services.values import ContactKey

NO_REPORT = "No such report."  # what a report is to anyone but an agent

COLUMNS = (
    "ticketNumber",
    "customer",
    "buyer",
    "ticketDescription",
    "priority",
    "category",
    "serviceImpact",
    "outcome",
    "status",
    "primaryContactName",
    "primaryContactEmail",
    "createdAt",
    "resolutionDate",
    "assigned",
    "slaAssignedTime",
    "ticketRunTime",
)
NA = "NA"
BATCH = 1000
CSV_CHUNK = 64 * 1024
STAMP = "%Y-%m-%d %H:%M:%S"
# Spreadsheets read a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TICKET_FIELDS = (
    "id",
    "organisation_hid",
    "reporter_hid",
    "description",
    "created_at",
    "first_assigned_at",
    "resolved_at",
    "state",
    "type",
    "priority",
    "stage",
    "outcome",
    "assignee",
)  # the last six: the descriptions of the ticket's states, and its assignee's name


def _week(day: date) -> tuple[date, date, str]:
    first = day - timedelta(days=day.weekday())
    year, week, _ = day.isocalendar()
    return first, first + timedelta(days=7), f"{year}-W{week:02d}"


def _month(day: date) -> tuple[date, date, str]:
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1), f"{first:%Y-%m}"


PERIODS: dict[str, Callable[[date], tuple[date, date, str]]] = {"weekly": _week, "monthly": _month}


# Periods, their neighbours and their local midnights must stay inside what `date` can hold.
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The day's first instant in the zone, in UTC (fold=0 maps a skipped midnight to the day's start)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def report_window(
    *, period: str, day: date | None, timezone: str, now: datetime
) -> tuple[datetime, datetime, str]:
    """The UTC [start, end) of the local week or month holding `day` (default today), and its label."""
    if period not in PERIODS:
        raise BadRequest(f"period must be weekly or monthly, not {period!r}.")
    if day is not None and not EARLIEST <= day <= LATEST:
        raise BadRequest(f"date must be between {EARLIEST} and {LATEST}.")
    zone = ZoneInfo(timezone)
    first, after, label = PERIODS[period](day or now.astimezone(zone).date())
    return local_midnight(first, zone), local_midnight(after, zone), label


def report_filename(label: str) -> str:
    """The download's file name, e.g. `tickets-2026-11.csv`."""
    return f"tickets-{label}.csv"


def report_rows(
    *,
    actor: User,
    period: str,
    day: date | None,
    timezone: str,
    now: datetime | None = None,
    group_id: int | None = None,
    organisation_hid: str | None = None,
) -> AsyncIterator[dict[str, str]]:
    """Report rows of the live tickets created in the window; checks run now, before any row streams."""
    access.staff_only(actor, NO_REPORT)
    now = now or datetime.now(UTC)
    start, end, _ = report_window(period=period, day=day, timezone=timezone, now=now)
    window = _Window(start, end, group_id=group_id, organisation_hid=organisation_hid)
    return _rows(window, _Clock(zone=ZoneInfo(timezone), now=now))


@dataclass(frozen=True)
class _Window:
    """Live tickets created in [start, end), optionally of one group and one organisation."""

    start: datetime
    end: datetime
    group_id: int | None
    organisation_hid: str | None


@dataclass(frozen=True)
class _Clock:
    """The configured time zone and the instant open tickets run until."""

    zone: ZoneInfo
    now: datetime

    def stamp(self, moment: datetime | None) -> str:
        return moment.astimezone(self.zone).strftime(STAMP) if moment else NA


async def _rows(window: _Window, clock: _Clock) -> AsyncIterator[dict[str, str]]:
    async for tickets in _batches(window):
        lookups = await _Lookups.load(tickets)
        for ticket in tickets:
            yield _row(ticket, lookups, clock)


BATCH_SQL = """SELECT t.id, t.organisation_hid, t.reporter_hid, t.description, t.created_at,
    t.first_assigned_at, t.resolved_at, s1.description, s2.description, s3.description,
    s4.description, s5.description, u.name
FROM ticket t
LEFT JOIN state s1 ON s1.id = t.state_id LEFT JOIN state s2 ON s2.id = t.type_id
LEFT JOIN state s3 ON s3.id = t.priority_id LEFT JOIN state s4 ON s4.id = t.stage_id
LEFT JOIN state s5 ON s5.id = t.outcome_id LEFT JOIN "user" u ON u.id = t.assignee_id
WHERE {where} ORDER BY t.created_at, t.id LIMIT {limit}"""
DATETIME_COLUMNS = (4, 5, 6)


async def _batches(window: _Window) -> AsyncIterator[list[dict]]:
    """The tickets in (created_at, id) order, BATCH at a time, each batch resuming after the last.

    Plain SQL: the ORM's values() parsed every timestamp with a regular expression, half the time
    of a report."""
    after: tuple[datetime, int] | None = None
    while True:
        p = Params()
        # The other filters are wrapped in COALESCE so no index serves them: the query walks the
        # created_at index in order instead of reading every ticket of a group and sorting them.
        where = [f"t.created_at >= {p(window.start)}", f"t.created_at < {p(window.end)}"]
        where.append("COALESCE(t.deleted_at, NULL) IS NULL")
        if window.group_id is not None:
            where.append(f"COALESCE(t.group_id, NULL) = {p(window.group_id)}")
        if window.organisation_hid is not None:
            where.append(f"COALESCE(t.organisation_hid, NULL) = {p(window.organisation_hid)}")
        if after is not None:  # the redundant >= bounds the index range scan; the OR alone would not
            created, last_id = after
            where.append(f"t.created_at >= {p(created)}")
            where.append(f"(t.created_at > {p(created)} OR t.id > {p(last_id)})")
        sql = BATCH_SQL.format(where=" AND ".join(where), limit=p(BATCH))
        rows = await select_rows(sql, *p.values)
        batch = [dict(zip(TICKET_FIELDS, _datetimes(row), strict=True)) for row in rows]
        if batch:
            yield batch
        if len(batch) < BATCH:
            return
        after = batch[-1]["created_at"], batch[-1]["id"]


def _datetimes(row: Any) -> list[Any]:
    values = list(row)
    for i in DATETIME_COLUMNS:
        values[i] = as_datetime(values[i])
    return values


@dataclass
class _Lookups:
    """What one batch of rows needs from other tables, fetched with one query per table."""

    emails: dict[int, str]
    organisations: dict[str, tuple[str, str]]
    names_by_email: dict[str, str]
    names_by_hid: dict[str, str]
    first_assigned: dict[int, datetime]

    @classmethod
    async def load(cls, tickets: list[dict]) -> "_Lookups":
        emails = await _main_emails([t["id"] for t in tickets])
        names_by_email, names_by_hid = await _names(
            {e.strip().lower() for e in emails.values()}, {t["reporter_hid"] for t in tickets}
        )
        return cls(
            emails=emails,
            organisations=await _organisations({t["organisation_hid"] for t in tickets}),
            names_by_email=names_by_email,
            names_by_hid=names_by_hid,
            first_assigned=await _first_assignments([t["id"] for t in tickets if not t["first_assigned_at"]]),
        )

    def contact_name(self, email: str | None, reporter_hid: str) -> str:
        """The user with the contact's address, else the reporter, else NA: the reporter is who
        raised the ticket, so the best name we have when the address belongs to no user."""
        by_email = self.names_by_email.get(email.strip().lower()) if email else None
        return by_email or self.names_by_hid.get(reporter_hid) or NA


async def _main_emails(ticket_ids: list[int]) -> dict[int, str]:
    """Each ticket's enabled mainEmail contact; the newest wins should there be several."""
    found = await contact_rows(ticket_ids, keys=(ContactKey.MAIN_EMAIL,), enabled_only=True)
    return {ticket_id: row.value for ticket_id, rows in found.items() for row in rows if row.value}


async def _organisations(hids: set[str]) -> dict[str, tuple[str, str]]:
    """(customer, buyer) names by human ID: the buyer is the parent partner, or the organisation itself."""
    rows = await Organisation.filter(human_id__in=list(hids)).values_list("human_id", "name", "parent__name")
    return {hid: (name, parent or name) for hid, name, parent in rows}


async def _names(emails: set[str], hids: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Users' names by email and by human ID, in one query."""
    query = User.filter(Q(email__in=list(emails)) | Q(human_id__in=list(hids)))
    rows = await query.values_list("email", "human_id", "name")
    return {email: name for email, _, name in rows}, {hid: name for _, hid, name in rows if hid}


async def _first_assignments(ticket_ids: list[int]) -> dict[int, datetime]:
    """For tickets without first_assigned_at: when the history first records an assignee."""
    if not ticket_ids:
        return {}
    rows = (
        await TicketHistory.filter(ticket_id__in=ticket_ids, field="assignee", new_value__isnull=False)
        .order_by("-id")
        .values_list("ticket_id", "created_at")
    )
    return dict(rows)


def _row(ticket: dict, lookups: _Lookups, clock: _Clock) -> dict[str, str]:
    """One ticket as the blueprint's `Ticket Report Json`, keys in its order."""
    customer, buyer = lookups.organisations.get(ticket["organisation_hid"], (NA, NA))
    email = lookups.emails.get(ticket["id"])
    created, resolved = ticket["created_at"], ticket["resolved_at"]
    assigned = ticket["first_assigned_at"] or lookups.first_assigned.get(ticket["id"])
    return {
        "ticketNumber": f"{TICKET_PREFIX}{ticket['id']}",
        "customer": customer,
        "buyer": buyer,
        "ticketDescription": ticket["description"] or NA,
        "priority": ticket["priority"] or NA,
        "category": ticket["type"] or NA,
        "serviceImpact": ticket["stage"] or NA,
        "outcome": ticket["outcome"] or NA,
        "status": ticket["state"] or NA,
        "primaryContactName": lookups.contact_name(email, ticket["reporter_hid"]),
        "primaryContactEmail": email or NA,
        "createdAt": clock.stamp(created),
        "resolutionDate": clock.stamp(resolved),
        "assigned": ticket["assignee"] or NA,
        "slaAssignedTime": _duration(created, assigned),
        "ticketRunTime": _duration(created, resolved or clock.now),
    }


def _duration(start: datetime, end: datetime | None) -> str:
    """HH:MM:SS from start to end, hours past 24 as needed; an end before the start counts as zero."""
    if end is None:
        return NA
    hours, rest = divmod(max(0, int((end - start).total_seconds())), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _inert(cell: str) -> str:
    """The cell with a leading quote when a spreadsheet would run it as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


async def report_json(rows: AsyncIterator[dict]) -> AsyncIterator[bytes]:
    """The rows as `{"data": [...]}` in chunks of about CSV_CHUNK bytes: memory stays flat for any month."""
    chunk, separator = [b'{"data":['], b""
    size = 0
    async for row in rows:
        encoded = separator + orjson.dumps(row)
        chunk.append(encoded)
        size, separator = size + len(encoded), b","
        if size >= CSV_CHUNK:
            yield b"".join(chunk)
            chunk, size = [], 0
    chunk.append(b"]}")
    yield b"".join(chunk)


async def report_csv(rows: AsyncIterator[dict]) -> AsyncIterator[bytes]:
    """The rows as UTF-8 CSV (header first, RFC 4180 quoting), in chunks of about CSV_CHUNK bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    async for row in rows:
        writer.writerow([_inert(row[key]) for key in COLUMNS])
        if buffer.tell() >= CSV_CHUNK:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    """What the buffer holds, encoded, leaving it empty."""
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
