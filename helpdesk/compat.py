"""The only place that reaches into Tortoise's and asyncpg's private parts; tests/test_compat.py
fails loudly when a new version of either library moves them."""

import asyncio
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient

# --- PostgreSQL: a bounded wait for a pooled connection --------------------------------------
# Tortoise acquires from its asyncpg pool with no timeout, so a request waited for ever behind a
# full pool; and when the server had no slot left for the pool to grow (TooManyConnectionsError)
# it failed at once instead of waiting for one of the pool's connections to come back.


class NoPooledConnection(TimeoutError):
    """No pooled PostgreSQL connection came free within the configured wait."""


class _BoundedPool:
    """An asyncpg pool whose `acquire` waits at most `seconds`; everything else is the pool's."""

    def __init__(self, pool: asyncpg.Pool, seconds: float) -> None:
        self.pool, self.seconds = pool, seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)

    async def acquire(self) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        while True:
            remaining = deadline - loop.time()
            try:
                return await self.pool.acquire(timeout=max(remaining, 0.001))
            except TimeoutError as error:
                raise NoPooledConnection(
                    f"no database connection came free within {self.seconds:g} s"
                ) from error
            except asyncpg.TooManyConnectionsError:
                if remaining < 0.1:
                    raise
                await asyncio.sleep(0.05)  # the server is full: wait for one of ours to come back


def wait_for_pooled_connections(client: BaseDBAsyncClient, seconds: float) -> None:
    """Make this PostgreSQL client's pool wait at most `seconds` for a connection, then raise
    NoPooledConnection (SQLite has one connection and no pool: nothing to do)."""
    if not isinstance(client, AsyncpgDBClient):
        return
    create_pool = type(client).create_pool

    async def bounded_pool(**kwargs: Any) -> _BoundedPool:
        return _BoundedPool(await create_pool(client, **kwargs), seconds)

    client.create_pool = bounded_pool  # type: ignore[method-assign]
    if client._pool is not None and not isinstance(client._pool, _BoundedPool):
        client._pool = _BoundedPool(client._pool, seconds)  # type: ignore[assignment]
