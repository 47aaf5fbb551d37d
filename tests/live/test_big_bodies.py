"""Bodies over the limit get their 413 from the real server, not a reset connection."""

import asyncio

import httpx
import pytest

LIMIT = 1024 * 1024  # config.toml's MAX_CONTENT_LENGTH


def body(size: int) -> bytes:
    return b'{"description": "' + b"x" * size + b'"}'


async def chunked(size: int):
    data = body(size)
    for start in range(0, len(data), 65536):
        yield data[start : start + 65536]


async def post_at_once(base_url: str, token: str, content, n: int = 24) -> list:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:

        async def post():
            try:
                return await http.post("/api/tickets", content=content())
            except httpx.TransportError as exc:
                return type(exc).__name__

        return await asyncio.gather(*(post() for _ in range(n)))


@pytest.mark.parametrize("size", [LIMIT + 10, 2 * LIMIT, 8 * LIMIT])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_every_upload_over_the_limit_reads_a_413(live_server, size, framing):
    content = (lambda: body(size)) if framing == "content-length" else (lambda: chunked(size))
    answers = await post_at_once(live_server.base_url, live_server.token, content)
    assert [getattr(answer, "status_code", answer) for answer in answers] == [413] * len(answers)
    assert set(answers[0].json()) == {"title", "message"}


async def test_a_refused_token_with_a_big_body_reads_its_401(live_server):
    answers = await post_at_once(live_server.base_url, "wrong", lambda: body(2 * LIMIT), n=8)
    assert [getattr(answer, "status_code", answer) for answer in answers] == [401] * 8
