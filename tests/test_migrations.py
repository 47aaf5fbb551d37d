"""Migrations build the whole schema, with its constraints and indexes, on an empty database."""

import re

import pytest
from tortoise import Tortoise

from helpdesk import db
from helpdesk.models import Group, State
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
}
# Each filter and sort a screen or the API offers has an index starting with its column.
EXPECTED_INDEXES = {
    "ticket": [
        ("deleted_at", "resolved_at", "id"),
        ("deleted_at", "id"),
        ("deleted_at", "created_at"),
        ("deleted_at", "updated_at"),
        ("assignee_id", "resolved_at", "id"),
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
    ],
    "comment": [("ticket_id", "id")],
    "ticket_history": [("ticket_id", "id")],
    "ticket_attribute": [("ticket_id", "type", "key")],
    "event": [("target", "key", "id")],
    "outbox_email": [("status", "next_attempt_at")],
    "user": [("agent", "active"), ("organisation_hid",)],
}
EXPECTED_UNIQUE = {
    "user": [("email",), ("human_id",)],
    "organisation": [("human_id",)],
    "api_token": [("digest",)],
    "group_member": [("group_id", "user_id")],
    "state": [("kind", "description")],
    "idempotency_key": [("user_id", "key")],
    "outbox_email": [("message_id",)],
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
