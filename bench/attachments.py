"""`make bench-attachments`: a 100 MB upload and download against a live `helpdesk serve`, with the time
each took and how much the server's memory (RSS of the server and its worker processes) grew.

The goal is constant memory: the upload is spooled to disk as it arrives and the download streamed
from the store, so the growth should stay well under 50 MB whatever the file's size. SIZE_MB (default
100) sets the file's size."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.liveserver import serving
from tests.pgserver import free_port

HELPDESK = [sys.executable, "-m", "helpdesk"]
SIZE = int(os.environ.get("SIZE_MB", "100")) * 1024 * 1024
CHUNK = 1024 * 1024
GOAL_MB = 50
TICKET = {
    "organisationHumanId": "ORG-1", "contractHumanId": "CON-1", "tenantHumanId": "1",
    "reporterHumanId": "USR-1", "title": "Big file", "description": "A 100 MB log",
}  # fmt: skip


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([*HELPDESK, *args], env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"helpdesk {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


def serve_pid(port: int) -> int:
    """The `helpdesk serve --port <port>` this benchmark started (its workers are its children)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                args = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in args and str(port).encode() in args and b"helpdesk" in args:
                return int(proc.name)
    raise SystemExit(f"no helpdesk serve on port {port}")


def tree_rss(pid: int) -> int:
    """Resident memory of the process and all its descendants, in bytes (Linux /proc)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(
                int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS")
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


class Peak:
    """The highest RSS of a process tree, sampled every 50 ms while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, tree_rss(pid), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, tree_rss(self.pid))

    def __enter__(self) -> "Peak":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def body(boundary: str, digest: "hashlib._Hash") -> Iterator[bytes]:
    """A multipart body of one SIZE-byte file, made a megabyte at a time (the client holds no more)."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.log"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = (b"2026-12-05 09:00:00 link down, retrying\n" * (CHUNK // 40 + 1))[:CHUNK]
    for n in range(SIZE // CHUNK):
        chunk = block[:-8] + n.to_bytes(8, "big")
        digest.update(chunk)
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def upload(client: httpx.Client, ticket: str) -> tuple[int, str]:
    boundary, digest = uuid.uuid4().hex, hashlib.sha256()
    response = client.post(
        f"/api/tickets/{ticket}/attachments",
        content=body(boundary, digest),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    response.raise_for_status()
    return response.json()["data"][0]["id"], digest.hexdigest()


def download(client: httpx.Client, attachment_id: int) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with client.stream("GET", f"/api/attachments/{attachment_id}") as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-attachments-"))
    env = os.environ | {
        "HELPDESK_ENV": "production",
        "HELPDESK_SECRET_KEY": "bench-" + "k" * 40,
        "HELPDESK_DATABASE_URL": f"sqlite://{work / 'helpdesk.sqlite3'}",
        "HELPDESK_ATTACHMENTS_DIR": str(work / "attachments"),
        "HELPDESK_ATTACHMENT_MAX_BYTES": str(SIZE + CHUNK),
        "HELPDESK_ATTACHMENTS_MAX_REQUEST_BYTES": str(SIZE + 2 * CHUNK),
        "HELPDESK_WORKER_IN_PROCESS": "false",
        "HELPDESK_API_RATE_PER_MINUTE": "0",
    }
    cli(env, "migrate")
    cli(env, "create-user", "--email", "bench@example.com", "--name", "Bench", "--admin", "--agent")
    token = cli(env, "create-token", "--email", "bench@example.com")
    port = free_port()
    with serving(port=port, env=env, log_path=work / "server.log") as base_url:
        pid = serve_pid(port)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=600) as client:
            ticket = client.post("/api/tickets", json=TICKET).headers["Location"]
            client.get(f"/api/tickets/{ticket}")  # warm up: the first request loads what every one uses
            before = tree_rss(pid)
            with Peak(pid) as up:
                start = time.perf_counter()
                attachment_id, sent = upload(client, ticket)
                up_seconds = time.perf_counter() - start
            with Peak(pid) as down:
                start = time.perf_counter()
                size, got = download(client, attachment_id)
                down_seconds = time.perf_counter() - start
    shutil.rmtree(work, ignore_errors=True)
    assert (size, got) == (SIZE, sent), "the downloaded file differs from the uploaded one"
    mb = SIZE / 2**20
    print(f"file: {mb:.0f} MB; server RSS before: {before / 2**20:.1f} MB")
    for name, seconds, peak in (("upload", up_seconds, up.peak), ("download", down_seconds, down.peak)):
        growth = (peak - before) / 2**20
        verdict = "ok" if growth < GOAL_MB else f"OVER the {GOAL_MB} MB goal"
        print(
            f"{name:8} {seconds:6.2f} s  {mb / seconds:7.1f} MB/s  RSS growth {growth:6.1f} MB  ({verdict})"
        )


if __name__ == "__main__":
    main()
