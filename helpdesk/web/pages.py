"""Rendering shared by every screen: page or partial, change events, error pages, date filters."""

import functools
import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment
from markupsafe import Markup
from quart import (
    Blueprint,
    Quart,
    Response,
    current_app,
    g,
    has_request_context,
    make_response,
    redirect,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from helpdesk import db
from helpdesk.errors import DomainError, LinkRefused

log = logging.getLogger(__name__)
ERROR_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    503: "Briefly unavailable",
}
# What the page says when the error carries only the framework's stock description.
ERROR_MESSAGES = {
    403: "Your account cannot open this page. If you need it, ask an admin.",
    404: "There is no page at this address. The link may be mistyped, or what it named is gone.",
    405: "This address cannot be used that way. Go back to the page and try again from there.",
}


def is_htmx() -> bool:
    """An htmx request wanting a partial; restoring history (the back button) needs the whole page."""
    headers = request.headers
    return headers.get("HX-Request") == "true" and headers.get("HX-History-Restore-Request") != "true"


def add_plain_templates(app: Quart) -> None:
    """A sibling of Quart's template environment (same loader, globals, filters and autoescape)
    that compiles templates to plain Python. Quart's compiles them async, so every variable,
    loop and call in a template goes through an await check; no template here awaits anything."""
    app.extensions["plain_templates"] = app.jinja_env.overlay(enable_async=False, cache_size=400)


async def render(template: str, /, **context: Any) -> str:
    """Quart's render_template (the same context processors), rendered without async overhead."""
    app = current_app
    await app.update_template_context(context)
    environment: Environment = app.extensions["plain_templates"]
    # The viewer's zone once for the whole render: `when` reads it for every moment shown (a queue
    # page shows 150), and looking the user up through the request's `g` each time cost more than
    # formatting the moment.
    zone = _render_zone.set(viewer_zone())
    try:
        return environment.get_template(template).render(context)
    finally:
        _render_zone.reset(zone)


async def page_or_partial(page: str, partial: str, status: int = 200, /, **context) -> Response:
    """The full page, or just its partial when htmx asks; `Vary` keeps caches from mixing them."""
    body = await render(partial if is_htmx() else page, **context)
    response = await make_response(body, status)
    response.vary.update(("HX-Request", "HX-History-Restore-Request"))
    return response


async def changed(event: str, location: str, partial: str, **context) -> Response:
    """After a write: htmx gets the fresh partial plus an event for other panels; browsers redirect."""
    if not is_htmx():
        response = redirect(location, 303)
    else:
        response = await page_or_partial(partial, partial, **context)
        response.headers["HX-Trigger"] = json.dumps({event: {"target": "body"}})
    response.vary.add("HX-Request")
    return response


async def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG one."""
    response = redirect(url_for("static", filename="favicon.svg"), 301)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def form_status(form) -> int:
    """400 when the CSRF check failed (nothing was written), otherwise 422 for field errors."""
    return 400 if "csrf_token" in form.errors else 422


async def error_page(error: Exception) -> Response:
    """A domain or HTTP error as a page in the site's style (a small alert for htmx swaps)."""
    # The route's pattern, never the path: a path can carry a secret (the /confirm/<token> link).
    route = request.url_rule.rule if request.url_rule else "an unmatched URL"
    if isinstance(error, DomainError):
        status, message = error.status, error.message
    elif isinstance(error, HTTPException):
        status, message = error.code or 500, error.description or ""
        if message == type(error).description:
            message = ERROR_MESSAGES.get(status, message)
    elif db.fault_of(error):
        db.report_fault(error, f"{request.method} {route}")
        status, message = 503, "The service is briefly unavailable. Try again in a few seconds."
    else:
        log.exception("unhandled error on %s %s", request.method, route, exc_info=error)
        status, message = 500, "Something went wrong on our side. Try again in a moment."
    title = ERROR_TITLES.get(status, "Something went wrong" if status >= 500 else "Cannot do that")
    response = await page_or_partial(
        "errors/page.html", "errors/_error.html", status, title=title, message=message, status=status
    )
    if status == 503:
        response.headers["Retry-After"] = str(db.RETRY_AFTER_SECONDS)
    return response


async def fault_page(error: Exception) -> Response:
    """A database outage outside the screens' blueprints (the email links) is the same 503 page."""
    if db.fault_of(error) is None:
        raise error
    return await error_page(error)


def age(moment: datetime | None) -> str:
    """How long ago, short: 45m, 3h, 12d."""
    if moment is None:
        return ""
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "now"


def badge(state: Any, kind: str) -> Markup:
    """A state, type or priority as a coloured badge (empty for none). Written in Python, once per
    distinct state: a queue page shows two on each of its rows, and a template macro cost ~15 us each."""
    return _badge(kind, state.description, bool(state.closes)) if state else Markup("")


@functools.lru_cache(maxsize=1024)
def _badge(kind: str, description: str, closes: bool) -> Markup:
    urgent = kind == "priority" and description[:2] in ("P1", "P2")
    classes = (
        f"badge badge-{kind}" + (" badge-closed" if closes else "") + (" badge-urgent" if urgent else "")
    )
    return Markup('<span class="{}">{}</span>').format(classes, description)


_urls: dict[tuple, str] = {}  # template_url_for's: the app is served at one root, as `helpdesk serve` does


def template_url_for(endpoint: str, **values: Any) -> str:
    """Templates' url_for, remembered: a ticket page builds ~50 URLs (its scripts, the menus, each
    panel's own), ~12 us each through werkzeug's router; a hit is one dictionary lookup. Only a
    plain path within the app is remembered (not `_external`, `_anchor`..., nor `.endpoint`)."""
    key = (endpoint, *values.items())
    try:
        return _urls[key]
    except KeyError:
        url = url_for(endpoint, **values)
        if not endpoint.startswith(".") and not any(name.startswith("_") for name in values):
            if len(_urls) >= 20_000:  # a bound on memory: each ticket page adds its own panels' URLs
                _urls.clear()
            _urls[key] = url
        return url
    except TypeError:  # a value that cannot be a key (a list): built each time
        return url_for(endpoint, **values)


def options(items: Any, selected: Any, empty: str = "Any") -> Markup:
    """A select's options: an empty choice, then each item (a state by its description, else by
    name), the `selected` id marked. Written in Python and remembered by what it shows: the queue
    page has nine such selects over the catalogue, and the template loop cost ~1.5 us an option."""
    shown = tuple((item.id, getattr(item, "description", None) or item.name) for item in items)
    return _options(shown, selected, empty)


@functools.lru_cache(maxsize=512)
def _options(shown: tuple[tuple[Any, str], ...], selected: Any, empty: str) -> Markup:
    plain, chosen = (
        Markup('<option value="{}">{}</option>\n'),
        Markup('<option value="{}" selected>{}</option>\n'),
    )
    tags = [plain.format("", empty)]
    tags.extend((chosen if value == selected else plain).format(value, label) for value, label in shown)
    return Markup("").join(tags)


def viewer_zone() -> tzinfo:
    """The signed-in user's time zone (their Account setting), else UTC."""
    user = g.get("user") if has_request_context() else None
    name = getattr(user, "time_zone", "") if user else ""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):  # a zone this machine no longer knows
        return UTC


_render_zone: ContextVar[tzinfo | None] = ContextVar("render_zone", default=None)


def when(moment: datetime | None) -> str:
    """A timestamp people read, in the viewer's time zone: 2026-11-29 23:02 UTC (or 00:02 CET)."""
    return _when(moment, _render_zone.get() or viewer_zone()) if moment else ""


@functools.lru_cache(maxsize=16_384)
def _when(moment: datetime, zone: tzinfo) -> str:
    """Remembered: a queue row shows three moments, and every live refresh of the queue shows the
    same tickets' moments again (~4 us each to convert and format; a hit is a dictionary lookup)."""
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M ") + ("UTC" if zone is UTC else local.tzname())


def ago(moment: datetime | None) -> str:
    """How long ago, where that reads better than a timestamp: "just now", "5 min ago", "3 h ago",
    "2 d ago"; a week or more is the date and time (`when`)."""
    if moment is None:
        return ""
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 0 or seconds >= 7 * 86400:
        return when(moment)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def serve_token_links(bp: Blueprint, refused_template: str) -> None:
    """Make `bp` a family of pages whose URL holds a token (an emailed link): never sent on as a
    Referer nor kept in a cache, any failure the site's error page logged without the token, and a
    refused link (expired, used, altered) `refused_template`, saying how to get a new one."""

    async def private_page(response: Response) -> Response:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def refused(error: LinkRefused) -> tuple[str, int]:
        return await render(refused_template, error=error), error.status

    bp.after_request(private_page)
    bp.register_error_handler(Exception, error_page)
    bp.register_error_handler(LinkRefused, refused)
