"""The dispatcher: hands each change to every subscriber once, drops a slow one with a resync, ends
every subscription when it stops, and makes this process forget cached access another one changed."""

import asyncio
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from helpdesk.models import ApiToken, User
from helpdesk.services import dispatcher, feed, sql, users
from tests.factories import make_admin, make_agent


def _dispatcher(app, **settings) -> dispatcher.Dispatcher:
    return dispatcher.Dispatcher(dispatcher.Settings(database_url=app.config["DATABASE_URL"], **settings))


async def test_each_subscriber_gets_each_change_once_in_order(app):
    reader = _dispatcher(app)
    await reader.start()
    try:
        first, start = reader.subscribe(user_id=1)
        second, _ = reader.subscribe(user_id=2)
        for n in range(5):
            await feed.publish("catalogue.changed", data={"n": n})
        await reader.catch_up()
        got = [first.queue.get_nowait() for _ in range(5)]
        assert [c.data["n"] for c in got] == list(range(5)) and got[0].id > start
        assert second.queue.qsize() == 5 and first.queue.empty()
    finally:
        await reader.stop()


async def test_a_slow_subscriber_is_dropped_and_told_to_resync(app):
    reader = _dispatcher(app, queue_size=3)
    reader.cursor = (await feed.bounds())[1]
    slow, _ = reader.subscribe()
    for _ in range(5):
        await feed.publish("catalogue.changed")
    await reader.catch_up()
    assert slow.queue.get_nowait() == dispatcher.RESYNC and slow not in reader.subscribers


async def test_stopping_ends_every_subscription(app):
    reader = _dispatcher(app)
    await reader.start()
    subscription, _ = reader.subscribe()
    await reader.stop()
    assert subscription.queue.get_nowait() == dispatcher.CLOSED


async def test_a_feed_that_went_back_is_read_anew(app):
    reader = _dispatcher(app)
    reader.cursor = 10_000  # a database restored from an older backup
    await reader.catch_up()
    assert reader.cursor == 0
    await feed.publish("catalogue.changed")
    assert await reader.catch_up() == 1


async def test_the_running_dispatcher_delivers_a_change_without_being_asked(app):
    running = app.extensions["feed"]
    subscription, _ = running.subscribe()
    try:
        await feed.publish("catalogue.changed", data={"live": True})
        change = await asyncio.wait_for(subscription.queue.get(), 5)
        assert change.data == {"live": True}
    finally:
        running.unsubscribe(subscription)


async def test_a_token_revoked_by_another_process_is_refused_here_after_the_feed(app):
    """Another process revokes the token: here only its rows are written, nothing clears the cache
    but a dispatcher reading the feed (the app's own may get there first)."""
    boss, agent = await make_admin(), await make_agent()
    token = await users.create_token(user=agent, name="t", actor=None)
    assert await users.user_for_token(token) is not None  # now cached in this process
    async with in_transaction():
        await ApiToken.filter(user_id=agent.id).update(revoked_at=datetime.now(UTC))
        await feed.publish("token.revoked", actor=boss, data={"user": agent.id})
    reader = _dispatcher(app)
    reader.cursor = 0
    await reader.catch_up()
    assert await users.user_for_token(token) is None


async def test_a_user_deactivated_elsewhere_is_refused_after_the_feed(app):
    agent = await make_agent()
    token = await users.create_token(user=agent, name="t", actor=None)
    assert await users.user_for_token(token) is not None
    async with in_transaction():
        await User.filter(id=agent.id).update(active=False)
        await feed.publish("user.deactivated", data={"user": agent.id})
    reader = _dispatcher(app)
    await reader.catch_up()
    assert await users.user_for_token(token) is None


async def _listeners() -> set[int]:
    rows = await sql.select_rows(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
    )
    return {row[0] for row in rows}


async def test_a_lost_listening_connection_is_replaced_and_nothing_is_missed(app):
    """PostgreSQL: the dispatcher's own LISTEN connection is cut; it connects again and reads by id
    (SQLite has no such connection: its poll delivers the change all the same)."""
    running = app.extensions["feed"]
    subscription, _ = running.subscribe()
    try:
        if sql.is_postgres():
            [listener] = await _listeners()
            await sql.select_rows("SELECT pg_terminate_backend(?)", listener)
            await feed.publish("catalogue.changed", data={"while": "cut"})
            async with asyncio.timeout(10):
                while not (await _listeners()) - {listener}:
                    await asyncio.sleep(0.05)
        else:
            await feed.publish("catalogue.changed", data={"while": "cut"})
        change = await asyncio.wait_for(subscription.queue.get(), 10)
        assert change.data == {"while": "cut"}
    finally:
        running.unsubscribe(subscription)
