"""The report service: period windows, the sixteen columns, and the CSV download."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from tortoise import Tortoise

from helpdesk.errors import BadRequest, NotFound
from helpdesk.models import Group, State, StateKind, Ticket, TicketAttribute, TicketHistory
from helpdesk.services import reports
from helpdesk.services.reports import COLUMNS, report_csv, report_filename, report_rows, report_window
from helpdesk.services.tickets import Contacts
from tests.factories import make_agent, make_customer, make_organisation, make_ticket, make_user

LONDON = "Europe/London"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def ticket_at(created: datetime, **fields) -> Ticket:
    """A ticket created at a known instant; `fields` may set the other timestamps too."""
    timestamps = {k: fields.pop(k) for k in ("first_assigned_at", "resolved_at", "deleted_at") if k in fields}
    ticket = await make_ticket(**fields)
    timestamps = {"first_assigned_at": None} | timestamps
    await Ticket.filter(id=ticket.id).update(created_at=created, **timestamps)
    return ticket


async def rows(actor=None, *, period="monthly", day=date(2026, 11, 15), now=NOW, **filters) -> list[dict]:
    actor = actor or await make_agent()
    found = report_rows(actor=actor, period=period, day=day, timezone=LONDON, now=now, **filters)
    return [row async for row in found]


async def numbers(**kwargs) -> list[str]:
    return [row["ticketNumber"] for row in await rows(**kwargs)]


async def state(kind: StateKind, description: str) -> int:
    return (await State.get(kind=kind, description=description)).id


# Windows


def test_month_window_is_local_midnight_to_local_midnight():
    window = report_window(period="monthly", day=date(2026, 11, 15), timezone=LONDON, now=NOW)
    assert window == (utc(2026, 11, 1), utc(2026, 12, 1), "2026-11")


def test_week_window_starts_monday_and_carries_iso_week_label():
    window = report_window(period="weekly", day=date(2026, 11, 29), timezone=LONDON, now=NOW)
    assert window == (utc(2026, 11, 23), utc(2026, 11, 30), "2026-W48")


def test_week_label_uses_the_iso_year():
    start, end, label = report_window(period="weekly", day=date(2027, 1, 1), timezone=LONDON, now=NOW)
    assert (start, end, label) == (utc(2026, 12, 28), utc(2027, 1, 4), "2026-W53")


def test_week_with_clocks_going_back_is_a_week_and_an_hour():
    start, end, label = report_window(period="weekly", day=date(2026, 10, 25), timezone=LONDON, now=NOW)
    assert (start, end, label) == (utc(2026, 10, 18, 23), utc(2026, 10, 26), "2026-W43")
    assert end - start == timedelta(days=7, hours=1)


def test_month_with_clocks_going_forward_ends_at_bst_midnight():
    start, end, label = report_window(period="monthly", day=date(2026, 3, 29), timezone=LONDON, now=NOW)
    assert (start, end, label) == (utc(2026, 3, 1), utc(2026, 3, 31, 23), "2026-03")


def test_default_day_is_today_in_the_configured_zone():
    just_after_local_midnight = utc(2026, 5, 31, 23, 30)
    window = report_window(period="monthly", day=None, timezone=LONDON, now=just_after_local_midnight)
    assert window == (utc(2026, 5, 31, 23), utc(2026, 6, 30, 23), "2026-06")


def test_a_skipped_local_midnight_starts_the_day_at_its_first_instant():
    # Asuncion moved its clocks from 00:00 (-04) to 01:00 (-03) on 2023-10-01.
    start, _, _ = report_window(period="monthly", day=date(2023, 10, 9), timezone="America/Asuncion", now=NOW)
    assert start == utc(2023, 10, 1, 4)


@pytest.mark.parametrize("period", ["daily", "", "Monthly", "weekly "])
def test_unknown_period_is_a_bad_request(period):
    with pytest.raises(BadRequest) as error:
        report_window(period=period, day=None, timezone=LONDON, now=NOW)
    assert (error.value.status, error.value.title) == (400, "Bad Request")


def test_filename_names_the_period():
    assert report_filename("2026-11") == "tickets-2026-11.csv"
    assert report_filename("2026-W48") == "tickets-2026-W48.csv"


# Rows


async def test_every_column_of_a_fully_described_ticket(app):
    partner = await make_organisation("ORG-P", name="Partner Co", role="partner")
    await make_organisation("ORG-C", name="Customer Co", parent=partner)
    agent = await make_agent(name="Michael Tuxford-Tite")
    await make_user(email="pat@customer.example", name="Pat Contact")
    ticket = await ticket_at(
        utc(2026, 11, 2, 9, 15, 30),
        organisation_hid="ORG-C",
        description="Phones are down, all of them",
        assignee_id=agent.id,
        contacts=Contacts(main_email="Pat@Customer.example", phone_number="0113 496 0123"),
        classification={
            "state": await state(StateKind.STATE, "Resolved"),
            "type": await state(StateKind.TYPE, "Incident"),
            "priority": await state(StateKind.PRIORITY, "P2 - Priority 2"),
            "stage": await state(StateKind.STAGE, "Service Outage"),
            "outcome": await state(StateKind.OUTCOME, "Remote Fix"),
        },
        first_assigned_at=utc(2026, 11, 2, 9, 20, 0),
        resolved_at=utc(2026, 11, 4, 10, 18, 37),
    )
    [row] = await rows(actor=agent)
    assert list(row) == list(COLUMNS)
    assert row == {
        "ticketNumber": ticket.human_id,
        "customer": "Customer Co",
        "buyer": "Partner Co",
        "ticketDescription": "Phones are down, all of them",
        "priority": "P2 - Priority 2",
        "category": "Incident",
        "serviceImpact": "Service Outage",
        "outcome": "Remote Fix",
        "status": "Resolved",
        "primaryContactName": "Pat Contact",
        "primaryContactEmail": "Pat@Customer.example",
        "createdAt": "2026-11-02 09:15:30",
        "resolutionDate": "2026-11-04 10:18:37",
        "assigned": "Michael Tuxford-Tite",
        "slaAssignedTime": "00:04:30",
        "ticketRunTime": "49:03:07",
    }


async def test_missing_values_read_na(app):
    await ticket_at(utc(2026, 11, 2, 9), organisation_hid="ORG-UNKNOWN", reporter_hid="USR-NOBODY")
    [row] = await rows()
    assert {key: value for key, value in row.items() if value != "NA"} == {
        "ticketNumber": row["ticketNumber"],
        "ticketDescription": "Phones are down",
        "status": "New",
        "createdAt": "2026-11-02 09:00:00",
        "ticketRunTime": "675:00:00",
    }


async def test_open_ticket_runs_until_now_and_times_are_local(app):
    await ticket_at(utc(2026, 6, 30, 23, 30), first_assigned_at=utc(2026, 7, 1, 0, 0, 1))
    [row] = await rows(day=date(2026, 7, 1), now=utc(2026, 7, 5, 0, 30))
    assert (row["createdAt"], row["resolutionDate"]) == ("2026-07-01 00:30:00", "NA")
    assert (row["slaAssignedTime"], row["ticketRunTime"]) == ("00:30:01", "97:00:00")


async def test_organisation_without_partner_is_its_own_buyer(app):
    await make_organisation("ORG-1", name="Acme")
    await ticket_at(utc(2026, 11, 2))
    [row] = await rows()
    assert (row["customer"], row["buyer"]) == ("Acme", "Acme")


async def test_contact_name_falls_back_to_the_reporter(app):
    await make_user(name="Rita Reporter", human_id="USR-9")
    await ticket_at(
        utc(2026, 11, 2), reporter_hid="USR-9", contacts=Contacts(main_email="x@elsewhere.example")
    )
    [row] = await rows()
    assert (row["primaryContactName"], row["primaryContactEmail"]) == ("Rita Reporter", "x@elsewhere.example")


async def test_disabled_main_email_is_not_the_primary_contact(app):
    ticket = await ticket_at(utc(2026, 11, 2), contacts=Contacts(main_email="old@x.example"))
    await TicketAttribute.filter(ticket_id=ticket.id).update(enabled=False)
    [row] = await rows()
    assert (row["primaryContactName"], row["primaryContactEmail"]) == ("NA", "NA")


async def test_first_assignment_falls_back_to_history(app):
    agent = await make_agent()
    ticket = await ticket_at(utc(2026, 11, 2, 8), assignee_id=agent.id)
    for hours, name in [(3, None), (1, agent.name), (2, "Someone Else")]:
        entry = await TicketHistory.create(ticket=ticket, field="assignee", new_value=name)
        await TicketHistory.filter(id=entry.id).update(created_at=utc(2026, 11, 2, 8 + hours))
    [row] = await rows()
    assert row["slaAssignedTime"] == "01:00:00"


async def test_week_boundaries_are_local_midnights_across_a_clock_change(app):
    expected = [
        await ticket_at(utc(2026, 10, 18, 23)),  # Monday 00:00 BST
        await ticket_at(utc(2026, 10, 25, 0, 30)),  # 01:30 BST, the first time round
        await ticket_at(utc(2026, 10, 25, 1, 30)),  # 01:30 GMT, the second time round
        await ticket_at(utc(2026, 10, 25, 23, 59, 59)),  # Sunday 23:59:59 GMT
    ]
    await ticket_at(utc(2026, 10, 18, 22, 59, 59))
    await ticket_at(utc(2026, 10, 26))
    found = await rows(period="weekly", day=date(2026, 10, 21))
    assert [row["ticketNumber"] for row in found] == [t.human_id for t in expected]
    assert [row["createdAt"] for row in found] == [
        "2026-10-19 00:00:00",
        "2026-10-25 01:30:00",
        "2026-10-25 01:30:00",
        "2026-10-25 23:59:59",
    ]


async def test_month_boundaries_are_local_midnights(app):
    inside = [await ticket_at(utc(2026, 3, 1)), await ticket_at(utc(2026, 3, 31, 22, 59, 59))]
    await ticket_at(utc(2026, 2, 28, 23, 59, 59))
    await ticket_at(utc(2026, 3, 31, 23))  # 1 April 00:00 BST
    assert await numbers(day=date(2026, 3, 10)) == [t.human_id for t in inside]


async def test_rows_come_by_creation_then_id_across_batches(app, monkeypatch):
    monkeypatch.setattr(reports, "BATCH", 2)
    late = await ticket_at(utc(2026, 11, 20))
    same = [await ticket_at(utc(2026, 11, 10)) for _ in range(3)]
    early = await ticket_at(utc(2026, 11, 3))
    assert await numbers() == [t.human_id for t in [early, *same, late]]


async def test_deleted_tickets_are_left_out(app):
    kept = await ticket_at(utc(2026, 11, 2))
    await ticket_at(utc(2026, 11, 2), deleted_at=utc(2026, 11, 3))
    assert await numbers() == [kept.human_id]


async def test_filters_by_group_and_organisation(app):
    desk, field = await Group.get(name="Service Desk"), await Group.create(name="Field Engineers")
    wanted = await ticket_at(utc(2026, 11, 2), group_id=field.id, organisation_hid="ORG-2")
    await ticket_at(utc(2026, 11, 2), group_id=desk.id, organisation_hid="ORG-2")
    await ticket_at(utc(2026, 11, 2), group_id=field.id, organisation_hid="ORG-3")
    assert len(await numbers(group_id=field.id)) == 2
    assert len(await numbers(organisation_hid="ORG-2")) == 2
    assert await numbers(group_id=field.id, organisation_hid="ORG-2") == [wanted.human_id]


async def test_customers_are_refused_before_any_row(app):
    customer = await make_customer()
    await ticket_at(utc(2026, 11, 2))
    with pytest.raises(NotFound):
        report_rows(actor=customer, period="monthly", day=None, timezone=LONDON)


async def test_bad_period_is_refused_before_any_row(app):
    with pytest.raises(BadRequest):
        report_rows(actor=await make_agent(), period="yearly", day=None, timezone=LONDON)


# Query count


async def count_queries(monkeypatch) -> list[str]:
    """Every SQL statement the default connection runs from now on, but the feed dispatcher's reads
    of feed_event: on PostgreSQL the notifications of the tickets just made wake it while the
    report runs (a report never reads the feed)."""
    seen: list[str] = []
    client = type(Tortoise.get_connection("default"))
    for method in ("execute_query", "execute_query_dict"):
        original = getattr(client, method)

        async def counted(self, sql, *args, _original=original, **kwargs):
            if "feed_event" not in sql:
                seen.append(sql)
            return await _original(self, sql, *args, **kwargs)

        monkeypatch.setattr(client, method, counted)
    return seen


async def test_queries_per_batch_do_not_grow_with_rows(app, monkeypatch):
    agent = await make_agent()
    for n in range(12):
        await make_user(email=f"c{n}@x.example", human_id=f"USR-C{n}")
        await make_organisation(f"ORG-C{n}")
        await ticket_at(
            utc(2026, 11, 2, n),
            organisation_hid=f"ORG-C{n}",
            reporter_hid=f"USR-C{n}",
            contacts=Contacts(main_email=f"c{n}@x.example"),
        )
    seen = await count_queries(monkeypatch)
    found = await rows(actor=agent)
    assert len(found) == 12
    assert len(seen) <= 5  # tickets, contacts, organisations, users, assignment history


# CSV


async def csv_text(found: list[dict]) -> str:
    async def produce():
        for row in found:
            yield row

    return b"".join([chunk async for chunk in report_csv(produce())]).decode("utf-8")


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


async def test_csv_has_the_header_in_json_key_order_and_crlf_lines(app):
    await ticket_at(utc(2026, 11, 2))
    text = await csv_text(await rows())
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    assert text.endswith("\r\n") and text.count("\r\n") == 2


async def test_csv_quotes_commas_quotes_and_newlines(app):
    tricky = 'Line one, "quoted"\nline two\r\nCafé ☕'
    await ticket_at(utc(2026, 11, 2), description=tricky)
    text = await csv_text(await rows())
    assert '"Line one, ""quoted""\nline two\r\nCafé ☕"' in text
    assert parse(text)[1][COLUMNS.index("ticketDescription")] == tricky


FORMULAS = ["=1+1", "+SUM(A1)", "-2", "@cmd", "\t=x", "\r=x", '=HYPERLINK("http://x")']


async def test_csv_makes_formula_cells_inert(app):
    for text in FORMULAS:
        await ticket_at(utc(2026, 11, 2), description=text)
    cells = [row[COLUMNS.index("ticketDescription")] for row in parse(await csv_text(await rows()))[1:]]
    assert cells == [f"'{text}" for text in FORMULAS]


async def test_csv_rows_match_json_rows(app):
    await make_organisation("ORG-1", name="=Acme, Inc.")
    agent = await make_agent(name='Ann "the fixer" -Smith')
    await ticket_at(utc(2026, 11, 2), assignee_id=agent.id, first_assigned_at=utc(2026, 11, 3))
    await ticket_at(utc(2026, 11, 5), description="+44 line\nis dead", resolved_at=utc(2026, 11, 6))
    formula = await ticket_at(utc(2026, 11, 9), contacts=Contacts(main_email="ops@x.example"))
    await TicketAttribute.filter(ticket=formula).update(value="@ops@x.example")  # stored before any rule held
    found = await rows()
    parsed = parse(await csv_text(found))
    assert parsed[0] == list(COLUMNS)
    assert len(parsed) == len(found) + 1
    for json_row, csv_row in zip(found, parsed[1:], strict=True):
        expected = [("'" + v) if v[:1] in "=+-@\t\r" and v else v for v in json_row.values()]
        assert csv_row == expected


async def test_csv_streams_before_the_rows_run_out(app):
    pulled = []

    async def produce():
        for n in range(3):
            pulled.append(n)
            yield dict.fromkeys(COLUMNS, "x" * 2_500)  # 40 kB a row: two rows fill a chunk

    chunks = report_csv(produce())
    assert await anext(chunks) == (",".join(COLUMNS) + "\r\n").encode()
    assert pulled == []
    await anext(chunks)
    assert pulled == [0, 1]
    assert len(b"".join([c async for c in chunks])) > 0 and pulled == [0, 1, 2]


async def test_json_stream_is_the_rows_as_one_document_in_bounded_chunks():
    async def rows(n):
        for i in range(n):
            yield {"ticketNumber": f"INC-{i}", "ticketDescription": 'é"<x>' * 50}

    for n in (0, 1, 3000):
        chunks = [chunk async for chunk in reports.report_json(rows(n))]
        assert json.loads(b"".join(chunks)) == {"data": [row async for row in rows(n)]}
        assert max(len(chunk) for chunk in chunks) < reports.CSV_CHUNK + 2000
