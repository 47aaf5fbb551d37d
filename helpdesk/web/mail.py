"""Email intake on screen: agents accept an unverified sender's email and clear a bouncing address
on the ticket page; admins see the incoming mail that made nothing, and why, and retry it."""

from quart import Blueprint, Response, redirect, render_template, url_for

from helpdesk.errors import Conflict, NotFound
from helpdesk.services import mail_intake, mail_routing
from helpdesk.web.auth import admin_required, current_user, staff_required
from helpdesk.web.forms import CsrfForm, token_form
from helpdesk.web.tickets import panel_changed, show_panel

bp = Blueprint("mail", __name__)


@bp.post("/tickets/<human_id>/comments/<int:comment_id>/accept")
@staff_required
async def accept(human_id: str, comment_id: int) -> Response:
    """Accept an unverified sender's email as the customer's public reply; the thread comes back."""
    user, form = await current_user(), await CsrfForm.from_request()
    if not form.validate():
        return await show_panel(human_id, "thread", 400)
    try:
        await mail_routing.accept_unverified(human_id=human_id, comment_id=comment_id, actor=user)
    except Conflict:
        return await show_panel(human_id, "thread", 409)
    return await panel_changed(human_id, "thread")


@bp.post("/tickets/<human_id>/bouncing/<path:address>/clear")
@staff_required
async def clear_bouncing(human_id: str, address: str) -> Response:
    """Clear a bouncing address: the ticket's emails go to it again; the contacts panel comes back."""
    user, form = await current_user(), await CsrfForm.from_request()
    if not form.validate():
        return await show_panel(human_id, "contacts", 400, message=" ".join(form.csrf_token.errors))
    await mail_routing.clear_bouncing(human_id=human_id, address=address, actor=user)
    return await panel_changed(human_id, "contacts", message=f"{address} cleared.", ok=True)


@bp.get("/admin/mail")
@admin_required
async def incoming() -> str:
    """The incoming mail that made nothing or waits for a retry, with the reason."""
    user = await current_user()
    rows = await mail_intake.problems(actor=user)
    return await render_template("admin/mail.html", rows=rows, form=token_form())


@bp.post("/admin/mail/<int:inbound_id>/retry")
@admin_required
async def retry(inbound_id: int) -> Response:
    """Send one message through processing again."""
    user, form = await current_user(), await CsrfForm.from_request()
    if form.validate():
        try:
            await mail_intake.retry(inbound_id=inbound_id, actor=user)
        except NotFound:
            pass
    return redirect(url_for("mail.incoming"))
