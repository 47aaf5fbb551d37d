"""Live streams: the changes a user may see, as server-sent events (`text/event-stream`), from this
process's dispatcher, resumable by feed id. The API (`GET /api/stream`) and the browser (`GET
/stream`) serve the same stream; only how the user is known differs.

Each event: `id:` the feed id, `event:` its kind, `data:` JSON with at least `type`, `ticketId`,
`at` and `by`. A stream opened without an id starts with a bare `id:` line (the position it starts
after), so a client that reconnects resumes from there even when nothing happened meanwhile.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from helpdesk.errors import BadRequest, RateLimited
from helpdesk.models import User
from helpdesk.models.tickets import TICKET_PREFIX
from helpdesk.services import feed
from helpdesk.services.dispatcher import CLOSED, RESYNC, Dispatcher, Subscription

MEDIA_TYPE = "text/event-stream"
HEADERS = {"X-Accel-Buffering": "no"}  # a proxy (nginx) must pass each event on at once
RETRY_MS = 2000  # how soon a browser reconnects after a dropped stream
HIDDEN = {"type", "ticketId", "at", "by", "users", "self"}  # data keys an event never passes on as they are
Recheck = Callable[[], Awaitable[User | None]]


def last_event_id(header: str | None, query: str | None) -> int | None:
    """Where the client asks to resume (`Last-Event-ID` header, else `?lastEventId=`), or None."""
    value = (header or query or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise BadRequest("Bad Last-Event-ID.", {"lastEventId": ["must be an id this stream sent"]})
    return int(value)


@dataclass
class Stream:
    """One open stream: its user, its subscription and where it resumes."""

    dispatcher: Dispatcher
    user: User
    subscription: Subscription
    start: int  # the dispatcher's position when it subscribed
    after: int | None  # the client's Last-Event-ID
    heartbeat: float
    recheck: Recheck  # the user the stream's credential names now, or None when it stopped working
    last: int = 0  # the id of the last change it handled


def open_stream(
    *, dispatcher: Dispatcher, user: User, after: int | None, limit: int, heartbeat: float, recheck: Recheck
) -> Stream:
    """Subscribe a stream for the user; RateLimited when they have `limit` open in this process."""
    if dispatcher.count(user.id) >= limit:
        raise RateLimited(f"You have {limit} live streams open already; close one first.")
    subscription, start = dispatcher.subscribe(user_id=user.id)
    return Stream(dispatcher, user, subscription, start, after, heartbeat, recheck)


async def events(stream: Stream) -> AsyncIterator[str]:
    """The stream's text: a replay from its Last-Event-ID, then live changes and heartbeats, until
    the app stops or the user's credential stops working."""
    try:
        yield f"retry: {RETRY_MS}\n\n"
        stream.last = stream.start
        if stream.after is None:
            yield f"id: {stream.last}\n\n"
        elif not await feed.retained(stream.after):
            yield _resync(stream.last)
        else:
            stream.last = stream.after
            async for text in _replay(stream):
                yield text
        async for text in _live(stream):
            yield text
    finally:
        stream.dispatcher.unsubscribe(stream.subscription)


async def _replay(stream: Stream) -> AsyncIterator[str]:
    """The retained changes after the stream's last id that its user may see, read from the feed."""
    while changes := await feed.read_after(stream.last):
        for change in changes:
            stream.last = change.id
            if change.visible_to(stream.user):
                yield event_text(change, stream.user)


async def _live(stream: Stream) -> AsyncIterator[str]:
    while True:
        try:
            item = await asyncio.wait_for(stream.subscription.queue.get(), stream.heartbeat)
        except TimeoutError:
            yield ": keep-alive\n\n"
            continue
        if item == CLOSED:
            return
        if item == RESYNC:  # this stream fell behind: read on from the feed, then subscribe anew
            stream.subscription, _ = stream.dispatcher.subscribe(user_id=stream.user.id)
            async for text in _replay(stream):
                yield text
            continue
        if item.id <= stream.last:
            continue
        stream.last = item.id
        if item.kind in feed.ACCESS_KINDS and item.data.get("user") in (None, stream.user.id):
            if (user := await stream.recheck()) is None:
                return
            stream.user = user
        elif item.visible_to(stream.user):
            yield event_text(item, stream.user)


def event_text(change: feed.Change, user: User | None = None) -> str:
    """One change as a server-sent event; `self` when `user` (the stream's) made it."""
    body = {
        "type": change.kind,
        "ticketId": f"{TICKET_PREFIX}{change.ticket_id}" if change.ticket_id else None,
        "at": change.created_at.isoformat(),
        "by": change.actor_label or None,
    } | {key: value for key, value in change.data.items() if key not in HIDDEN}
    if user is not None and change.actor_id is not None and change.actor_id == user.id:
        body["self"] = True
    return f"id: {change.id}\nevent: {change.kind}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


def _resync(position: int) -> str:
    """Changes the client asked for are no longer kept: it must reload what it shows."""
    return f'id: {position}\nevent: resync\ndata: {{"type":"resync"}}\n\n'
