"""`make bench-compare BEFORE=<commit>`: this checkout against an earlier commit, scenario by scenario.

A shared two-core machine drifts by ±30% from one minute to the next, so two `make bench` runs
minutes apart cannot tell a 10% change. Here both versions run at once, each `helpdesk serve` (one
worker) from its own checkout on its own SQLite file seeded by its own code, and each scenario
alternates between them ROUNDS times (DURATION seconds each, who goes first alternating too): every
pair is measured within seconds.
The table gives each side's median req/s and now ÷ before per round; the comments come last (they
lengthen the threads the ticket page shows).

The earlier commit is checked out as a git worktree under var/bench/ (kept for the next run) and
run with this checkout's Python environment. Settings: BEFORE (a commit, required), N (tickets,
default 100000), ROUNDS (default 3), DURATION (seconds, default 5), CONNECTIONS (default 16).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.load import wrk
from bench.run import ROOT, api_get, free_port, log, sign_in

HELPDESK = [sys.executable, "-m", "helpdesk"]


class Side:
    """One version: its checkout, its seeded SQLite file, its server, its token and cookie."""

    def __init__(self, name: str, tree: Path, folder: Path, tickets: int) -> None:
        self.name, self.tree, self.tickets = name, tree, tickets
        self.env = os.environ | {
            "HELPDESK_DATABASE_URL": f"sqlite://{folder}/{name}.sqlite3",
            "HELPDESK_ENV": "production",
            "HELPDESK_SECRET_KEY": "bench-" + "x" * 40,
            "HELPDESK_WORKER_IN_PROCESS": "false",
            "HELPDESK_API_RATE_PER_MINUTE": "0",
        }
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [*HELPDESK, *args], cwd=self.tree, env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise SystemExit(f"{self.name}: helpdesk {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout.strip()

    def seed(self) -> None:
        self.cli("migrate")
        self.cli("seed-demo", "--tickets", str(self.tickets))
        self.token = self.cli("create-token", "--email", "admin@example.com", "--name", "compare")

    def start(self) -> None:
        command = [*HELPDESK, "serve", "--port", str(self.port), "--workers", "1"]
        self.process = subprocess.Popen(
            command, cwd=self.tree, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1).read()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit(f"{self.name}: helpdesk serve did not answer")
        self.cookie = sign_in(self.base)
        first = api_get(self.base, "/api/tickets?limit=1", self.token)["data"][0]["id"]
        top = int(str(first).removeprefix("INC-"))
        self.ids = [f"INC-{top - (i * 7919) % max(top - 1, 1)}" for i in range(200)]

    def stop(self) -> None:
        """Stop the server if it was started (a side that failed to start left none)."""
        if hasattr(self, "process"):
            self.process.terminate()
            self.process.wait(timeout=20)


def scenarios(side: Side) -> dict[str, dict]:
    """Each scenario's wrk arguments against this side."""
    api = {"Authorization": f"Bearer {side.token}"}
    cookie = {"Cookie": side.cookie}
    partial = cookie | {"HX-Request": "true"}
    comment = json.dumps({"description": "A comment from make bench-compare"})
    return {
        "GET /healthz (bare)": {"url": "/healthz"},
        "GET /api/tickets (first page)": {"url": "/api/tickets", "headers": api},
        "GET /api/tickets/{id}": {"url": "/api/tickets/INC-1", "headers": api, "paths": "/api/tickets/"},
        "GET /queues/open (page)": {"url": "/queues/open", "headers": cookie},
        "GET /queues/open (htmx partial)": {"url": "/queues/open", "headers": partial},
        "GET /tickets/INC-n (page)": {"url": "/tickets/INC-1", "headers": cookie, "paths": "/tickets/"},
        "POST /api/tickets/{id} (comment)": {
            "url": "/api/tickets/INC-1", "headers": api | {"Content-Type": "application/json"},
            "paths": "/api/tickets/", "method": "POST", "body": comment,
        },
    }  # fmt: skip


def drive(side: Side, scenario: dict, seconds: float, connections: int) -> float:
    paths = [scenario["paths"] + i for i in side.ids] if "paths" in scenario else None
    result = wrk(
        side.base + scenario["url"], seconds=seconds, connections=connections, paths=paths,
        headers=scenario.get("headers"), method=scenario.get("method", "GET"), body=scenario.get("body"),
    )  # fmt: skip
    if result.errors:
        log(f"{side.name}: {result.errors} errors")
    return result.requests_per_s


def main() -> None:
    before = os.environ.get("BEFORE") or sys.exit("BEFORE=<commit> is required")
    tickets, rounds = int(os.environ.get("N", "100000")), int(os.environ.get("ROUNDS", "3"))
    seconds, connections = float(os.environ.get("DURATION", "5")), int(os.environ.get("CONNECTIONS", "16"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", before], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = ROOT / "var" / "bench" / f"before-{commit}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True)
    now = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    with tempfile.TemporaryDirectory(prefix="helpdesk-compare-") as folder:
        sides = [Side("before", tree, Path(folder), tickets), Side("now", ROOT, Path(folder), tickets)]
        for side in sides:
            log(f"seeding {tickets:,} tickets for {side.name} ({side.tree})")
            side.seed()
        try:
            for side in sides:
                side.start()
            table = []
            plans = [scenarios(side) for side in sides]
            for name in plans[0]:
                for side in sides:  # warm each up
                    drive(side, plans[sides.index(side)][name], 1, connections)
                pairs = []
                for round_ in range(rounds):
                    # Who goes first alternates (before, now; now, before; ...): a machine that
                    # slows within a pair must not always count against the same side.
                    order = [0, 1] if round_ % 2 == 0 else [1, 0]
                    rates = {n: drive(sides[n], plans[n][name], seconds, connections) for n in order}
                    pairs.append([rates[0], rates[1]])
                    log(f"{name}: before {pairs[-1][0]:,.0f} · now {pairs[-1][1]:,.0f} req/s")
                table.append((name, pairs))
        finally:
            for side in sides:
                side.stop()
    print(f"\n### before {commit} · now {now.stdout.strip()}: sqlite, {tickets:,} tickets, 1 worker each,")
    print(f"{connections} connections, {rounds} alternating rounds of {seconds:g} s\n")
    print("| scenario | before req/s (median) | now req/s (median) | now ÷ before, each round |")
    print("|---|--:|--:|---|")
    for name, pairs in table:
        ratios = " · ".join(f"{now_ / was:.2f}" for was, now_ in pairs)
        was, now_ = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
        print(f"| {name} | {was:,.0f} | {now_:,.0f} | {ratios} |")


if __name__ == "__main__":
    main()
