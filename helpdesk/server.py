"""The production server: Granian, measured fastest here for this app (see README)."""

import asyncio

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from helpdesk import create_app, db


def serve(*, host: str, port: int, workers: int, database_url: str, concurrency: int = 4096) -> None:
    """Check the database answers, then serve `helpdesk:create_app` until interrupted.

    `concurrency` is each worker's limit on requests in flight (Granian's backpressure). Granian's
    default, its backlog (1024) shared among the workers, held 512 a worker with 2 workers: live
    streams, which stay open, used it up and every later request waited (make bench-live)."""
    asyncio.run(_check_database(database_url))
    create_app()  # fail here, with a traceback, rather than silently inside a worker process
    print(f"serving http://{host}:{port} with {workers} worker(s)", flush=True)
    Granian(
        "helpdesk:create_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        backlog=max(1024, concurrency),
        backpressure=concurrency,
        log_level=LogLevels.warning,
        respawn_failed_workers=True,
    ).serve()


async def _check_database(database_url: str) -> None:
    await db.open_database(database_url)
    await db.close_database()
