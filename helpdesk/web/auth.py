"""Signing in and out, the current user, and the decorators that guard every other screen."""

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from quart import Blueprint, Response, abort, g, redirect, request, session, url_for
from werkzeug.urls import iri_to_uri

from helpdesk.errors import RateLimited, Unauthorized
from helpdesk.models import User
from helpdesk.services import sessions
from helpdesk.web.forms import CsrfForm, LoginForm, token_form
from helpdesk.web.pages import form_status, is_htmx, render

bp = Blueprint("auth", __name__)
View = Callable[..., Awaitable[Any]]


async def current_user() -> User | None:
    """The signed-in user of this request, loaded once from the server-side session."""
    if "user" not in g:
        session_id = session.get("sid")
        g.user = await sessions.user_for_session(session_id) if session_id else None
        if session_id and g.user is None:
            session.clear()  # ended, expired or deactivated: forget the stale cookie
    return g.user


def safe_next(target: str | None) -> str:
    """A path of this site, or "/": `next` must never send a signed-in user to another host.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so "/", a tab,
    "/evil.example/" is "//evil.example/": any such character refuses the target outright."""
    if not target or not target.startswith("/") or "\\" in target:
        return "/"
    if not target.isprintable():  # control characters (C0, DEL, C1) and Unicode line separators
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return "/"
    return iri_to_uri(target)


def to_sign_in() -> Response:
    location = url_for("auth.login") + "?" + urlencode({"next": request.full_path.rstrip("?")})
    if is_htmx():
        return Response("", 401, headers={"HX-Redirect": location})
    return redirect(location, 303)


def login_required(view: View) -> View:
    """Send anonymous visitors to the sign-in page and back afterwards."""

    @wraps(view)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        if await current_user() is None:
            return to_sign_in()
        return await view(*args, **kwargs)

    return guarded


def role_required(check: Callable[[User], bool]) -> Callable[[View], View]:
    """A signed-in user who fails `check` gets 403 (the services check again)."""

    def decorate(view: View) -> View:
        @wraps(view)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            user = await current_user()
            if user is None:
                return to_sign_in()
            if not check(user):
                abort(403)
            return await view(*args, **kwargs)

        return guarded

    return decorate


staff_required = role_required(lambda user: user.is_staff)
admin_required = role_required(lambda user: user.admin)


async def template_context() -> dict[str, Any]:
    """Every template sees the signed-in user (if loaded) and a sign-out form for the header.

    Async although it awaits nothing: Quart runs a plain function processor in its thread pool, a
    hand-off to another thread and back on every page."""
    user = g.get("user")
    return {"current_user": user, "logout_form": token_form() if user else None}


@bp.route("/login", methods=["GET", "POST"])
async def login() -> Any:
    """Show the sign-in form; on a right password start a fresh session."""
    form = await LoginForm.from_request()
    if request.method == "POST" and form.validate():
        try:
            session_id = await sessions.sign_in(
                email=form.email.data, password=form.password.data, address=request.remote_addr or "",
                browser=request.headers.get("User-Agent", ""),
            )  # fmt: skip
        except (Unauthorized, RateLimited) as error:
            form.form_errors.append(error.message)
            return await render("auth/login.html", form=form), error.status
        session.clear()  # a new session id (and CSRF secret) at every sign-in
        session["sid"] = session_id
        return redirect(safe_next(request.args.get("next")), 303)
    status = form_status(form) if form.errors else 200
    return await render("auth/login.html", form=form), status


@bp.post("/logout")
async def logout() -> Any:
    """End the session in the database, not just in the browser."""
    form = await CsrfForm.from_request()
    if not form.validate():
        abort(400, "Your session expired. Reload the page and try again.")
    if session_id := session.get("sid"):
        await sessions.sign_out(session_id=session_id)
    session.clear()
    return redirect(url_for("auth.login"), 303)
