"""One dispatcher per app process: it reads the change feed (services/feed.py) by id and hands each
change to this process's caches and subscribers (the live streams).

PostgreSQL: woken by LISTEN/NOTIFY on a connection of its own (not one of the ORM's pool), then a
read by id; after every (re)connect, and every `catch_up` seconds anyway, it reads by id too, so a
lost notification or a dropped connection delays a change but never loses it. SQLite: an indexed
read by id every `poll` seconds.

Subscribers get bounded queues: one that falls `queue_size` changes behind is dropped and told to
resync (it can resume from the feed by id), rather than slow the others or grow without bound.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from helpdesk import compat, db
from helpdesk.services import cache, feed, presence

log = logging.getLogger(__name__)

RESYNC = "resync"  # put in a dropped subscriber's queue: it missed changes
CLOSED = "closed"  # put in every queue when the dispatcher stops: streams end
PRUNE_SECONDS = 300.0


@dataclass(eq=False)
class Subscription:
    """What one subscriber (a stream) receives: changes, then perhaps RESYNC or CLOSED."""

    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    user_id: int | None = None


@dataclass
class Settings:
    database_url: str
    poll: float = 0.2  # SQLite: seconds between reads
    catch_up: float = 5.0  # PostgreSQL: seconds between reads when no notification came
    retention_hours: float = 24.0
    queue_size: int = 1000


def settings_from(config: Mapping[str, Any]) -> Settings:
    """The dispatcher's settings from the app's configuration."""
    return Settings(
        database_url=config["DATABASE_URL"],
        poll=config["FEED_POLL_MS"] / 1000,
        catch_up=float(config["FEED_CATCH_UP_SECONDS"]),
        retention_hours=float(config["FEED_RETENTION_HOURS"]),
    )


class Dispatcher:
    """Reads the feed from where this process started and fans each change out."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cursor = 0
        self.closing = False
        self.subscribers: set[Subscription] = set()
        self.hooks: list[Callable[[feed.Change], None]] = [_follow_access]
        self._wake = asyncio.Event()
        self._reading = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._next_prune = 0.0

    async def start(self) -> None:
        """Start at the newest change: what happened before this process started is history."""
        self.cursor = (await feed.bounds())[1]
        self._task = asyncio.create_task(self._run(), name="feed-dispatcher")

    async def stop(self) -> None:
        """Stop reading and tell every subscriber to end."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.end_streams()

    def end_streams(self) -> None:
        """The server is shutting down: end every subscription now, and each new one at once (the
        server waits for open responses before the app stops, and a stream never ends by itself)."""
        self.closing = True
        for subscription in list(self.subscribers):
            self._end(subscription, CLOSED)

    def subscribe(self, *, user_id: int | None = None) -> tuple[Subscription, int]:
        """A new subscription and the id it starts after (the next change it gets is above it)."""
        subscription = Subscription(asyncio.Queue(self.settings.queue_size + 1), user_id)
        if self.closing:
            subscription.queue.put_nowait(CLOSED)
        else:
            self.subscribers.add(subscription)
        return subscription, self.cursor

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)

    def count(self, user_id: int) -> int:
        return sum(1 for s in self.subscribers if s.user_id == user_id)

    def restart_from(self, cursor: int) -> None:
        """Read on from `cursor` (the tests empty the database between tests)."""
        self.cursor = cursor
        self._wake.set()

    async def catch_up(self) -> int:
        """Read and hand out every change after the cursor; how many there were (one reader at a
        time: two would hand the same changes out twice)."""
        async with self._reading:
            return await self._catch_up()

    async def _catch_up(self) -> int:
        handed = 0
        while changes := await feed.read_after(self.cursor):
            for change in changes:
                self._hand_out(change)
            self.cursor = changes[-1].id
            handed += len(changes)
        if not handed and self.cursor and (await feed.bounds())[1] < self.cursor:
            self.cursor = 0  # the feed went back (a restored or emptied database): read it anew
        return handed

    def _hand_out(self, change: feed.Change) -> None:
        for hook in self.hooks:
            hook(change)
        for subscription in list(self.subscribers):
            try:
                subscription.queue.put_nowait(change)
            except asyncio.QueueFull:
                self._end(subscription, RESYNC)

    def _end(self, subscription: Subscription, why: str) -> None:
        """Drop a subscriber with a last word it will see next (its queue emptied to make room)."""
        self.subscribers.discard(subscription)
        while not subscription.queue.empty():
            subscription.queue.get_nowait()
        subscription.queue.put_nowait(why)

    async def _run(self) -> None:
        if db.dialect() == "postgres":
            await self._listen_forever()
        else:
            await self._poll_forever()

    async def _poll_forever(self) -> None:
        while True:
            await self._round()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.poll):
                    await self._wake.wait()
            self._wake.clear()

    async def _round(self) -> None:
        """One catch-up and, now and then, pruning; a database fault waits for the next round."""
        compat.stop_if_cancelled()
        try:
            await self.catch_up()
            await self._prune_when_due()
        except Exception as error:  # noqa: BLE001 - the dispatcher outlives a database outage
            db.report_fault(error, "the feed dispatcher")

    async def _prune_when_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now >= self._next_prune:
            # Spread over processes: each prunes now and then, and the delete is idempotent.
            self._next_prune = now + PRUNE_SECONDS * random.uniform(0.5, 1.5)  # noqa: S311
            await feed.prune(hours=self.settings.retention_hours)
            await presence.prune()

    async def _listen_forever(self) -> None:
        backoff = 0.5
        while True:
            try:
                connection = await asyncpg.connect(**_connect_arguments(self.settings.database_url))
            except (OSError, asyncpg.PostgresError) as error:
                db.report_fault(error, "the feed listener")
                await self._round()  # the pool may still answer: keep reading by id meanwhile
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            try:
                await self._listen(connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                db.report_fault(error, "the feed listener")
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 2)

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """Wake on each notification, read by id after (re)connecting and every `catch_up` s."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda *_: lost.set())
        await connection.add_listener(feed.CHANNEL, lambda *_: self._wake.set())
        while not lost.is_set():
            await self._round()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.catch_up):
                    await self._wake.wait()
            self._wake.clear()
        raise asyncpg.InterfaceError("the feed listener's connection closed")


def _connect_arguments(database_url: str) -> dict[str, Any]:
    """asyncpg.connect's arguments for the configured database (the pool's own settings dropped)."""
    credentials = expand_db_url(database_url)["credentials"]
    names = {"host": "host", "port": "port", "user": "user", "password": "password", "database": "database"}
    return {name: credentials[key] for key, name in names.items() if credentials.get(key) is not None}


def _follow_access(change: feed.Change) -> None:
    """Who may do what changed in some process: this one forgets its cached users, tokens, sessions
    and catalogue, so the next request reads them again."""
    if change.kind in feed.ACCESS_KINDS or change.kind == "catalogue.changed":
        cache.changed()
