"""The production server: Granian, measured fastest here for this app (see README)."""

import asyncio

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from helpdesk import create_app, db


def serve(*, host: str, port: int, workers: int, database_url: str) -> None:
    """Check the database answers, then serve `helpdesk:create_app` until interrupted."""
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
        log_level=LogLevels.warning,
        respawn_failed_workers=True,
    ).serve()


async def _check_database(database_url: str) -> None:
    await db.open_database(database_url)
    await db.close_database()
