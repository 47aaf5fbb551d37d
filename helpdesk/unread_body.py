"""Answer a request only once its body has arrived, up to a bound: a refused upload gets its 413.

Quart answers an over-long body (413), or a request it refuses before reading (401, 404), at once,
and stops reading. Granian then closed the connection with the rest of the body unread, and the
client, still sending, often saw a reset connection instead of the answer (10 of 24 uploads over
1 MiB). Quart keeps receiving, and discarding, the body while the answer waits here."""

import asyncio
import contextlib
from typing import Any

DRAIN_BYTES = 16 * 1024 * 1024  # past this much, answer anyway: the client may then see a reset
DRAIN_SECONDS = 10

Message = dict[str, Any]


class AnswerAfterBody:
    """ASGI middleware: hold a response's start until its request's body has all been received."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body = _Body(receive, send)
        return await self.app(scope, body.receive, body.send)


class _Body:
    """How much of one request's body has arrived, and the answer held back until it all has."""

    def __init__(self, receive: Any, send: Any) -> None:
        self._receive, self._send = receive, send
        self.received, self.complete = 0, asyncio.Event()

    async def receive(self) -> Message:
        message = await self._receive()
        self.received += len(message.get("body", b""))
        if not message.get("more_body", False) or self.received > DRAIN_BYTES:
            self.complete.set()  # the whole body, a disconnect, or as much as we will read
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and not self.complete.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.complete.wait(), DRAIN_SECONDS)
        await self._send(message)
