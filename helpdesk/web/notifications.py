"""The notifications menu in the header (agents only): unread count, newest entries, mark read.

The header loads the menu after the page (its own endpoint, so no page pays for it), and
static/notifications.js asks for it again whenever the page's stream carries a
`notification.created` event for this user. Without JavaScript, the header's link opens the same
list as a page."""

from typing import Any

from quart import Blueprint, redirect, request, url_for

from helpdesk.services import notifications
from helpdesk.web.auth import current_user, staff_required
from helpdesk.web.forms import check_csrf, token_form
from helpdesk.web.pages import is_htmx, page_or_partial

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


async def _menu(*, opened: bool = False) -> Any:
    """The menu partial (htmx) or the page, both from the same list."""
    actor = await current_user()
    response = await page_or_partial(
        "notifications/page.html", "notifications/_menu.html",
        entries=await notifications.latest(actor=actor),
        unread=await notifications.unread_count(actor=actor),
        action=token_form(), opened=opened,
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@staff_required
async def menu() -> Any:
    """The actor's newest notifications and unread count: the header's menu, or a page."""
    return await _menu()


async def _after_marking() -> Any:
    return await _menu(opened=True) if is_htmx() else redirect(url_for("notifications.menu"), 303)


@bp.post("/<int:notification_id>/read")
@staff_required
async def mark_read(notification_id: int) -> Any:
    """Mark one of one's notifications read."""
    await check_csrf()
    await notifications.mark_read(actor=await current_user(), notification_id=notification_id)
    return await _after_marking()


@bp.post("/read")
@staff_required
async def mark_all_read() -> Any:
    """Mark all of one's notifications read."""
    await check_csrf()
    await notifications.mark_all_read(actor=await current_user())
    return await _after_marking()


@bp.post("/email")
@staff_required
async def email_switches() -> Any:
    """Which kinds of notification one also gets by email (the Account page's form)."""
    await check_csrf()
    wanted = (await request.form).getlist("email")
    await notifications.set_email_switches(actor=await current_user(), enabled=wanted)
    return redirect(url_for("account.page", done="notifications"), 303)
