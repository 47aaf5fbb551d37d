"""/healthz and /readyz: liveness whatever the database does; readiness says whether it can serve."""

import asyncio

from tortoise.transactions import in_transaction

from helpdesk import db


async def test_healthz_and_readyz_when_all_is_well(client):
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert (ready.status_code, await ready.get_json()) == (200, {"status": "ready", "database": "ok"})


async def test_a_write_under_way_leaves_the_node_ready(client, monkeypatch):
    """On SQLite a write holds the one connection (the probe waits, then says busy); PostgreSQL
    has other pooled connections. Either way requests queue rather than fail: ready, 200."""
    monkeypatch.setattr(db, "READY_SECONDS", 0.2)
    writing, written = asyncio.Event(), asyncio.Event()

    async def write() -> None:  # in a task of its own, as another request's write is
        async with in_transaction() as connection:
            await connection.execute_query("UPDATE outbox_email SET attempts = attempts WHERE id = 0")
            writing.set()
            await written.wait()

    writer = asyncio.create_task(write())
    await writing.wait()
    try:
        ready = await client.get("/readyz")
    finally:
        written.set()
        await writer
    busy = "busy" if db.dialect() == "sqlite" else "ok"
    assert (ready.status_code, await ready.get_json()) == (200, {"status": "ready", "database": busy})
    assert "Retry-After" not in ready.headers


async def test_a_database_that_takes_no_writes_is_not_ready(client):
    async with in_transaction() as connection:
        if db.dialect() == "sqlite":
            await connection.execute_script("PRAGMA query_only = 1")
        else:
            await connection.execute_script("SET TRANSACTION READ ONLY")
        try:
            ready = await client.get("/readyz")
        finally:
            if db.dialect() == "sqlite":
                await connection.execute_script("PRAGMA query_only = 0")
    assert ready.status_code == 503 and int(ready.headers["Retry-After"]) > 0
    assert await ready.get_json() == {"status": "unavailable", "database": "read-only"}


async def test_the_probes_live_in_their_own_blueprint(app):
    """The app factory holds no routes of its own."""
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    assert (endpoints["/healthz"], endpoints["/readyz"]) == ("health.healthz", "health.readyz")
