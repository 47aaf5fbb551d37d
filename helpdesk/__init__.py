"""The helpdesk application factory."""

import asyncio
import contextlib
from typing import Any

from quart import Quart

from helpdesk import compat, db, health, response_headers, upload_request
from helpdesk.config import PROJECT_ROOT, load_config
from helpdesk.services import (
    attachments,
    cache,
    contacts,
    dispatcher,
    mail_intake,
    notifications,
    outbox,
    sessions,
    sla,
    values,
)
from helpdesk.unread_body import AnswerAfterBody


def create_app(overrides: dict[str, Any] | None = None) -> Quart:
    """Build the app: config, ORM lifecycle, blueprints. No logic lives here."""
    app = Quart(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(load_config(overrides))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["BASE_URL"].startswith("https://"),
    )

    @app.before_serving
    async def start_database() -> None:
        cache.configure(app.config["CACHE_SECONDS"])
        sessions.configure(app.config)
        contacts.configure(app.config)
        notifications.configure(app.config)
        values.configure(app.config)
        attachments.configure(app.config)
        await db.open_database(
            app.config["DATABASE_URL"], serving=True, pool_wait=app.config["DATABASE_POOL_WAIT"]
        )

    @app.before_serving
    async def start_feed_dispatcher() -> None:
        app.extensions["feed"] = dispatcher.Dispatcher(dispatcher.settings_from(app.config))
        await app.extensions["feed"].start()
        compat.before_server_shutdown(app.extensions["feed"].end_streams)

    @app.before_serving
    async def start_outbox_worker() -> None:
        if app.config["WORKER_IN_PROCESS"]:
            app.extensions["outbox_worker"] = asyncio.create_task(outbox.run_worker(app.config))
            app.extensions["mail_intake_worker"] = asyncio.create_task(mail_intake.run_worker(app.config))
            app.extensions["sla_timer"] = asyncio.create_task(sla.run_timer())

    @app.after_serving
    async def stop_outbox_worker() -> None:
        for name in ("outbox_worker", "mail_intake_worker", "sla_timer"):
            if worker := app.extensions.pop(name, None):
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    @app.after_serving
    async def stop_feed_dispatcher() -> None:
        if feed := app.extensions.pop("feed", None):
            await feed.stop()

    @app.after_serving
    async def stop_database() -> None:
        await db.close_database()

    from helpdesk.api import register_api
    from helpdesk.web import register_web
    from helpdesk.web.confirm import bp as confirm_bp

    register_api(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(confirm_bp)
    register_web(app)
    response_headers.install(app)
    upload_request.install(app)
    app.asgi_app = AnswerAfterBody(app.asgi_app)  # type: ignore[method-assign]

    return app
