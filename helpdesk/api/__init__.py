"""The JSON API under /api: bearer-token authentication, one error shape, the blueprint's routes."""

from quart import Blueprint, Quart, Response, current_app, g, jsonify, request
from quart_schema import QuartSchema
from werkzeug.exceptions import HTTPException

from helpdesk import db
from helpdesk.api.limits import RateLimiter
from helpdesk.errors import DomainError, RateLimited, Unauthorized
from helpdesk.fastjson import OrjsonProvider
from helpdesk.services.users import token_digest, user_for_token

api = Blueprint("api", __name__, url_prefix="/api")
PUBLIC_PATHS = {"/api/openapi.json", "/api/docs", "/api/docs/tickets.apib", "/api/docs/api.md"}


@api.before_request
async def authenticate() -> None:
    """Every API call names its user with `Authorization: Bearer <token>` (DECISIONS 8)."""
    if request.path in PUBLIC_PATHS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = await user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise Unauthorized("Send a valid API token as `Authorization: Bearer <token>`.")
    if wait := current_app.extensions["api_limiter"].retry_after(token_digest(token.strip())):
        g.retry_after = wait
        raise RateLimited(f"Too many requests with this token; try again in {wait} s.")
    g.user = user


def error_response(status: int, title: str, message: str, errors: dict | None = None) -> Response:
    body = {"title": title, "message": message} | ({"errors": errors} if errors else {})
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="helpdesk"'
    return response


@api.errorhandler(DomainError)
async def domain_error(error: DomainError) -> Response:
    response = error_response(error.status, error.title, error.message, error.errors)
    if isinstance(error, RateLimited) and "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


@api.errorhandler(HTTPException)
async def http_error(error: HTTPException) -> Response:
    """Routing and protocol errors (404, 405, 413, ...) in the API's JSON shape."""
    response = error_response(error.code or 500, error.name, error.description or error.name)
    if error.code == 405 and (valid := getattr(error, "valid_methods", None)):
        response.headers["Allow"] = ", ".join(sorted(valid))
    return response


@api.errorhandler(Exception)
async def database_fault(error: Exception) -> Response:
    """A database outage is a 503 with Retry-After in the API's shape; anything else stays a 500."""
    if db.fault_of(error) is None:
        raise error
    db.report_fault(error, f"{request.method} {request.url_rule.rule if request.url_rule else 'API'}")
    response = error_response(
        503, "Service Unavailable", "The database is briefly unavailable. Try again in a few seconds."
    )
    response.headers["Retry-After"] = str(db.RETRY_AFTER_SECONDS)
    return response


def register_api(app: Quart) -> None:
    """Mount the API, its OpenAPI document and docs page, and its error handlers."""
    from helpdesk.api import catalog, docs, events, reporting, tickets, users  # noqa: F401 - routes

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
    app.make_response = getattr(app.make_response, "__wrapped__", app.make_response)
    app.register_error_handler(HTTPException, unmatched_api_error)


async def unmatched_api_error(error: HTTPException) -> Response | HTTPException:
    """Requests under /api that matched no route still get the JSON error shape."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return await http_error(error)
    return error


from helpdesk.api.openapi import ApiOnlyProvider  # noqa: E402 - needs `api` defined above
