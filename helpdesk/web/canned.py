"""Canned replies: the picker by the reply box (and its `/` key), inserting one, and managing them."""

from functools import partial
from typing import Any

from quart import Blueprint, Response, redirect, request, url_for
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import User
from helpdesk.services import canned, tickets
from helpdesk.web.auth import current_user, staff_required
from helpdesk.web.forms import CommentForm, CsrfForm, form_status, show_refusal, submit, token_form
from helpdesk.web.pages import page_or_partial

bp = Blueprint("canned", __name__)


class CannedForm(CsrfForm):
    title = StringField("Title", [DataRequired(), Length(max=canned.TITLE_MAX)])
    body = TextAreaField("Text", [DataRequired(), Length(max=canned.BODY_MAX)])
    shared = BooleanField("Shared with every agent")


async def _manage_page(user: User, form: CannedForm | None = None, status: int = 200) -> Response:
    context: dict[str, Any] = {
        "replies": await canned.list_replies(actor=user),
        "form": form or CannedForm(),
        "action": token_form(),
        "placeholders": canned.PLACEHOLDERS,
    }
    return await page_or_partial("canned/page.html", "canned/page.html", status, **context)


@bp.get("/canned")
@staff_required
async def page() -> Response:
    """The shared canned replies and the agent's own, with the form to add one."""
    return await _manage_page(await current_user())


@bp.post("/canned")
@staff_required
async def create() -> Response:
    """Add a canned reply (shared ones: admins only); errors come back on the form (422)."""
    user, form = await current_user(), await CannedForm.from_request()
    if not form.validate():
        return await _manage_page(user, form, form_status(form))
    try:
        await canned.create_reply(
            title=form.title.data, body=form.body.data, shared=form.shared.data, actor=user
        )
    except (Invalid, Forbidden) as error:
        return await _manage_page(user, form, show_refusal(form, error))
    return redirect(url_for("canned.page"), 303)


@bp.route("/canned/<int:reply_id>", methods=["GET", "POST"])
@staff_required
async def edit(reply_id: int) -> Response:
    """Change a canned reply's title and text; errors come back on the form (422)."""
    user = await current_user()
    reply = await canned.get_reply(reply_id=reply_id, actor=user)
    form = await CannedForm.from_request(data={"title": reply.title, "body": reply.body})
    status = 200
    if request.method == "POST":
        save = partial(canned.update_reply, reply_id=reply_id, title=form.title.data, body=form.body.data)
        outcome = await submit(form, partial(save, actor=user), Invalid)
        if not outcome.refused:
            return redirect(url_for("canned.page"), 303)
        status = outcome.status
    context = {"reply": reply, "form": form, "placeholders": canned.PLACEHOLDERS}
    return await page_or_partial("canned/edit.html", "canned/edit.html", status, **context)


@bp.post("/canned/<int:reply_id>/delete")
@staff_required
async def delete(reply_id: int) -> Response:
    """Delete a canned reply."""
    form = await CsrfForm.from_request()
    if not form.validate():
        return await _manage_page(await current_user(), status=400)
    await canned.delete_reply(reply_id=reply_id, actor=await current_user())
    return redirect(url_for("canned.page"), 303)


@bp.get("/tickets/<human_id>/canned")
@staff_required
async def picker(human_id: str) -> Response:
    """The picker's list of replies for this ticket."""
    user = await current_user()
    await tickets.load(human_id=human_id, actor=user, agents_only="use canned replies")
    replies = await canned.list_replies(actor=user)
    context = {"human_id": human_id, "replies": replies}
    list_partial = "tickets/_canned_list.html"
    return await page_or_partial("tickets/panel.html", list_partial, partial=list_partial, **context)


@bp.get("/tickets/<human_id>/canned/<int:reply_id>")
@staff_required
async def insert(human_id: str, reply_id: int) -> Response:
    """The reply box filled with the reply for this ticket (htmx swaps the box; a browser gets the
    reply form filled)."""
    user = await current_user()
    text = await canned.render_reply(reply_id=reply_id, human_id=human_id, actor=user)
    ticket = await tickets.load(human_id=human_id, actor=user)
    reply = CommentForm(data={"body": text})
    return await page_or_partial(
        "tickets/panel.html", "tickets/_canned_body.html", partial="tickets/_reply.html",
        human_id=human_id, ticket=ticket, reply=reply,
    )  # fmt: skip
