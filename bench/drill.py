"""`make drill`: kill -9 `helpdesk serve` again and again under a mixed write load, then count
what the clients were told against what the database holds.

Each client owns one ticket and loops over creates, comments, contact PATCHes (a new phone number
each time) and confirm-contacts requests, each sent once (no retries), while the server's whole
process group is SIGKILLed every 2-4 s and started again. Afterwards, per kind of write:
  acknowledged  answered 2xx
  lost          acknowledged, but not in the database
  duplicated    in the database more often than it was sent
  unanswered    the connection died with the server: the write may or may not have happened
  4xx, 5xx      answered so (409: contacts asked again too soon; 503: database briefly unavailable)
Settings (environment): DB (sqlite|postgres), WORKERS (server processes, default "1 2"),
DURATION (seconds of load per run, default 30), CLIENTS (default 8). Traffic goes to 127.0.0.1 only.
"""

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import asyncpg
import httpx

from bench.run import HELPDESK, LOGS, cli
from tests.pgserver import PostgresServer, free_port

KINDS = ("create", "comment", "contact PATCH", "confirm")
WEIGHTS = (3, 4, 2, 1)
ORG, USER = "ORG-1", "USR-1"


@dataclass
class Settings:
    database: str = os.environ.get("DB", "sqlite")
    workers: tuple[int, ...] = tuple(int(w) for w in os.environ.get("WORKERS", "1 2").split())
    seconds: float = float(os.environ.get("DURATION", "30"))
    clients: int = int(os.environ.get("CLIENTS", "8"))


@dataclass
class Tally:
    """What the clients sent and were told, per kind of write."""

    sent: Counter = field(default_factory=Counter)
    acknowledged: Counter = field(default_factory=Counter)
    unanswered: Counter = field(default_factory=Counter)
    refused: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # kind -> 4xx/5xx
    created: set[str] = field(default_factory=set)  # markers of acknowledged creates
    comments: set[str] = field(default_factory=set)  # markers of acknowledged comments
    phones: dict[str, list[tuple[str, bool]]] = field(default_factory=lambda: defaultdict(list))
    # ticket -> the event ids acknowledged confirm requests named (a repeat within a minute names
    # the earlier event), and how many went unanswered
    confirms: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    confirms_unanswered: Counter = field(default_factory=Counter)


def log(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the database and the server -----------------------------------------------------------


class Database:
    """A fresh SQLite file or throwaway PostgreSQL cluster, migrated, with one admin and a token."""

    def __init__(self, kind: str) -> None:
        self.kind, self.postgres, self.tmp = kind, None, None

    def __enter__(self) -> "Database":
        if self.kind == "postgres":
            self.postgres = PostgresServer().start()
            self.url = self.postgres.create_database("drill")
        else:
            self.tmp = tempfile.TemporaryDirectory(prefix="helpdesk-drill-")
            self.url = f"sqlite://{self.tmp.name}/drill.sqlite3"
        env = self.env()
        cli(env, "migrate")
        cli(env, "create-organisation", "--human-id", ORG, "--legal-name", "Acme Ltd", "--name", "Acme")
        cli(env, "create-user", "--email", "drill@example.com", "--name", "Drill", "--admin", "--agent",
            "--human-id", USER, "--organisation", ORG)  # fmt: skip
        self.token = cli(env, "create-token", "--email", "drill@example.com", "--name", "drill")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.postgres:
            self.postgres.stop()
        if self.tmp:
            self.tmp.cleanup()

    def env(self) -> dict[str, str]:
        return os.environ | {
            "HELPDESK_DATABASE_URL": self.url,
            "HELPDESK_ENV": "production",
            "HELPDESK_SECRET_KEY": "drill-" + "x" * 40,
            "HELPDESK_WORKER_IN_PROCESS": "false",  # no SMTP here: emails stay queued
            "HELPDESK_API_RATE_PER_MINUTE": "0",
        }

    async def rows(self, sql: str) -> list[tuple]:
        if self.postgres:
            connection = await asyncpg.connect(self.url.replace("postgres://", "postgresql://"))
            try:
                return [tuple(row) for row in await connection.fetch(sql)]
            finally:
                await connection.close()
        with sqlite3.connect(self.url.removeprefix("sqlite://")) as connection:
            return connection.execute(sql).fetchall()


class Server:
    """`helpdesk serve` in a process group of its own, so SIGKILL takes its workers with it."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.env, self.workers, self.port = env, workers, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = open(LOGS / f"drill-{workers}-workers.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process: subprocess.Popen | None = None

    async def start(self) -> None:
        command = [*HELPDESK, "serve", "--port", str(self.port), "--workers", str(self.workers)]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=1) as http:
            while time.monotonic() < deadline:
                try:
                    if (await http.get(f"{self.base}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise SystemExit(f"helpdesk serve did not start; see {self.log.name}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        self.log.close()


# --- the load --------------------------------------------------------------------------------


def contact_attributes(phone: str) -> dict:
    return {"mainEmail": "drill@customer.example", "phoneNumber": phone, "preferredContactMethod": "email"}


def ticket_body(marker: str) -> dict:
    return {
        "organisationHumanId": ORG, "contractHumanId": "CON-1", "tenantHumanId": "1",
        "reporterHumanId": USER, "title": "drill", "description": marker,
        "attributes": contact_attributes("+44 7700 900000"),
    }  # fmt: skip


async def send(
    http: httpx.AsyncClient, tally: Tally, kind: str, method: str, url: str, body: dict
) -> httpx.Response | bool | None:
    """Send one write once: the response when acknowledged, False when refused or failed, None when
    unanswered."""
    try:
        response = await http.request(method, url, json=body)
    except httpx.ConnectError:  # the server is down: nothing was sent
        await asyncio.sleep(0.05)
        return False
    except httpx.TransportError:
        tally.sent[kind] += 1
        tally.unanswered[kind] += 1
        return None
    tally.sent[kind] += 1
    if response.status_code >= 400:
        tally.refused[kind][response.status_code] += 1
    if response.is_success:
        tally.acknowledged[kind] += 1
        return response
    return False


async def own_ticket(http: httpx.AsyncClient, tally: Tally) -> str:
    """The ticket this client works on, created before the first kill."""
    while True:
        response = await http.post("/api/tickets", json=ticket_body(f"drill base {uuid.uuid4().hex}"))
        if response.status_code == 201:
            return response.headers["Location"]


async def client(http: httpx.AsyncClient, tally: Tally, ticket: str, until: float) -> None:
    """Random writes until the clock passes `until`, each recorded with what the server said."""
    while time.monotonic() < until:
        kind = random.choices(KINDS, WEIGHTS)[0]
        marker = f"drill {kind} {uuid.uuid4().hex}"
        if kind == "create":
            if await send(http, tally, kind, "POST", "/api/tickets", ticket_body(marker)):
                tally.created.add(marker)
        elif kind == "comment":
            body = {"description": marker, "userHumanId": USER}
            if await send(http, tally, kind, "POST", f"/api/tickets/{ticket}", body):
                tally.comments.add(marker)
        elif kind == "contact PATCH":
            phone = f"+44 7700 9{random.randrange(10**5):05d}"
            outcome = await send(http, tally, kind, "PATCH", f"/api/tickets/{ticket}",
                {"attributes": contact_attributes(phone)})  # fmt: skip
            if outcome is not False:  # acknowledged, or unanswered: either may be the final number
                tally.phones[ticket].append((phone, outcome is not None))
        else:
            outcome = await send(http, tally, kind, "POST", f"/api/events/confirm-contacts/{ticket}", {})
            if outcome:
                tally.confirms[ticket].add(outcome.headers["Location"])
            elif outcome is None:
                tally.confirms_unanswered[ticket] += 1


async def killer(server: Server, until: float) -> int:
    """SIGKILL the server every 2-4 s and start it again; returns how many times."""
    kills = 0
    while time.monotonic() + 2 < until:
        await asyncio.sleep(random.uniform(2, 4))
        server.kill()
        kills += 1
        await server.start()
    return kills


# --- the count -------------------------------------------------------------------------------


QUERIES = {
    "tickets": "SELECT description, COUNT(*) FROM ticket GROUP BY description",
    "comments": "SELECT body, COUNT(*) FROM comment GROUP BY body",
    "phones": "SELECT 'INC-' || ticket_id, value FROM ticket_attribute WHERE key = 'phoneNumber'",
    "events": "SELECT CAST(id AS TEXT), target FROM event WHERE key = 'notification.ticket.confirm-contacts'",
}


def _lost_and_twice(acknowledged: set[str], stored: Counter, kind: str) -> tuple[int, int]:
    lost = sum(stored[marker] == 0 for marker in acknowledged)
    return lost, sum(n > 1 for marker, n in stored.items() if f"drill {kind} " in str(marker))


async def count(database: Database, tally: Tally) -> dict[str, tuple[int, int]]:
    """(lost, duplicated) per kind, from what the database holds."""
    found = {name: dict(await database.rows(sql)) for name, sql in QUERIES.items()}
    events = Counter(found["events"].values())  # ticket -> confirm events stored
    return {
        "create": _lost_and_twice(tally.created, Counter(found["tickets"]), "create"),
        "comment": _lost_and_twice(tally.comments, Counter(found["comments"]), "comment"),
        "contact PATCH": (
            sum(_phone_lost(tries, found["phones"].get(t)) for t, tries in tally.phones.items()),
            0,
        ),
        "confirm": (
            sum(event not in found["events"] for ids in tally.confirms.values() for event in ids),
            sum(
                max(0, events[t] - len(ids) - tally.confirms_unanswered[t])
                for t, ids in tally.confirms.items()
            ),
        ),
    }


def _phone_lost(attempts: list[tuple[str, bool]], final: str | None) -> bool:
    """The ticket's number must be the last acknowledged one or one sent after it (unanswered)."""
    acked = [i for i, (_, ok) in enumerate(attempts) if ok]
    if not acked:
        return False
    return final not in {phone for phone, _ in attempts[acked[-1] :]}


COLUMNS = {"sent": 7, "acknowledged": 14, "lost": 6, "duplicated": 12, "unanswered": 12, "4xx": 6, "5xx": 6}


def report(settings: Settings, workers: int, kills: int, tally: Tally, found: dict) -> None:
    print(f"\nDB={settings.database} workers={workers} duration={settings.seconds:g}s "
          f"clients={settings.clients} kill -9 cycles={kills}")  # fmt: skip
    print("write".ljust(14) + "".join(name.rjust(width) for name, width in COLUMNS.items()))
    totals: Counter = Counter()
    for kind in KINDS:
        row = Counter({
            "sent": tally.sent[kind], "acknowledged": tally.acknowledged[kind], "lost": found[kind][0],
            "duplicated": found[kind][1], "unanswered": tally.unanswered[kind],
            "4xx": sum(n for status, n in tally.refused[kind].items() if status < 500),
            "5xx": sum(n for status, n in tally.refused[kind].items() if status >= 500),
        })  # fmt: skip
        totals.update(row)
        _row(kind, row)
    _row("total", totals)
    statuses = Counter()
    for counts in tally.refused.values():
        statuses.update(counts)
    print(
        "4xx/5xx by status: " + (", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())) or "none"),
        flush=True,
    )


def _row(name: str, row: Counter) -> None:
    print(name.ljust(14) + "".join(str(row[column]).rjust(width) for column, width in COLUMNS.items()))


async def drill(settings: Settings, workers: int) -> None:
    with Database(settings.database) as database:
        server = Server(database.env(), workers)
        await server.start()
        tally = Tally()
        headers = {"Authorization": f"Bearer {database.token}"}
        limits = httpx.Limits(max_connections=settings.clients)
        try:
            async with httpx.AsyncClient(
                base_url=server.base, headers=headers, timeout=10, limits=limits
            ) as http:
                tickets = [await own_ticket(http, tally) for _ in range(settings.clients)]
                until = time.monotonic() + settings.seconds
                log(f"DB={settings.database} workers={workers}: {settings.clients} clients")
                kills, *_ = await asyncio.gather(
                    killer(server, until), *(client(http, tally, t, until) for t in tickets)
                )
        finally:
            server.stop()
        report(settings, workers, kills, tally, await count(database, tally))


def main() -> None:
    settings = Settings()
    for workers in settings.workers:
        asyncio.run(drill(settings, workers))


if __name__ == "__main__":
    main()
