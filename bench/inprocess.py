"""In-process timing of the agent's pages, without HTTP or a load generator: `python -m bench.inprocess`.

The Quart test client signs the demo's admin in (it sets their password: use a bench file, never a
database people use), then times the agent's ticket page over 200 tickets spread over the id range
and the open queue's htmx partial, five rounds each, and prints each round's median and the best.
Quieter than `make bench` on a shared machine, so it is what compares two commits: run it from each
one's checkout against a file seeded by that checkout's own `helpdesk seed-demo`.

    HELPDESK_ENV=development HELPDESK_DATABASE_URL=sqlite://var/bench/tickets-100000.sqlite3 \\
        .venv/bin/python -m bench.inprocess
"""

import asyncio
import os
import re
import statistics
import time

from helpdesk import create_app
from helpdesk.models import Ticket, User
from helpdesk.services.passwords import hash_password
from helpdesk.services.users import create_token

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "bench-inprocess-password"  # noqa: S105 - set on the bench file's admin by this script
ROUNDS = 5


async def main() -> None:
    app = create_app({"WORKER_IN_PROCESS": False, "API_RATE_PER_MINUTE": 0})
    async with app.test_app() as served:
        client = served.test_client()
        admin = await User.get(email="admin@example.com")
        await User.filter(id=admin.id).update(password_hash=hash_password(PASSWORD))
        form = await (await client.get("/login")).get_data(as_text=True)
        token = CSRF.search(form).group(1)
        fields = {"email": admin.email, "password": PASSWORD, "csrf_token": token}
        signed = await client.post("/login", form=fields)
        assert signed.status_code == 303, signed.status_code
        top = await Ticket.all().order_by("-id").first().values_list("id", flat=True)
        pages = [f"/tickets/INC-{1 + i * (top // 200)}" for i in range(200)]
        await timed(client, "GET /tickets/INC-n (page)", pages, {})
        await timed(client, "GET /queues/open (htmx partial)", ["/queues/open"] * 100, {"HX-Request": "true"})
        bearer = {"Authorization": f"Bearer {await create_token(user=admin, name='inprocess', actor=None)}"}
        details = [f"/api/tickets/INC-{1 + i * (top // 200)}" for i in range(200)]
        await timed(client, "GET /api/tickets/{id}", details, bearer)
        await timed(client, "GET /healthz", ["/healthz"] * 200, {})


async def timed(client, label: str, paths: list[str], headers: dict) -> None:
    for path in paths[:20]:  # warm up
        await (await client.get(path, headers=headers)).get_data()
    medians = []
    for _ in range(ROUNDS):
        spent = []
        for path in paths:
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            await response.get_data()
            spent.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        medians.append(statistics.median(spent))
    rounds = " ".join(f"{m:.2f}" for m in medians)
    print(f"{label}: best median of {ROUNDS} rounds {min(medians):.2f} ms (rounds: {rounds})", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("HELPDESK_ENV", "development")
    asyncio.run(main())
