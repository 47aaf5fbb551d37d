"""GET /api/stream and the browser's GET /stream: server-sent events of the changes the user may
see, resumable by Last-Event-ID, bounded per user, with heartbeats; customers see only their
organisation's tickets and never internal notes or agents-only events."""

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.models import ApiToken, FeedEvent
from helpdesk.services import admin as admin_service
from helpdesk.services import dispatcher, feed, streams
from tests.api.conftest import TICKET
from tests.factories import make_ticket
from tests.web.conftest import sign_in

Frame = dict[str, str]


class EventReader:
    """The frames of an open event stream, read as they arrive."""

    def __init__(self, connection) -> None:
        self.connection, self.buffer, self.frames = connection, "", []
        self.ended = False

    async def until(self, done: Callable[[list[Frame]], bool], seconds: float = 5) -> list[Frame]:
        async with asyncio.timeout(seconds):
            while not done(self.frames) and not self.ended:
                chunk = await self.connection.receive()
                self.ended = chunk == b""
                self.buffer += chunk.decode()
                while "\n\n" in self.buffer:
                    text, self.buffer = self.buffer.split("\n\n", 1)
                    self.frames.append(_frame(text))
        return self.frames

    def events(self) -> list[Frame]:
        return [frame for frame in self.frames if "event" in frame]


def _frame(text: str) -> Frame:
    frame: Frame = {}
    for line in text.split("\n"):
        name, _, value = line.partition(":")
        frame[name or "comment"] = value.removeprefix(" ")
    return frame


@asynccontextmanager
async def open_stream(client, path: str = "/api/stream", headers=None) -> AsyncIterator[EventReader]:
    async with client.request(path, headers=headers or {}) as connection:
        await connection.send_complete()
        reader = EventReader(connection)
        try:
            yield reader
        finally:
            await connection.disconnect()


def _seen(kind: str, count: int = 1) -> Callable[[list[Frame]], bool]:
    return lambda frames: sum(frame.get("event") == kind for frame in frames) >= count


async def test_a_stream_sends_each_change_as_an_event(app, client, admin, agent):
    async with open_stream(client, headers=agent.headers()) as stream:
        first = await stream.until(lambda frames: any("id" in f for f in frames))
        assert stream.connection.status_code == 200
        assert stream.connection.headers["Content-Type"].startswith("text/event-stream")
        assert first[0] == {"retry": str(streams.RETRY_MS)}
        start = int(next(f["id"] for f in first if "id" in f))
        created = await admin.post("/api/tickets", json=TICKET)
        frames = await stream.until(_seen("ticket.created"))
    event = stream.events()[0]
    assert int(event["id"]) > start and event["event"] == "ticket.created"
    body = json.loads(event["data"])
    assert body["type"] == "ticket.created" and body["ticketId"] == created.headers["Location"]
    assert body["by"] == admin.user.name and datetime.fromisoformat(body["at"])
    assert frames


async def test_last_event_id_resumes_without_a_gap_or_a_repeat(app, client, admin):
    async with open_stream(client, headers=admin.headers()) as stream:
        await admin.post("/api/tickets", json=TICKET)
        await stream.until(_seen("ticket.created"))
    resume_from = stream.events()[-1]["id"]
    for _ in range(3):  # while no stream was open
        await admin.post("/api/tickets", json=TICKET)
    async with open_stream(client, headers=admin.headers({"Last-Event-ID": resume_from})) as stream:
        await stream.until(_seen("ticket.created", 3))
        await admin.post("/api/tickets", json=TICKET)  # and live again
        await stream.until(_seen("ticket.created", 4))
    ids = [int(event["id"]) for event in stream.events()]
    assert ids == sorted(set(ids)) and ids[0] > int(resume_from) and len(ids) == 4
    async with open_stream(client, f"/api/stream?lastEventId={resume_from}", admin.headers()) as again:
        await again.until(_seen("ticket.created", 4))
    assert [int(event["id"]) for event in again.events()] == ids


async def test_an_id_older_than_the_feed_keeps_gets_resync(app, client, admin):
    for _ in range(3):
        await admin.post("/api/tickets", json=TICKET)
    await FeedEvent.filter(created_at__lt=datetime.now(UTC) + timedelta(hours=1)).update(
        created_at=datetime.now(UTC) - timedelta(days=3)
    )
    lowest, _ = await feed.bounds()
    await feed.prune(hours=24)
    async with open_stream(client, headers=admin.headers({"Last-Event-ID": str(lowest)})) as stream:
        await stream.until(_seen("resync"))
    assert json.loads(stream.events()[0]["data"]) == {"type": "resync"}


@pytest.mark.parametrize("value", ["abc", "-1", "1" * 40])
async def test_a_bad_last_event_id_is_400_in_the_error_shape(app, admin, value):
    response = await admin.get("/api/stream", headers={"Last-Event-ID": value})
    assert response.status_code == 400 and set(await response.get_json()) >= {"title", "message"}


async def test_streams_per_user_are_bounded(app, client, agent):
    app.config["STREAMS_PER_USER"], saved = 1, app.config["STREAMS_PER_USER"]
    try:
        async with open_stream(client, headers=agent.headers()) as stream:
            await stream.until(lambda frames: len(frames) >= 2)
            refused = await agent.get("/api/stream")
        assert refused.status_code == 429
        assert (await refused.get_json())["title"] == "Too Many Requests"
    finally:
        app.config["STREAMS_PER_USER"] = saved


async def test_a_quiet_stream_sends_heartbeats(app, client, agent):
    app.config["STREAM_HEARTBEAT_SECONDS"], saved = 0.05, app.config["STREAM_HEARTBEAT_SECONDS"]
    try:
        async with open_stream(client, headers=agent.headers()) as stream:
            frames = await stream.until(lambda frames: sum("comment" in f for f in frames) >= 2)
    finally:
        app.config["STREAM_HEARTBEAT_SECONDS"] = saved
    assert [f for f in frames if "comment" in f][0] == {"comment": "keep-alive"}


async def test_a_revoked_token_ends_its_stream(app, client, admin, agent):
    async with open_stream(client, headers=agent.headers()) as stream:
        await stream.until(lambda frames: len(frames) >= 2)
        token = await ApiToken.get(user_id=agent.user.id)
        await admin_service.revoke_token(user_id=agent.user.id, token_id=token.id, actor=admin.user)
        await stream.until(lambda frames: False)
        assert stream.ended


async def test_a_stopping_dispatcher_ends_its_streams(app, agent):
    own = dispatcher.Dispatcher(dispatcher.Settings(database_url=app.config["DATABASE_URL"]))
    await own.start()
    opened = streams.open_stream(
        dispatcher=own, user=agent.user, after=None, limit=5, heartbeat=5, recheck=lambda: None
    )
    texts = streams.events(opened)
    assert (await anext(texts)).startswith("retry:") and (await anext(texts)).startswith("id:")
    waiting = asyncio.ensure_future(anext(texts))
    await own.stop()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 5)
    assert not own.subscribers


def _customer_may_see(change: dict, organisation: str) -> bool:
    """The rule, written again from the API's: own organisation's tickets, public changes only."""
    return change["ticket"] is not None and change["organisation"] == organisation and not change["staff"]


async def test_a_customer_stream_carries_only_what_the_customer_may_see(app, client, customer, agent):
    """A fuzzed mix of changes: other organisations, internal notes, agents-only and access events."""
    rng = random.Random(20261205)
    ours = await make_ticket(agent.user, organisation_hid="ORG-1")
    theirs = await make_ticket(agent.user, organisation_hid="ORG-2")
    async with open_stream(client, headers=customer.headers()) as stream:
        await stream.until(lambda frames: len(frames) >= 2)
        published = []
        for n in range(120):
            ticket = rng.choice([ours, theirs, None])
            kind = rng.choice(sorted(feed.KINDS if ticket is None else feed.TICKET_KINDS | feed.STAFF_KINDS))
            internal = kind == "comment.created" and rng.random() < 0.5
            details = {"internal": internal, "n": n} if internal else {"n": n}
            if ticket is None:
                await feed.publish(kind, data=details | {"user": 0})
            else:
                await feed.publish_ticket(kind, ticket, agent.user, **details)
            row = feed.row(kind, staff_only=internal)
            published.append(
                {"n": n, "ticket": ticket and ticket.id, "staff": row["staff_only"],
                 "organisation": ticket and ticket.organisation_hid}
            )  # fmt: skip
        await feed.publish_ticket("ticket.updated", ours, agent.user, n="end")
        await stream.until(lambda frames: any('"n":"end"' in f.get("data", "") for f in frames))
    bodies = [json.loads(event["data"]) for event in stream.events()]
    got = [body["n"] for body in bodies if "n" in body][:-1]  # not the two tickets' creation
    expected = [change["n"] for change in published if _customer_may_see(change, "ORG-1")]
    assert got == expected and 0 < len(expected) < len(published)


async def test_the_browser_stream_follows_the_session(app, client, agent):
    assert (await client.get("/stream")).status_code == 401
    await sign_in(client, agent.user)
    async with open_stream(client, "/stream") as stream:
        frames = await stream.until(lambda frames: any("id" in f for f in frames))
        await make_ticket(agent.user)
        await stream.until(_seen("ticket.created"))
    assert stream.connection.status_code == 200 and frames
