"""helpdesk/compat.py's bounded pool wait relies on how Tortoise and asyncpg use their pools: these
fail loudly when a new version changes that (the behaviour itself: tests/live/test_database_faults.py)."""

import inspect

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base import client as base_client

from helpdesk import compat


def test_tortoise_creates_its_asyncpg_pool_through_create_pool():
    assert "self.create_pool(" in inspect.getsource(AsyncpgDBClient.create_connection)
    assert "_pool" in AsyncpgDBClient.__annotations__


def test_tortoise_acquires_pooled_connections_with_a_plain_acquire():
    wrapper = inspect.getsource(base_client.PoolConnectionWrapper.__aenter__)
    transaction = inspect.getsource(base_client.TransactionContextPooled)
    assert "self.client._pool.acquire()" in wrapper
    assert "._pool.acquire()" in transaction


def test_asyncpg_acquire_takes_a_timeout():
    assert "timeout" in inspect.signature(asyncpg.Pool.acquire).parameters


def test_everything_but_acquire_is_the_pool_s_own():
    class Pool:
        def release(self, connection):
            return f"released {connection}"

    bounded = compat._BoundedPool(Pool(), 1.0)
    assert bounded.release("c") == "released c" and bounded.seconds == 1.0
