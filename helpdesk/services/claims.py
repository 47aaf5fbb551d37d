"""Claiming due rows of a work table (the outbox, the mail inbox) for one worker at a time.

One statement takes the rows, so the rows it returns are exactly the ones this worker now holds:
rows waiting whose time has come, and rows whose holder's claim lapsed (the holder died or hung).
On PostgreSQL, rows another worker is taking just now are skipped; SQLite runs one writer at a time.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.models import Model

from helpdesk import compat, db
from helpdesk.services import sql

log = logging.getLogger(__name__)

# A claim lapses CLAIM_SECONDS after its worker's last heartbeat; then another worker, polling
# every POLL_SECONDS, takes the row over: within CLAIM_SECONDS + POLL_SECONDS (13 s) of a crash.
# A live worker renews its claims every HEARTBEAT_SECONDS, however long its work on a row takes,
# so it keeps them through several missed or slow beats.
CLAIM_SECONDS = 12
HEARTBEAT_SECONDS = 2
POLL_SECONDS = 1.0

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
    """A table of rows waiting for a worker: what it is called, its table and model, the status a
    row waits in and the one it has while held, and what else a claim sets (`also`: SQL
    assignments, no parameters)."""

    name: str  # as the logs and the heartbeat task say it
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


class Claims:
    """The rows one worker holds, under a name of its own: its heartbeat renews just these."""

    def __init__(self) -> None:
        self.worker = uuid.uuid4().hex
        self.held: set[int] = set()


async def renew(work: WorkTable, claims: Claims) -> int:
    """Extend the claims this worker still holds (its heartbeat); returns how many rows it renewed."""
    if not claims.held:
        return 0
    until = datetime.now(UTC) + timedelta(seconds=CLAIM_SECONDS)
    held = work.model.filter(id__in=sorted(claims.held), claimed_by=claims.worker, status=work.working)
    return await held.update(claimed_until=until)


async def beat(work: WorkTable, claims: Claims) -> None:
    """One heartbeat: renew the claims, or log one line why not (the next beat tries again; the
    claims lapse, and other workers take the rows over, only if beats fail for CLAIM_SECONDS)."""
    try:
        await renew(work, claims)
    except Exception as error:  # noqa: BLE001 - a failed beat must not end the heartbeat
        detail = next(iter(str(error).splitlines()), "")[:200]
        log.warning(
            "%s: %s claims not renewed: %s: %s", work.name, len(claims.held), type(error).__name__, detail
        )


async def _heartbeat(work: WorkTable, claims: Claims) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        await beat(work, claims)


async def run_worker(
    work: WorkTable, one_round: Callable[[Claims], Awaitable[int]], *, once: bool = False
) -> None:
    """Run rounds (each returns how many rows it took) until cancelled; with `once`, until a round
    takes none. A heartbeat renews the claims meanwhile, and ends with the worker."""
    claims, name = Claims(), work.name
    heartbeat = asyncio.create_task(_heartbeat(work, claims), name=f"{name} heartbeat {claims.worker}")
    try:
        while True:
            compat.stop_if_cancelled()
            try:
                taken = await one_round(claims)
            except Exception as error:  # noqa: BLE001 - a database hiccup must not stop the worker for good
                if db.fault_of(error) is None:
                    log.exception("%s: round failed", name)
                else:
                    db.report_fault(error, f"{name} worker")
                taken = 0
            if once and not taken:
                return
            if not taken:
                await asyncio.sleep(POLL_SECONDS)
    finally:
        heartbeat.cancel()
        # Wait for it to end (whether or not this task is itself being cancelled): a heartbeat
        # left pending outlives its worker and is destroyed with the event loop.
        await asyncio.wait({heartbeat})
