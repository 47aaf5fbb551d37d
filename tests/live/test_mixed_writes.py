"""Two server processes sharing one database under mixed writes: nothing fails.

On SQLite a transaction that read before it wrote used to start with a deferred BEGIN; when the
other process wrote first, SQLite refused the upgrade at once ("database is locked", a 500)."""

import asyncio
import itertools
import time
from collections import Counter

import httpx

from tests.liveserver import serving
from tests.pgserver import free_port

TICKET = {
    "organisationHumanId": "ORG-12333",
    "contractHumanId": "CON-1",
    "tenantHumanId": "1",
    "reporterHumanId": "USR-12453",
    "description": "mixed writes",
    "attributes": {"mainEmail": "ann@example.com", "additionalEmails": ["bob@example.com"]},
}
SECONDS = 6


class Load:
    """Clients that create, patch contacts and ask for confirmations until the time is up."""

    def __init__(self, http: httpx.AsyncClient, tickets: list[str]) -> None:
        self.http, self.tickets, self.fresh = http, tickets, list(tickets)
        self.statuses: Counter[str] = Counter()
        self.until = time.monotonic() + SECONDS

    async def send(self, method: str, url: str, **kwargs) -> httpx.Response | None:
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self.statuses[f"{method} {type(exc).__name__}"] += 1
            return None
        self.statuses[f"{method} {url.split('/')[2]} {response.status_code}"] += 1
        return response

    async def create(self) -> None:
        while time.monotonic() < self.until:
            if response := await self.send("POST", "/api/tickets", json=TICKET):
                self.fresh.append(response.headers.get("Location", ""))

    async def patch(self, n: int) -> None:
        for i in itertools.count():
            if time.monotonic() >= self.until:
                return
            ticket = self.tickets[(n * 7 + i) % len(self.tickets)]
            emails = {"additionalEmails": [f"c{n}-{i}@example.com", f"d{n}-{i}@example.com"]}
            await self.send("PATCH", f"/api/tickets/{ticket}", json={"attributes": emails})

    async def confirm(self) -> None:
        while time.monotonic() < self.until:
            ticket = self.fresh.pop() if self.fresh else self.tickets[0]  # an asked ticket answers 409
            await self.send("POST", f"/api/events/confirm-contacts/{ticket}")


async def test_two_processes_take_mixed_writes_without_an_error(two_worker_server):
    headers = {"Authorization": f"Bearer {two_worker_server.token}"}
    async with httpx.AsyncClient(base_url=two_worker_server.base_url, headers=headers, timeout=30) as http:
        made = [await http.post("/api/tickets", json=TICKET) for _ in range(20)]
        load = Load(http, [response.headers["Location"] for response in made])
        clients = [load.create() for _ in range(3)] + [load.patch(n) for n in range(3)]
        await asyncio.gather(*clients, load.confirm(), load.confirm())
    print(dict(sorted(load.statuses.items())))
    failures = {key: n for key, n in load.statuses.items() if not key.endswith((" 201", " 204", " 409"))}
    assert failures == {}, load.statuses
    assert load.statuses["POST tickets 201"] > 0 and load.statuses["PATCH tickets 204"] > 0
    assert load.statuses["POST events 201"] > 0


async def test_the_first_writes_of_fresh_processes_all_succeed(two_worker_server, tmp_path):
    headers = {"Authorization": f"Bearer {two_worker_server.token}"}
    log_path = tmp_path / "restarted.log"
    with serving(port=free_port(), env=two_worker_server.env, log_path=log_path, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
            responses = await asyncio.gather(*(http.post("/api/tickets", json=TICKET) for _ in range(64)))
    assert [response.status_code for response in responses] == [201] * 64
