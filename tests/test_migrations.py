"""Migrations build the whole schema, with its constraints and indexes, on an empty database."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from helpdesk import db
from helpdesk.models import Group, State
from helpdesk.services import search
from helpdesk.services.reference import DEFAULT_CATALOGUE, load_reference_data

EXPECTED_TABLES = {
    "organisation",
    "user",
    "api_token",
    "web_session",
    "agent_group",
    "group_member",
    "state",
    "ticket",
    "ticket_attribute",
    "comment",
    "ticket_history",
    "idempotency_key",
    "event",
    "outbox_email",
    "consumed_token",
    "attempt",
    "contact_proposal",
    "feed_event",
    "rate_bucket",
    "notification",
    "notification_setting",
    "inbound_email",
    "bouncing_address",
    "attachment",
    "ticket_presence",
    "reply_draft",
    "tag",
    "ticket_tag",
    "canned_reply",
    "saved_view",
    "ticket_link",
    "sla_calendar",
    "sla_holiday",
    "sla_policy",
    "sla_event",
}
# Each filter and sort a screen or the API offers has an index starting with its column.
EXPECTED_INDEXES = {
    "ticket": [
        ("deleted_at", "resolved_at", "id"),
        ("deleted_at", "id"),
        ("deleted_at", "created_at"),
        ("deleted_at", "updated_at"),
        ("assignee_id", "resolved_at", "id"),
        ("assignee_id", "id"),
        ("group_id", "resolved_at", "id"),
        ("state_id", "id"),
        ("priority_id", "id"),
        ("type_id", "id"),
        ("stage_id", "id"),
        ("outcome_id", "id"),
        ("organisation_hid", "id"),
        ("reporter_hid", "id"),
        ("created_at",),
        ("updated_at",),
        ("resolved_at",),
        # issue 17: the queues' sort by the SLA due, the breached filter, the SLA timer's due rows
        ("deleted_at", "sla_due_at", "id"),
        ("deleted_at", "resolved_at", "sla_due_at", "id"),  # open tickets by due: no sort at 1M (SQLite)
        ("sla_due_at", "id"),  # the same on PostgreSQL
        ("deleted_at", "sla_warn_at", "id"),
        ("deleted_at", "sla_breached", "id"),
        ("sla_next_event_at",),
    ],
    "comment": [("ticket_id", "id")],
    "ticket_history": [("ticket_id", "id")],
    "ticket_attribute": [("ticket_id", "type", "key")],
    "event": [("target", "key", "id")],
    "outbox_email": [("status", "next_attempt_at"), ("ticket_id", "id"), ("status", "sent_at")],
    "contact_proposal": [("ticket_id", "id")],
    "user": [("agent", "active"), ("organisation_hid",)],
    "attempt": [("key", "created_at"), ("created_at",)],
    "web_session": [("user_id",), ("expires_at",)],
    "feed_event": [("created_at",), ("ticket_id", "id")],  # pruning; a ticket's changes since a point
    "notification": [("user_id", "id"), ("user_id", "read_at")],  # a user's newest; their unread count
    # the intake worker's claim, a ticket's received mail, the per-sender cap; one row per message
    "inbound_email": [
        ("status", "next_attempt_at"),
        ("ticket_id", "id"),
        ("sender", "created_at"),
        ("message_key",),
    ],
    "bouncing_address": [("address",)],
    # a thread's files, a ticket's files, the uploader's files a new comment may carry
    "attachment": [("comment_id", "id"), ("ticket_id", "id"), ("uploaded_by_id", "ticket_id")],
    "ticket_presence": [("ticket_id", "seen_at"), ("seen_at",)],  # who is on a ticket now; pruning
    # issue 16: the filter by tag; a user's replies and views, a group's views; a ticket's links
    "ticket_tag": [("tag_id", "ticket_id"), ("ticket_id", "tag_id")],
    "canned_reply": [("owner_id", "title")],
    "saved_view": [("owner_id", "name"), ("group_id", "name")],
    "ticket_link": [("ticket_id", "other_id")],
    "sla_event": [("ticket_id", "target", "kind", "cycle")],
}
# Full-text search keeps one document per ticket, keyed by its id (migration 0004).
EXPECTED_SEARCH = {
    "sqlite": {"table": "ticket_search"},
    "postgres": {"index": ("ticket", ("search_vector",))},
}
# Migration 0002's search, replaced by 0004: a row per comment, or an index per table.
REPLACED_SEARCH = {
    "sqlite": {"table": "search_doc"},
    "postgres": {"index": ("comment", ("to_tsvector('simple'::regconfig", "body)"))},
}
EXPECTED_UNIQUE = {
    "user": [("email",), ("human_id",)],
    "organisation": [("human_id",)],
    "api_token": [("digest",)],
    "group_member": [("group_id", "user_id")],
    "state": [("kind", "description")],
    "idempotency_key": [("user_id", "key")],
    "outbox_email": [("message_id",)],
    "notification_setting": [("user_id", "kind")],
    "ticket_presence": [("ticket_id", "user_id")],  # one row per person on a ticket, upserted
    "reply_draft": [("ticket_id", "user_id")],  # one draft per person and ticket
    "tag": [("name",)],
    "ticket_tag": [("ticket_id", "tag_id")],
    "ticket_link": [("ticket_id", "other_id")],
    # issue 17: one calendar per name, one holiday per day, one warning or breach per clock cycle
    "sla_calendar": [("name",)],
    "sla_holiday": [("calendar_id", "day")],
    "sla_policy": [("name",)],
    "sla_event": [("ticket_id", "target", "kind", "cycle")],
}


async def _tables() -> set[str]:
    connection = Tortoise.get_connection("default")
    if db.dialect() == "postgres":
        rows = await connection.execute_query_dict(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        )
    else:
        rows = await connection.execute_query_dict("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


async def _indexes(table: str) -> list[tuple[tuple[str, ...], bool]]:
    """(columns, unique) for every index of the table, read from the database itself."""
    connection = Tortoise.get_connection("default")
    if db.dialect() == "postgres":
        rows = await connection.execute_query_dict(
            "SELECT indexdef FROM pg_indexes WHERE tablename = $1", [table]
        )
        found = []
        for row in rows:
            columns = re.search(r"\((.*)\)", row["indexdef"]).group(1)
            names = tuple(c.strip().strip('"') for c in columns.split(","))
            found.append((names, "UNIQUE" in row["indexdef"]))
        return found
    found = []
    for index in await connection.execute_query_dict(f'PRAGMA index_list("{table}")'):
        info = await connection.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
        found.append((tuple(col["name"] for col in info), bool(index["unique"])))
    return found


@pytest.fixture
async def fresh_database(make_database_url, database_url):
    """An empty database, migrated by the same code `helpdesk migrate` runs."""
    url = make_database_url("fresh")
    await db.migrate_database(url)
    await db.migrate_database(url)  # a second run finds nothing to do
    await db.open_database(url)
    yield url
    await db.close_database()
    # Tortoise is process-global: give the session's app (used by later tests) its database back.
    await db.open_database(database_url)


async def test_migrations_create_every_table(fresh_database):
    assert EXPECTED_TABLES <= await _tables()


async def test_every_screen_filter_has_its_index(fresh_database):
    for table, wanted in EXPECTED_INDEXES.items():
        present = [columns for columns, _ in await _indexes(table)]
        for columns in wanted:
            assert columns in present, f"{table} lacks an index on {columns}: {present}"


async def _has_search(expected: dict) -> bool:
    if "table" in expected:
        return expected["table"] in await _tables()
    table, columns = expected["index"]
    return columns in [found for found, _ in await _indexes(table)]


async def test_search_keeps_one_document_per_ticket(fresh_database):
    assert await _has_search(EXPECTED_SEARCH[db.dialect()])
    assert not await _has_search(REPLACED_SEARCH[db.dialect()])


async def _ticket_with_thread(title: str, reply: str, note: str) -> None:
    """A ticket and its comments written in SQL, as the rows of the schema before 0004."""
    connection = Tortoise.get_connection("default")

    async def insert(table: str, values: dict) -> None:
        marks = [f"${n}" if db.dialect() == "postgres" else "?" for n in range(1, len(values) + 1)]
        sql = f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(marks)})"  # noqa: S608
        await connection.execute_query(sql, list(values.values()))

    when = datetime(2024, 1, 1, tzinfo=UTC)
    ticket = {"id": 1, "organisation_hid": "ORG-1", "contract_hid": "C", "tenant_hid": "1"}
    ticket |= {"reporter_hid": "U", "title": title, "description": "Slow line", "version": 1}
    await insert("ticket", ticket | {"created_at": when, "updated_at": when})
    for body, internal in ((reply, False), (note, True)):
        comment = {"ticket_id": 1, "author_hid": "U", "body": body, "internal": internal}
        await insert("comment", comment | {"created_at": when, "updated_at": when})


async def _search_ids(text: str, *, include_internal: bool) -> list[int]:
    """Ticket ids matching, by the queries the ticket lists run on each database."""
    connection = Tortoise.get_connection("default")
    if db.dialect() == "postgres":
        sql = "SELECT id FROM ticket WHERE search_vector @@ to_tsquery('simple', $1) ORDER BY id"
        query = search.tsquery(text, include_internal=include_internal)
    else:
        sql = "SELECT rowid AS id FROM ticket_search WHERE ticket_search MATCH ? ORDER BY rowid"
        query = search.fts5_match(text, include_internal=include_internal)
    return [row["id"] for row in await connection.execute_query_dict(sql, [query])]


@asynccontextmanager
async def _ticket_migrated_from(url: str, target: str, *thread: str) -> AsyncIterator[None]:
    """A ticket with a reply and a note written under the schema of `target`, then every later
    migration run over it; the session's database comes back afterwards."""
    await migrate(config=db.tortoise_config(url), target=target)
    await db.open_database(url)
    await _ticket_with_thread(*thread)
    await db.close_database()
    await db.migrate_database(url)
    await db.open_database(url)
    try:
        yield
    finally:
        await db.close_database()


async def test_search_migration_indexes_the_tickets_already_there(make_database_url, database_url):
    thread = ("Router offline", "Engineer booked", "Carrier fault raised")
    try:
        async with _ticket_migrated_from(
            make_database_url("search"), "helpdesk.0003_live_ticket_sort_indexes", *thread
        ):
            assert await _search_ids("router slow engineer", include_internal=False) == [1]
            assert await _search_ids("carr", include_internal=True) == [1]
            assert await _search_ids("carr", include_internal=False) == []
    finally:
        await db.open_database(database_url)


async def test_joined_words_migration_reindexes_the_tickets_already_there(make_database_url, database_url):
    """Migration 0009: a ticket written before it about "Wi-Fi" is found by "wifi"."""
    thread = ("Wi-Fi drops", "Engineer booked", "Access-point swapped")
    try:
        async with _ticket_migrated_from(
            make_database_url("joined"), "helpdesk.0005_bounded_search_documents", *thread
        ):
            assert await _search_ids("wifi", include_internal=False) == [1]
            assert await _search_ids("wi-fi engineer", include_internal=False) == [1]
            assert await _search_ids("access-point", include_internal=True) == [1]
    finally:
        await db.open_database(database_url)


async def test_unique_constraints_exist(fresh_database):
    for table, wanted in EXPECTED_UNIQUE.items():
        unique = [columns for columns, is_unique in await _indexes(table) if is_unique]
        for columns in wanted:
            assert columns in unique, f"{table} lacks a unique constraint on {columns}"


async def test_reference_data_loads_once(fresh_database):
    assert await load_reference_data() == len(DEFAULT_CATALOGUE) + 1
    assert await load_reference_data() == 0
    assert await State.all().count() == len(DEFAULT_CATALOGUE)
    assert await Group.all().count() == 1
    priorities = await State.filter(kind=3).values_list("description", flat=True)
    assert "P5 - Priority 5" in priorities
    for kind in {kind for kind, _, _ in DEFAULT_CATALOGUE}:  # positions count within each kind
        positions = await State.filter(kind=kind).order_by("position").values_list("position", flat=True)
        assert positions == list(range(len(positions))), kind


async def _insert(table: str, values: dict) -> None:
    marks = [f"${n}" if db.dialect() == "postgres" else "?" for n in range(1, len(values) + 1)]
    sql = f'INSERT INTO "{table}" ({", ".join(values)}) VALUES ({", ".join(marks)})'  # noqa: S608
    await Tortoise.get_connection("default").execute_query(sql, list(values.values()))


async def test_idempotency_keys_made_before_0007_still_answer_for_their_tickets(
    make_database_url, database_url
):
    url = make_database_url("keys")
    await migrate(config=db.tortoise_config(url), target="helpdesk.0005_bounded_search_documents")
    await db.open_database(url)
    await _ticket_with_thread("Router offline", "Engineer booked", "Carrier fault raised")
    when = datetime(2024, 1, 1, tzinfo=UTC)
    person = {"id": 1, "email": "a@example.com", "name": "A", "admin": False, "agent": True, "active": True}
    await _insert("user", person | {"created_at": when, "updated_at": when})
    await _insert("idempotency_key", {"user_id": 1, "key": "k", "ticket_id": 1, "created_at": when})
    await db.close_database()
    await db.migrate_database(url)
    await db.open_database(url)
    try:
        from helpdesk.models import IdempotencyKey, User
        from helpdesk.services import idempotency

        key = idempotency.request(await User.get(id=1), "k", idempotency.TICKET)
        assert await idempotency.earlier(key) == 1
        assert ("user_id", "key") in [
            columns for columns, unique in await _indexes("idempotency_key") if unique
        ]
        await IdempotencyKey.create(user_id=1, key="user-key", scope=idempotency.USER, resource_id=1)
    finally:
        await db.close_database()
        await db.open_database(database_url)


async def test_sessions_open_before_migration_0008_keep_working(make_database_url, database_url):
    """0008 adds columns to web_session: rows already there stay, with the new columns empty."""
    url = make_database_url("sessions")
    await migrate(config=db.tortoise_config(url), target="helpdesk.0005_bounded_search_documents")
    await db.open_database(url)
    when = datetime(2024, 1, 1, tzinfo=UTC)
    person = {"id": 1, "email": "a@example.com", "name": "A", "admin": False, "agent": False, "active": True}
    await _insert("user", person | {"created_at": when, "updated_at": when})
    await _insert("web_session", {"digest": "d" * 64, "user_id": 1, "created_at": when, "expires_at": when})
    await db.close_database()
    await db.migrate_database(url)
    await db.open_database(url)
    try:
        rows = await Tortoise.get_connection("default").execute_query_dict(
            "SELECT digest, last_seen_at, address FROM web_session"
        )
        assert rows == [{"digest": "d" * 64, "last_seen_at": None, "address": None}]
    finally:
        await db.close_database()
        await db.open_database(database_url)


async def test_migration_0012_numbers_positions_within_each_kind_and_gives_organisations_defaults(
    make_database_url, database_url
):
    """Positions ran across all kinds (0-22) and a new state tied with "New" at 0: 0012 numbers
    them within each kind, keeping the order. Organisations gain a default contract and tenant,
    taken from their latest ticket."""
    url = make_database_url("positions")
    await migrate(config=db.tortoise_config(url), target="helpdesk.0011_change_feed")
    await db.open_database(url)
    try:
        when = datetime(2024, 1, 1, tzinfo=UTC)
        rows = [(1, "New", 0), (1, "Open", 1), (2, "Default", 5), (2, "Incident", 6), (1, "Later", 0)]
        for kind, description, position in rows:
            await _insert(
                "state",
                {"kind": kind, "description": description, "position": position, "closes": False}
                | {"created_at": when, "updated_at": when},
            )
        acme = {"human_id": "ORG-1", "legal_name": "Acme plc", "name": "Acme", "role": "customer"}
        await _insert("organisation", acme | {"created_at": when, "updated_at": when})
        for ticket_id, contract in ((1, "CON-OLD"), (2, "CON-NEW")):
            ticket = {
                "id": ticket_id,
                "organisation_hid": "ORG-1",
                "contract_hid": contract,
                "tenant_hid": "T-9",
            }
            ticket |= {"reporter_hid": "U", "title": "t", "description": "d", "version": 1}
            await _insert("ticket", ticket | {"created_at": when, "updated_at": when})
        await db.close_database()
        await db.migrate_database(url)
        await db.open_database(url)
        found = await State.all().order_by("kind", "position").values_list("kind", "description", "position")
        assert found == [
            (1, "New", 0), (1, "Later", 1), (1, "Open", 2), (2, "Default", 0), (2, "Incident", 1)
        ]  # fmt: skip
        defaults = await Tortoise.get_connection("default").execute_query_dict(
            "SELECT default_contract_hid, default_tenant_hid FROM organisation"
        )
        assert defaults == [{"default_contract_hid": "CON-NEW", "default_tenant_hid": "T-9"}]
    finally:
        await db.close_database()
        await db.open_database(database_url)


async def test_users_have_a_time_zone_empty_for_those_made_before_0015(fresh_database):
    connection = Tortoise.get_connection("default")
    await connection.execute_query(
        'INSERT INTO "user" (email, name, admin, agent, active, created_at, updated_at) '
        "VALUES ('tz@example.com', 'TZ', false, true, true, '2026-01-01', '2026-01-01')"
    )
    rows = await connection.execute_query_dict(
        "SELECT time_zone FROM \"user\" WHERE email = 'tz@example.com'"
    )
    assert rows == [{"time_zone": ""}]
