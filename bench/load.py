"""Load generators: wrk (fixed duration, keep-alive) and a small asyncio HTTP/1.1 client.

The asyncio client exists to check the server has no per-response latency floor with keep-alive
Python clients (uvicorn issue #3149 showed ~40 ms with --workers > 1), and to time long responses
(reports) one at a time, counting rows as they stream."""

import asyncio
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    extra: dict[str, str] = field(default_factory=dict)


def _lua(method: str, headers: dict[str, str], body: str | None, paths: list[str] | None) -> str:
    lines = [f'wrk.method = "{method}"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if body is not None:
        escaped = body.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'wrk.body = "{escaped}"')
    if paths:
        lines.append("paths = {" + ", ".join(f'"{p}"' for p in paths) + "}")
        lines.append("request = function() return wrk.format(nil, paths[math.random(#paths)]) end")
    return "\n".join(lines) + "\n"


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: str | None = None,
    paths: list[str] | None = None,
) -> Result:
    """Drive `url` for `seconds` with wrk; p50/p99 from its latency distribution."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(method, headers or {}, body, paths))
    command = [
        "wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--latency", "--timeout", "30s", "-s", script.name, url,
    ]  # fmt: skip
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        Path(script.name).unlink()
    return _parse_wrk(out)


def _parse_wrk(out: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    socket = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    found = re.search(r"Non-2xx or 3xx responses: (\d+)", out)  # wrk counts status > 399 only
    status = int(found.group(1)) if found else 0
    extra = {"errors": f"{status} HTTP 4xx/5xx, {socket} socket errors"} if status or socket else {}
    return Result(rps, p50, p99, requests, status + socket, extra)


# --- the asyncio client ------------------------------------------------------------------


async def _open(host: str, port: int):
    return await asyncio.open_connection(host, port)


async def _exchange(reader, writer, request: bytes, on_chunk=None) -> tuple[int, int]:
    """Send one request, read one response; returns (status, body bytes). Handles chunked bodies."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = head.lower()
    size = 0
    if match := re.search(rb"content-length: (\d+)", headers):
        data = await reader.readexactly(int(match.group(1)))
        size = len(data)
        if on_chunk:
            on_chunk(data)
    elif b"transfer-encoding: chunked" in headers:
        while True:
            length = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if length == 0:
                await reader.readuntil(b"\r\n")
                break
            data = await reader.readexactly(length + 2)
            size += length
            if on_chunk:
                on_chunk(data[:-2])
    return status, size


def _request(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def _drive(host, port, path, headers, seconds, connections) -> Result:
    request, latencies, errors = _request(path, headers), [], 0
    deadline = time.perf_counter() + seconds

    async def one_connection() -> None:
        nonlocal errors
        reader, writer = await _open(host, port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = await _exchange(reader, writer, request)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += status >= 400
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    return Result(len(latencies) / elapsed, p50, p99, len(latencies), errors)


def python_client(
    base: str, path: str, *, headers: dict[str, str], seconds: float, connections: int
) -> Result:
    """Keep-alive asyncio client, `connections` concurrent connections, for `seconds`."""
    host, port = base.removeprefix("http://").split(":")
    return asyncio.run(_drive(host, int(port), path, headers, seconds, connections))


async def _stream(host, port, path, headers, on_chunk) -> tuple[int, int, float]:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    started = time.perf_counter()
    status, size = await _exchange(reader, writer, _request(path, headers), on_chunk)
    elapsed = time.perf_counter() - started
    writer.close()
    return status, size, elapsed


def fetch(base: str, path: str, *, headers: dict[str, str], on_chunk=None) -> tuple[int, int, float]:
    """One request on a fresh connection: (status, body bytes, seconds)."""
    host, port = base.removeprefix("http://").split(":")
    return asyncio.run(_stream(host, int(port), path, headers, on_chunk))
