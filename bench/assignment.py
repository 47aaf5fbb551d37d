"""Ticket creates per second with an assignment rule against without one, through the service, in
one run: a fresh database, four agents in a manual, a round-robin and a least-open group, N
creates into each group one after another and then N at once (asyncio.gather), after a warm-up.
SQLite by default, or a PostgreSQL URL in DATABASE_URL; N (default 300).

    .venv/bin/python -m bench.assignment"""

import asyncio
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from helpdesk import db
from helpdesk.models import AssignmentMode, Group, GroupMember
from helpdesk.services import tickets
from helpdesk.services.reference import load_reference_data
from tests.factories import make_agent

N = int(os.environ.get("N", "300"))


def new_ticket(group: Group) -> tickets.NewTicket:
    return tickets.NewTicket(
        organisation_hid="ORG-1", contract_hid="CON-1", tenant_hid="1", reporter_hid="USR-1",
        title="Bench", description="Phones are down", group_id=group.id,
    )  # fmt: skip


async def timed(label: str, group: Group, actor, *, together: bool) -> None:
    """Create N tickets in the group and print the rate (and, with a rule, the share of each agent)."""
    start = time.perf_counter()
    if together:
        made = await asyncio.gather(
            *(tickets.create_ticket(data=new_ticket(group), actor=actor) for _ in range(N))
        )
    else:
        made = [await tickets.create_ticket(data=new_ticket(group), actor=actor) for _ in range(N)]
    seconds = time.perf_counter() - start
    shares = sorted(Counter(t.assignee_id for t in made if t.assignee_id).values())
    print(f"{label:<32} {N} creates in {seconds:6.2f} s = {N / seconds:7.1f}/s  shares {shares or '-'}")


async def main() -> None:
    url = os.environ.get("DATABASE_URL") or f"sqlite://{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    await db.migrate_database(url)
    await db.open_database(url)
    try:
        await load_reference_data()
        agents = [await make_agent() for _ in range(4)]
        actor = await make_agent()
        groups = {}
        for mode in (AssignmentMode.MANUAL, AssignmentMode.ROUND_ROBIN, AssignmentMode.LEAST_OPEN):
            groups[mode] = await Group.create(name=f"Bench {mode}", assignment=mode)
            await GroupMember.bulk_create([GroupMember(group=groups[mode], user=a) for a in agents])
        print(f"database: {db.dialect()}")
        for _ in range(50):  # warm up: caches, the first statements' plans
            await tickets.create_ticket(data=new_ticket(groups[AssignmentMode.MANUAL]), actor=actor)
        for together in (False, True):
            for mode, group in groups.items():
                label = f"{mode} ({'concurrent' if together else 'sequential'})"
                await timed(label, group, actor, together=together)
    finally:
        await db.close_database()


if __name__ == "__main__":
    asyncio.run(main())
