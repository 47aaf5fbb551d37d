"""The API's blueprint: bearer-token authentication and the one error shape. Route modules add
their routes to it; nothing here imports them back (helpdesk/api/__init__.py mounts them)."""

from quart import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from helpdesk import db
from helpdesk.errors import DomainError, RateLimited, Unauthorized
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
    if wait := await current_app.extensions["api_limiter"].retry_after(token_digest(token.strip())):
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
