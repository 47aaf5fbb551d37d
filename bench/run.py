"""`make bench`: seed N tickets, serve them with `helpdesk serve`, drive each scenario, print tables.

Settings (environment): N (tickets, default 100000), DB (sqlite|postgres), WORKERS (server
processes to measure, default "1 2"), DURATION (seconds per scenario, default 10), CONNECTIONS (default
16), REUSE=1 keeps and reuses the seeded SQLite file in var/bench/ (PostgreSQL is always fresh).
ONLY=detail,search runs just the scenarios whose names contain one of the words.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

from bench.load import Result, fetch, python_client, wrk
from tests.pgserver import PostgresServer, _bin, free_port

ROOT = Path(__file__).resolve().parent.parent
HELPDESK = [sys.executable, "-m", "helpdesk"]
LOGS = ROOT / "var" / "bench"  # the server's output of the last run, for the errors a table counts
QUEUE = "/queues/open"  # "All open": the queue holding the most tickets (there is no /queues/all)


@dataclass
class Settings:
    tickets: int = int(os.environ.get("N", "100000"))
    database: str = os.environ.get("DB", "sqlite")
    workers: tuple[int, ...] = tuple(int(w) for w in os.environ.get("WORKERS", "1 2").split())
    seconds: float = float(os.environ.get("DURATION", "10"))
    connections: int = int(os.environ.get("CONNECTIONS", "16"))
    reuse: bool = os.environ.get("REUSE", "") == "1"
    only: tuple[str, ...] = tuple(w for w in os.environ.get("ONLY", "").split(",") if w)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([*HELPDESK, *args], env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"helpdesk {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


# --- the database --------------------------------------------------------------------------


class Database:
    """A seeded database: a SQLite file, or a throwaway PostgreSQL cluster (tests/pgserver.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.postgres, self.tmp = settings, None, None
        self.seed_seconds: float | None = None

    def __enter__(self) -> "Database":
        if self.settings.database == "postgres":
            self.postgres = PostgresServer().start()
            self.url = self.postgres.create_database("bench")
            return self
        if self.settings.reuse:
            folder = ROOT / "var" / "bench"
            folder.mkdir(parents=True, exist_ok=True)
        else:
            self.tmp = tempfile.TemporaryDirectory(prefix="helpdesk-bench-")
            folder = Path(self.tmp.name)
        self.url = f"sqlite://{folder}/tickets-{self.settings.tickets}.sqlite3"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.postgres:
            self.postgres.stop()
        if self.tmp:
            self.tmp.cleanup()

    def settle(self) -> None:
        """Let the fresh database reach its steady state before measuring, as a live one would be:
        on PostgreSQL the statistics and visibility map autovacuum would soon write, on SQLite
        the write-ahead log folded back into the database file."""
        if self.postgres:
            subprocess.run([*self.postgres_command("vacuumdb"), "--analyze", "--quiet", "bench"], check=True)
        else:
            with sqlite3.connect(self._ticket_file()) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def give_due_times(self) -> None:
        """Give every open ticket an SLA due time. The demo works out the clocks of its newest 2,000
        open tickets only (as `recompute_open` would after a policy lands); the due sort is measured
        on a desk where every open ticket has one, in an order unrelated to the id's (created plus
        0-96 hours by id), so the sort cannot ride on the id order."""
        if self.postgres:
            sql = (
                "UPDATE ticket SET sla_due_at = created_at + (id % 97) * interval '1 hour'"
                " WHERE resolved_at IS NULL AND deleted_at IS NULL AND sla_due_at IS NULL"
            )
            command = [*self.postgres_command("psql"), "-d", "bench", "-q", "-c", sql]
            subprocess.run(command, check=True)
            return
        with sqlite3.connect(self._ticket_file()) as connection:
            rows = connection.execute(
                "SELECT id, created_at FROM ticket"
                " WHERE resolved_at IS NULL AND deleted_at IS NULL AND sla_due_at IS NULL"
            ).fetchall()
            due = (
                ((datetime.fromisoformat(created) + timedelta(hours=pk % 97)).isoformat(sep=created[10]), pk)
                for pk, created in rows
            )
            connection.executemany("UPDATE ticket SET sla_due_at = ? WHERE id = ?", due)
        log(f"gave {len(rows):,} open tickets a due time")

    def postgres_command(self, name: str) -> list[str]:
        command = [_bin(name), "-h", "127.0.0.1", "-p", str(self.postgres.port), "-U", self.postgres.user]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _ticket_file(self) -> Path:
        return Path(self.url.removeprefix("sqlite://"))

    def env(self) -> dict[str, str]:
        return os.environ | {
            "HELPDESK_DATABASE_URL": self.url,
            "HELPDESK_ENV": "production",
            "HELPDESK_SECRET_KEY": "bench-" + "x" * 40,
            "HELPDESK_WORKER_IN_PROCESS": "false",  # no SMTP here: emails stay queued
            # The per-token API limit (6000 a minute) is policy, not capacity: one bench token
            # would hit it within seconds and measure 429s.
            "HELPDESK_API_RATE_PER_MINUTE": "0",
        }

    def seed(self) -> str:
        env = self.env()
        if self.settings.reuse and self.postgres is None and self._ticket_file().exists():
            log(f"reusing {self._ticket_file()}")
            cli(env, "migrate")
        else:
            cli(env, "migrate")
            log(f"seeding {self.settings.tickets:,} tickets")
            started = time.perf_counter()
            cli(env, "seed-demo", "--tickets", str(self.settings.tickets))
            self.seed_seconds = time.perf_counter() - started
            log(f"seeded in {self.seed_seconds:.1f} s")
        self.give_due_times()
        self.settle()
        return cli(env, "create-token", "--email", "admin@example.com", "--name", "bench")


# --- the server ----------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """The process and its descendants (Granian runs its workers as child processes)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [p for child in children for p in _tree(int(child))]


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


class Server:
    """`helpdesk serve` on a free loopback port; samples the RSS of its process tree."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.env, self.workers = env, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.peak_kib = 0
        self._sampling = False

    def __enter__(self) -> "Server":
        started = time.perf_counter()
        command = [*HELPDESK, "serve", "--port", str(self.port), "--workers", str(self.workers)]
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = open(LOGS / f"serve-{self.workers}-workers.log", "w+b")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = started + 30
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"helpdesk serve exited:\n{self.log.read().decode()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.02)
        self.startup_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()

    def rss_mib(self) -> float:
        return sum(_rss_kib(pid) for pid in _tree(self.process.pid)) / 1024

    def sample(self):
        """Context manager: sample the tree's RSS every 50 ms; `peak` and `start` in MiB."""
        server = self

        class Sampler:
            def __enter__(self):
                self.start = self.peak = server.rss_mib()
                self.running = True
                self.thread = threading.Thread(target=self._loop, daemon=True)
                self.thread.start()
                return self

            def _loop(self):
                while self.running:
                    self.peak = max(self.peak, server.rss_mib())
                    time.sleep(0.05)

            def __exit__(self, *exc):
                self.running = False
                self.thread.join()
                self.peak = max(self.peak, server.rss_mib())

        return Sampler()


# --- preparing requests --------------------------------------------------------------------


def sign_in(base: str) -> str:
    """Sign in as the demo admin through the login form; returns the Cookie header value."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', form
    )
    data = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": "admin@example.com", "password": "demo-password"}
    ).encode()
    opener.open(f"{base}/login", data=data).read()
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    request = urllib.request.Request(f"{base}{QUEUE}", headers={"Cookie": cookies})
    with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback only
        if "/login" in response.url:
            raise SystemExit("signing in failed")
    return cookies


def api_get(base: str, path: str, token: str) -> dict:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def api_patch(base: str, path: str, token: str, body: dict) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method="PATCH")
    with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def deep_page(base: str, token: str, pages: int) -> tuple[str, int]:
    """Follow links.next `pages` times; returns that page's path and how many tickets precede it."""
    path = "/api/tickets?limit=1000"
    for _ in range(pages):
        following = api_get(base, path, token)["links"]["next"]
        if not following:
            break
        path = "/api" + following
    return path.replace("limit=1000", "limit=100"), pages * 1000


def report_day() -> str:
    """A day in last month: a whole month of seeded tickets (the demo spreads them over 180 days)."""
    first_of_month = datetime.now(UTC).date().replace(day=1)
    return (first_of_month - timedelta(days=1)).replace(day=15).isoformat()


# --- the run -------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    result: Result
    peak_mib: float
    note: str = ""


def run_scenarios(settings: Settings, server: Server, token: str) -> list[Row]:
    base, secs, conns = server.base, settings.seconds, settings.connections
    api = {"Authorization": f"Bearer {token}"}
    cookie = {"Cookie": sign_in(base)}
    first = api_get(base, "/api/tickets?limit=1", token)["data"][0]["id"]
    top = int(str(first).removeprefix("INC-"))
    wanted = not settings.only or any("deep" in word for word in settings.only)
    deep, depth = deep_page(base, token, max(1, min(settings.tickets // 5000, 200)) if wanted else 1)
    ids = [f"INC-{top - (i * 7919) % max(top - 1, 1)}" for i in range(200)]
    rows: list[Row] = []

    def measure(name: str, drive, note: str = "") -> Result | None:
        if settings.only and not any(word in name for word in settings.only):
            return None
        with server.sample() as rss:
            result = drive()
        rows.append(Row(name, result, rss.peak, "; ".join(filter(None, [note, *result.extra.values()]))))
        log(f"{name}: {result.requests_per_s:,.0f} req/s, p99 {result.p99_ms:.1f} ms, {result.errors} errors")
        return result

    def get(name: str, path: str, headers: dict[str, str], paths: list[str] | None = None, note: str = ""):
        url = base + path
        measure(name, lambda: wrk(url, seconds=secs, connections=conns, headers=headers, paths=paths), note)

    log(f"warming up {base}")
    wrk(base + "/healthz", seconds=2, connections=conns)
    wrk(base + "/api/tickets", seconds=2, connections=conns, headers=api)
    get("GET /healthz (bare)", "/healthz", {})
    measure(
        "GET /healthz (python client)",
        lambda: python_client(base, "/healthz", headers={}, seconds=secs, connections=conns),
        "asyncio keep-alive client",
    )
    get("GET /api/tickets (first page)", "/api/tickets", api)
    get("GET /api/tickets (deep page)", deep, api, note=f"after {depth:,} tickets via links.next")
    get("GET /api/tickets/{id}", "/api/tickets/INC-1", api, [f"/api/tickets/{i}" for i in ids])
    get(f"GET {QUEUE} (page)", QUEUE, cookie)
    get(f"GET {QUEUE} (htmx partial)", QUEUE, cookie | {"HX-Request": "true"})
    counts = "the menu's counts, fetched by the page after it loads"
    get(f"GET {QUEUE}/counts (htmx)", f"{QUEUE}/counts", cookie | {"HX-Request": "true"}, note=counts)
    partial = cookie | {"HX-Request": "true"}
    get(f"GET {QUEUE}?sort=-id (htmx partial)", f"{QUEUE}?sort=-id", partial, note="the ID sort, to compare")
    due = "SLA due, most urgent first (issue 17: as fast as the ID sort)"
    get(f"GET {QUEUE}?sort=due (htmx partial)", f"{QUEUE}?sort=due", partial, note=due)
    get("GET /tickets/INC-n (page)", "/tickets/INC-1", cookie, [f"/tickets/{i}" for i in ids])
    get("GET /api/tickets?q=router (search)", "/api/tickets?q=router", api)
    report = f"/api/reporting/tickets?period=monthly&date={report_day()}"
    report_rows(settings, server, rows, "GET /api/reporting/tickets (monthly JSON)", report, api)
    report_rows(
        settings,
        server,
        rows,
        "GET .../download (monthly CSV)",
        report.replace("tickets?", "tickets/download?"),
        api,
    )  # noqa: E501
    body = json.dumps(
        {
            "organisationHumanId": "ORG-2001", "contractHumanId": "CON-1", "tenantHumanId": "1",
            "reporterHumanId": "USR-100", "title": "Bench ticket", "description": "Created by make bench",
            "attributes": {"mainEmail": "it@acme.example", "preferredContactMethod": "email"},
        }
    )  # fmt: skip
    post = api | {"Content-Type": "application/json"}
    measure(
        "POST /api/tickets (create)",
        lambda: wrk(
            base + "/api/tickets", seconds=secs, connections=conns, method="POST", headers=post, body=body
        ),
    )
    # The same create into a group that assigns by round robin (issue 17: creates per second unchanged
    # with a policy and round robin active; every create above already matches the demo's "Standard").
    network = next(g for g in api_get(base, "/api/groups", token)["data"] if g["name"] == "Network")
    # The same create with the assignee given: what assigning costs by itself (the history row, the
    # assignee's notification and "assigned to you" email), so the rule's own share shows.
    me = api_get(base, "/api/users", token)["data"]["id"]  # the bench's admin: not told of their own acts
    other = next(member for member in network["members"] if member != me)
    chosen = json.dumps(json.loads(body) | {"group": network["id"], "assignee": other})
    measure(
        "POST /api/tickets (create, assignee given)",
        lambda: wrk(
            base + "/api/tickets", seconds=secs, connections=conns, method="POST", headers=post, body=chosen
        ),
    )
    # The same create into the group while it assigns by hand (its members but the bench's admin
    # are told of a new ticket in their group), then with round robin on (its assignee is told
    # instead, unless the rule picked the admin): what turning the rule on costs.
    grouped = json.dumps(json.loads(body) | {"group": network["id"]})
    measure(
        "POST /api/tickets (create, group manual)",
        lambda: wrk(
            base + "/api/tickets", seconds=secs, connections=conns, method="POST", headers=post, body=grouped
        ),
        "into the same group while it assigns by hand: unassigned",
    )
    api_patch(base, f"/api/groups/{network['id']}", token, {"assignment": "roundRobin"})
    measure(
        "POST /api/tickets (create, round robin)",
        lambda: wrk(
            base + "/api/tickets", seconds=secs, connections=conns, method="POST", headers=post, body=grouped
        ),
        "the rule picks the assignee (one UPDATE) before the ticket is written",
    )
    api_patch(base, f"/api/groups/{network['id']}", token, {"assignment": "manual"})
    comment = json.dumps({"description": "A comment from make bench"})
    measure(
        "POST /api/tickets/{id} (comment)",
        lambda: wrk(
            base + "/api/tickets/INC-1", seconds=secs, connections=conns, method="POST", headers=post,
            body=comment, paths=[f"/api/tickets/{i}" for i in ids],
        ),
    )  # fmt: skip
    return rows


def report_rows(settings: Settings, server: Server, rows: list[Row], name: str, path: str, headers) -> None:
    """One report request at a time for about DURATION seconds (at least one): rows/s and RSS growth."""
    if settings.only and not any(word in name for word in settings.only):
        return
    latencies, counted, errors = [], 0, 0
    lines = [0]

    def count_lines(data: bytes) -> None:
        lines[0] += data.count(b"\n")

    deadline = time.perf_counter() + settings.seconds
    with server.sample() as rss:
        while time.perf_counter() < deadline or not latencies:
            status, _, elapsed = fetch(server.base, path, headers=headers, on_chunk=count_lines)
            errors += status != 200
            latencies.append(elapsed)
    total, runs = sum(latencies), len(latencies)
    if "download" in path:
        counted = lines[0] - runs  # each CSV has one header line
    else:
        counted = len(api_get(server.base, path, headers["Authorization"].split()[1])["data"]) * runs
    ordered = sorted(latencies)
    result = Result(runs / total, ordered[runs // 2] * 1000, ordered[-1] * 1000, runs, errors)
    growth = rss.peak - rss.start
    note = f"{counted / runs:,.0f} rows, {counted / total:,.0f} rows/s, RSS +{growth:.0f} MiB"
    rows.append(Row(name, result, rss.peak, note))
    log(f"{name}: {note}")


def table(rows: list[Row]) -> str:
    bare = rows[0].result.requests_per_s
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | errors | peak RSS MiB | x bare | note |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        r = row.result
        lines.append(
            f"| {row.name} | {r.requests_per_s:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | "
            f"{row.peak_mib:.0f} | {r.requests_per_s / bare:.2f} | {row.note} |"
        )
    return "\n".join(lines)


def main() -> None:
    settings = Settings()
    with Database(settings) as database:
        token = database.seed()
        seeded = f"{database.seed_seconds:.1f} s" if database.seed_seconds else "reused"
        for workers in settings.workers:
            with Server(database.env(), workers) as server:
                log(f"{workers} worker(s) up in {server.startup_seconds:.2f} s")
                rows = run_scenarios(settings, server, token)
            print(
                f"\n### {settings.database}, {settings.tickets:,} tickets, {workers} worker(s), "
                f"{settings.connections} connections, {settings.seconds:g} s per scenario\n\n"
                f"seed-demo: {seeded}; `helpdesk serve` startup: {server.startup_seconds:.2f} s\n\n"
                f"{table(rows)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
