"""A real `helpdesk serve` process for tests that need one: the live API tests and the browser tests."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def run_cli(*args: str, env: dict[str, str]) -> str:
    """Run a `helpdesk` subcommand as a person would; its stdout, or the failure with its stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "helpdesk", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@contextmanager
def serving(*, port: int, env: dict[str, str], log_path: Path, workers: int = 1) -> Iterator[str]:
    """`helpdesk serve` on 127.0.0.1:`port` with `workers` processes until the block ends; its base URL."""
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "helpdesk", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            _wait_until_up(base_url, process, log)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(base_url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"helpdesk serve exited with {process.returncode}: {log.read()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("helpdesk serve did not answer within 20 s")
