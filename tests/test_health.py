"""/healthz and /readyz: liveness whatever the database does; readiness says whether it can serve."""

import asyncio
import contextvars

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
    async with in_transaction() as writing:
        await writing.execute_query("UPDATE outbox_email SET attempts = attempts WHERE id = 0")
        # asked from outside the write's context, as a load balancer's probe is
        ready = await asyncio.create_task(client.get("/readyz"), context=contextvars.Context())
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
