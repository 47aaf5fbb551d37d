"""The Account screen: one's own password, email address and signed-in sessions.

Plain forms that post and redirect (no htmx needed): rare, deliberate changes."""

from functools import partial
from typing import Any

from quart import Blueprint, abort, current_app, redirect, request, session, url_for
from wtforms import Form

from helpdesk.errors import Invalid, RateLimited
from helpdesk.services import accounts, notifications, sessions, users
from helpdesk.web.auth import current_user, login_required
from helpdesk.web.forms import (
    SESSION_EXPIRED,
    AvailabilityForm,
    ChangePasswordForm,
    EndSessionForm,
    NewEmailForm,
    TimeZoneForm,
    check_csrf,
    show_refusal,
    submit,
    token_form,
)
from helpdesk.web.pages import render

bp = Blueprint("account", __name__)
# What a redirect back to the page says; the URL carries only the key, never user text.
NOTICES = {
    "password": "Your password is changed. Every other session of your account has ended.",
    "session": "That session has ended.",
    "others": "You are signed out everywhere else.",
    "notifications": "Your choice of notification emails is saved.",
    "time_zone": "Your time zone is saved: times show in it.",
    "available": "You are available: groups that assign by rule give you new tickets.",
    "away": "You are away: groups that assign by rule skip you until you are back.",
}


show_error = show_refusal  # the name web/passwords.py imports


async def account_page(status: int = 200, notice: str = "", **forms: Form) -> tuple[str, int, dict]:
    """The page with its three panels; `forms` replaces the empty form of a panel that failed."""
    actor = await current_user()
    context = {
        "password_form": ChangePasswordForm(),
        "email_form": NewEmailForm(),
        "time_zone_form": TimeZoneForm(data={"time_zone": actor.time_zone}),
        "availability_form": AvailabilityForm(),
        "time_zones": accounts.time_zones(),
        "action": token_form(),
        "open_sessions": await sessions.list_sessions(actor=actor, session_id=session["sid"]),
        "notice": notice or NOTICES.get(request.args.get("done", ""), ""),
        "email_switches": await notifications.email_switches(actor=actor) if actor.is_staff else None,
        "switch_labels": notifications.SWITCH_LABELS,
    } | forms
    return await render("account/page.html", **context), status, {"Cache-Control": "no-store"}


def back_with_notice(key: str) -> Any:
    """Back to the page, which says what was done (one of NOTICES)."""
    return redirect(url_for("account.page", done=key), 303)


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
    change = partial(
        accounts.change_password, actor=await current_user(), current_password=form.current_password.data,
        new_password=form.new_password.data, session_id=session["sid"],
    )  # fmt: skip
    outcome = await submit(form, change, Invalid, RateLimited)
    return (
        await account_page(outcome.status, password_form=form)
        if outcome.refused
        else back_with_notice("password")
    )


@bp.post("/account/time-zone")
@login_required
async def change_time_zone() -> Any:
    """Show one's times in another time zone."""
    user, form = await current_user(), await TimeZoneForm.from_request()
    outcome = await submit(
        form, lambda: accounts.set_time_zone(actor=user, time_zone=form.time_zone.data or ""), Invalid
    )
    if outcome.refused:
        return await account_page(outcome.status, time_zone_form=form)
    return back_with_notice("time_zone")


@bp.post("/account/available")
@login_required
async def change_availability() -> Any:
    """Switch whether assignment rules give one new tickets (agents)."""
    user, form = await current_user(), await AvailabilityForm.from_request()
    if not form.validate():
        abort(400, SESSION_EXPIRED)
    await accounts.set_available(actor=user, available=form.available.data)
    return back_with_notice("available" if form.available.data else "away")


@bp.post("/account/email")
@login_required
async def change_email() -> Any:
    """Ask for a new email: a link goes to it, and the answer never says whether it is taken."""
    form = await NewEmailForm.from_request()
    actor, email = await current_user(), form.email.data
    ask = partial(users.request_email_change, actor=actor, new_email=email, config=current_app.config)
    outcome = await submit(form, ask, Invalid)
    if outcome.refused:
        return await account_page(outcome.status, email_form=form)
    return await account_page(notice=outcome.result)


@bp.post("/account/sessions/end")
@login_required
async def end_session() -> Any:
    """End one of one's own sessions (this browser's too, which signs it out)."""
    form = await EndSessionForm.from_request()
    if not form.validate():
        abort(400, SESSION_EXPIRED)
    await sessions.end_session(actor=await current_user(), key=form.session.data)
    return back_with_notice("session")


@bp.post("/account/sessions/end-others")
@login_required
async def end_other_sessions() -> Any:
    """Sign out everywhere but here."""
    await check_csrf()
    await sessions.end_other_sessions(actor=await current_user(), session_id=session["sid"])
    return back_with_notice("others")
