"""The Account screen: one's own password, email address and signed-in sessions.

Plain forms that post and redirect (no htmx needed): rare, deliberate changes."""

from typing import Any

from quart import Blueprint, abort, current_app, redirect, request, session, url_for
from wtforms import Form

from helpdesk.errors import Invalid, NotFound, RateLimited
from helpdesk.services import accounts, sessions, users
from helpdesk.web.auth import current_user, login_required
from helpdesk.web.forms import ChangePasswordForm, CsrfForm, EndSessionForm, NewEmailForm
from helpdesk.web.pages import form_status, render

bp = Blueprint("account", __name__)
# What a redirect back to the page says; the URL carries only the key, never user text.
NOTICES = {
    "password": "Your password is changed. Every other session of your account has ended.",
    "session": "That session has ended.",
    "others": "You are signed out everywhere else.",
}


def show_error(form: Form, error: Invalid | NotFound | RateLimited) -> None:
    """A service's refusal on the form: field errors on their fields, the rest above the form."""
    placed = False
    for name, messages in error.errors.items():
        if name in form:
            form[name].errors = list(messages)
            placed = True
    if not placed:
        form.form_errors.append(error.message)


async def account_page(status: int = 200, notice: str = "", **forms: Form) -> tuple[str, int, dict]:
    """The page with its three panels; `forms` replaces the empty form of a panel that failed."""
    actor = await current_user()
    context = {
        "password_form": ChangePasswordForm(),
        "email_form": NewEmailForm(),
        "action": CsrfForm(),
        "open_sessions": await sessions.list_sessions(actor=actor, session_id=session["sid"]),
        "notice": notice or NOTICES.get(request.args.get("done", ""), ""),
    } | forms
    return await render("account/page.html", **context), status, {"Cache-Control": "no-store"}


def done(notice: str) -> Any:
    return redirect(url_for("account.page", done=notice), 303)


@bp.get("/account")
@login_required
async def page() -> Any:
    """Change password, change email, and the sessions signed in as oneself."""
    return await account_page()


@bp.post("/account/password")
@login_required
async def change_password() -> Any:
    """Change one's password with the current one; other sessions end."""
    form = await ChangePasswordForm.from_request()
    if not form.validate():
        return await account_page(form_status(form), password_form=form)
    try:
        await accounts.change_password(
            actor=await current_user(), current_password=form.current_password.data,
            new_password=form.new_password.data, session_id=session["sid"],
        )  # fmt: skip
    except (Invalid, RateLimited) as error:
        show_error(form, error)
        return await account_page(error.status, password_form=form)
    return done("password")


@bp.post("/account/email")
@login_required
async def change_email() -> Any:
    """Ask for a new email: a link goes to it, and the answer never says whether it is taken."""
    form = await NewEmailForm.from_request()
    if not form.validate():
        return await account_page(form_status(form), email_form=form)
    try:
        answer = await users.request_email_change(
            actor=await current_user(), new_email=form.email.data, config=current_app.config
        )
    except Invalid as error:
        show_error(form, error)
        return await account_page(error.status, email_form=form)
    return await account_page(notice=answer)


@bp.post("/account/sessions/end")
@login_required
async def end_session() -> Any:
    """End one of one's own sessions (this browser's too, which signs it out)."""
    form = await EndSessionForm.from_request()
    if not form.validate():
        abort(400, "Your session expired. Reload the page and try again.")
    await sessions.end_session(actor=await current_user(), key=form.session.data)
    return done("session")


@bp.post("/account/sessions/end-others")
@login_required
async def end_other_sessions() -> Any:
    """Sign out everywhere but here."""
    if not (await CsrfForm.from_request()).validate():
        abort(400, "Your session expired. Reload the page and try again.")
    await sessions.end_other_sessions(actor=await current_user(), session_id=session["sid"])
    return done("others")
