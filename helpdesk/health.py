"""Liveness and readiness, for load balancers and orchestrators (outside the API and the screens)."""

from quart import Blueprint

from helpdesk import db

bp = Blueprint("health", __name__)
# Busy: a writer holds SQLite at this moment. Requests queue behind it rather than fail, so the
# node is still ready; whatever else is wrong (unreachable, read-only, disk full) makes it not.
READY = {"ok", "busy"}


@bp.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness, database or not: load balancers probe it, benchmarks compare against it."""
    return {"status": "ok"}


@bp.get("/readyz")
async def readyz() -> tuple[dict[str, str], int, dict[str, str]]:
    """Readiness: 200 while the database can serve requests, else 503 naming what is wrong."""
    state = await db.readiness()
    if state in READY:
        return {"status": "ready", "database": state}, 200, {}
    return {"status": "unavailable", "database": state}, 503, {"Retry-After": str(db.RETRY_AFTER_SECONDS)}
