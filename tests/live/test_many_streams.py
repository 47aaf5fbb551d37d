"""Open streams are requests that last: a server holding more than its old per-worker cap of
requests in flight (Granian's backlog shared among workers: 1,024 with one worker) still answers."""

import asyncio
import time

import pytest

from tests.live.conftest import _live

STREAMS = 1100  # over the 1,024 a worker held with Granian's default backpressure


@pytest.fixture(scope="module")
def crowded_server(make_database_url, tmp_path_factory):
    extra = {"HELPDESK_STREAMS_PER_USER": str(STREAMS + 10), "HELPDESK_API_RATE_PER_MINUTE": "0"}
    yield from _live(make_database_url("streams"), tmp_path_factory, workers=1, extra=extra)


async def _open(host: str, port: int, token: str) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /api/stream HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 20)
    assert b" 200 " in status, status
    return writer


async def _crowd_then_ask(base_url: str, token: str) -> float:
    host, port = base_url.removeprefix("http://").split(":")
    gate = asyncio.Semaphore(100)

    async def one() -> asyncio.StreamWriter:
        async with gate:
            return await _open(host, int(port), token)

    writers = await asyncio.gather(*(one() for _ in range(STREAMS)))
    try:
        reader, writer = await asyncio.open_connection(host, int(port))
        started = time.monotonic()
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        status = await asyncio.wait_for(reader.readline(), 10)
        assert b" 200 " in status, status
        writer.close()
        return time.monotonic() - started
    finally:
        for stream in writers:
            stream.close()


def test_a_worker_holding_1100_open_streams_still_answers(crowded_server):
    seconds = asyncio.run(_crowd_then_ask(crowded_server.base_url, crowded_server.token))
    print(f"/healthz answered in {seconds * 1000:.0f} ms beside {STREAMS} open streams")
    assert seconds < 5
