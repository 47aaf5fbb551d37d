"""The JSON API under /api: mounts the blueprint with its routes, the OpenAPI document and the
JSON encoder."""

from quart import Quart, Response, request
from quart_schema import QuartSchema
from werkzeug.exceptions import HTTPException

from helpdesk import compat
from helpdesk.api import (
    attachments,
    catalog,
    docs,
    events,
    organisations,
    reporting,
    service_levels,
    stream,
    tickets,
    users,
)
from helpdesk.api.blueprint import api, http_error
from helpdesk.api.limits import RateLimiter
from helpdesk.api.openapi import ApiOnlyProvider
from helpdesk.fastjson import OrjsonProvider

# Each adds its routes to `api`.
ROUTES = (
    attachments,
    catalog,
    docs,
    events,
    organisations,
    reporting,
    service_levels,
    stream,
    tickets,
    users,
)


def register_api(app: Quart) -> None:
    """Mount the API, its OpenAPI document and docs page, and its error handlers."""
    app.register_blueprint(api)
    app.extensions["api_limiter"] = RateLimiter(per_minute=app.config["API_RATE_PER_MINUTE"])
    QuartSchema(
        app,
        openapi_path="/api/openapi.json",
        swagger_ui_path=None,  # /api/docs is our own page: Swagger UI would load its code from a CDN
        redoc_ui_path=None,
        scalar_ui_path=None,
        info={"title": "Helpdesk API", "version": "1.0"},
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        security=[{"bearer": []}],
        openapi_provider_class=ApiOnlyProvider,
    )
    # QuartSchema installed its own JSON provider and wrapped make_response to pass every result
    # through pydantic. The views already return plain JSON-ready dicts: encode them with orjson
    # straight away (the pydantic pass and the standard encoder were a third of a list page).
    app.json = OrjsonProvider(app)
    compat.skip_quart_schema_response_conversion(app)
    app.register_error_handler(HTTPException, unmatched_api_error)


async def unmatched_api_error(error: HTTPException) -> Response | HTTPException:
    """Requests under /api that matched no route still get the JSON error shape."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return await http_error(error)
    return error
