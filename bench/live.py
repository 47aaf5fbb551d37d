"""`make bench-live`: many open live streams on one server, and how fast a write reaches them.

Opens STREAMS (default 1000) `GET /api/stream` connections to `helpdesk serve --workers WORKERS`
(default 2), measures the server's RSS before and after (memory per stream), then posts WRITES
comments (default 40, one every 100 ms, each on a ticket of its own) and times, on every stream,
from the moment the write was sent to the moment its `comment.created` event arrived.

The per-user stream cap (STREAMS_PER_USER, policy: 5 per user and process) is lifted for the run,
as `make bench` lifts the API rate limit: one bench token opens all the streams.
"""

import asyncio
import json
import os
import statistics
import time
import urllib.request
from dataclasses import dataclass, field

from bench.run import Database, Server, Settings, api_get, log

STREAMS = int(os.environ.get("STREAMS", "1000"))
WRITES = int(os.environ.get("WRITES", "40"))
WORKERS = int(os.environ.get("LIVE_WORKERS", "2"))
OPEN_AT_ONCE = 50  # connections opened concurrently while the streams are set up


@dataclass
class Listener:
    """One open stream: when each ticket's comment.created event arrived on it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    arrivals: dict[str, float] = field(default_factory=dict)


async def open_stream(host: str, port: int, token: str) -> Listener:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    writer.write(
        f"GET /api/stream HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    if b" 200 " not in status:
        raise SystemExit(f"stream refused: {status!r}")
    while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b""):
        pass  # the response headers
    return Listener(reader, writer)


async def listen(listener: Listener) -> None:
    """Read events until cancelled; note when each comment.created arrived, by ticket."""
    kind = ""
    while line := await listener.reader.readline():
        text = line.decode(errors="replace").strip()
        if text.startswith("event:"):
            kind = text.partition(":")[2].strip()
        elif text.startswith("data:") and kind == "comment.created":
            ticket = json.loads(text.partition(":")[2]).get("ticketId")
            listener.arrivals.setdefault(ticket, time.perf_counter())


def post_comment(base: str, token: str, ticket: str) -> None:
    request = urllib.request.Request(
        f"{base}/api/tickets/{ticket}",
        data=json.dumps({"description": "A comment from make bench-live"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).read()


async def drive(server: Server, token: str) -> dict[str, float]:
    host, port = "127.0.0.1", server.port
    before = server.rss_mib()
    listeners: list[Listener] = []
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def opened() -> None:
        async with gate:
            listeners.append(await open_stream(host, port, token))

    started = time.perf_counter()
    await asyncio.gather(*(opened() for _ in range(STREAMS)))
    open_seconds = time.perf_counter() - started
    readers = [asyncio.create_task(listen(listener)) for listener in listeners]
    await asyncio.sleep(2)  # let the server settle before its memory is read
    after = server.rss_mib()
    log(f"{STREAMS} streams open in {open_seconds:.1f} s; RSS {before:.0f} -> {after:.0f} MiB")

    top = int(str(api_get(server.base, "/api/tickets?limit=1", token)["data"][0]["id"]).removeprefix("INC-"))
    tickets = [f"INC-{top - i}" for i in range(WRITES)]
    sent: dict[str, float] = {}
    for ticket in tickets:
        sent[ticket] = time.perf_counter()
        await asyncio.to_thread(post_comment, server.base, token, ticket)
        await asyncio.sleep(0.1)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(len(lsn.arrivals) < WRITES for lsn in listeners):
        await asyncio.sleep(0.1)
    for task in readers:
        task.cancel()
    for listener in listeners:
        listener.writer.close()
    delays = sorted(
        (listener.arrivals[ticket] - sent[ticket]) * 1000
        for listener in listeners
        for ticket in tickets
        if ticket in listener.arrivals
    )
    missing = STREAMS * WRITES - len(delays)
    return {
        "rss_before": before,
        "rss_after": after,
        "open_seconds": open_seconds,
        "p50": statistics.median(delays) if delays else float("nan"),
        "p99": delays[int(len(delays) * 0.99) - 1] if delays else float("nan"),
        "max": delays[-1] if delays else float("nan"),
        "events": len(delays),
        "missing": missing,
    }


def main() -> None:
    settings = Settings()
    settings.tickets = int(os.environ.get("N", "1000"))
    with Database(settings) as database:
        token = database.seed()
        env = database.env() | {"HELPDESK_STREAMS_PER_USER": str(STREAMS + 10)}
        with Server(env, WORKERS) as server:
            figures = asyncio.run(drive(server, token))
    growth = figures["rss_after"] - figures["rss_before"]
    print(
        f"\n### live streams: {settings.database}, {WORKERS} worker(s), {STREAMS} streams, "
        f"{WRITES} writes\n\n"
        "| streams | RSS before | RSS with streams | per stream | write -> event p50 | p99 | max "
        "| events delivered | missing |\n|---|---|---|---|---|---|---|---|---|\n"
        f"| {STREAMS} | {figures['rss_before']:.0f} MiB | {figures['rss_after']:.0f} MiB "
        f"| {growth * 1024 / STREAMS:.1f} KiB | {figures['p50']:.0f} ms | {figures['p99']:.0f} ms "
        f"| {figures['max']:.0f} ms | {figures['events']:,} | {figures['missing']:,} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
