"""Claiming due rows of a work table (the outbox, the mail inbox) for one worker at a time.

One statement takes the rows, so the rows it returns are exactly the ones this worker now holds:
rows waiting whose time has come, and rows whose holder's claim lapsed (the holder died or hung).
On PostgreSQL, rows another worker is taking just now are skipped; SQLite runs one writer at a time.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.models import Model

from helpdesk.services import sql

_CLAIM = """
UPDATE {table}
SET status = '{working}', attempts = attempts + 1, claimed_until = {until}, claimed_by = {worker}{also}
WHERE id IN (
    SELECT id FROM {table}
    WHERE (status = '{waiting}' AND next_attempt_at <= {due})
       OR (status = '{working}' AND claimed_until < {lapsed})
    ORDER BY next_attempt_at, id LIMIT {limit}{skip_locked}
)
RETURNING id
"""


@dataclass(frozen=True)
class WorkTable:
    """A table of rows waiting for a worker: its name and model, the status a row waits in and the one it
    has while held, and what else a claim sets (`also`: SQL assignments, no parameters)."""

    table: str
    model: type[Model]
    waiting: str
    working: str
    also: str = ""


async def claim(work: WorkTable, *, moment: datetime, limit: int, worker: str, seconds: int) -> list:
    """Take up to `limit` due rows for `worker`, held for `seconds`, and return them as the claim
    left them, in the order they fell due."""
    param = sql.Params()
    query = _CLAIM.format(  # the parameters in the order they appear
        table=work.table, waiting=work.waiting, working=work.working,
        until=param(moment + timedelta(seconds=seconds)), worker=param(worker),
        also=f", {work.also}" if work.also else "",
        due=param(moment), lapsed=param(moment), limit=param(limit),
        skip_locked=" FOR UPDATE SKIP LOCKED" if sql.is_postgres() else "",
    )  # fmt: skip
    taken = [row["id"] for row in await sql.write_returning(query, *param.values)]
    if not taken:
        return []
    held = work.model.filter(id__in=taken, claimed_by=worker, status=work.working)
    return await held.order_by("next_attempt_at", "id")
