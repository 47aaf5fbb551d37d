"""Many clients at once against the real server: every create succeeds with its own number."""

import asyncio

import httpx

TICKET = {
    "organisationHumanId": "ORG-12333",
    "contractHumanId": "CON-1",
    "tenantHumanId": "1",
    "reporterHumanId": "USR-12453",
    "description": "concurrent create",
}


async def test_200_concurrent_creates_give_200_distinct_tickets(live_server):
    headers = {"Authorization": f"Bearer {live_server.token}"}
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(
        base_url=live_server.base_url, headers=headers, limits=limits, timeout=30
    ) as http:
        responses = await asyncio.gather(*(http.post("/api/tickets", json=TICKET) for _ in range(200)))
        statuses = [r.status_code for r in responses]
        assert statuses == [201] * 200, sorted(set(statuses))
        numbers = {r.headers["Location"] for r in responses}
        assert len(numbers) == 200
        for number in list(numbers)[:5]:
            assert (await http.get(f"/api/tickets/{number}")).status_code == 200
