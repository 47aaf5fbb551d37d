"""Linked tickets on the ticket page (agents): link and unlink related tickets, and merge a
duplicate into another ticket after a confirmation page."""

from typing import Any

from quart import Blueprint, Response, redirect, url_for
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from helpdesk.errors import Invalid
from helpdesk.models import Ticket, User
from helpdesk.services import ticket_links, tickets
from helpdesk.web.auth import current_user, staff_required
from helpdesk.web.forms import CsrfForm, form_status, one_line
from helpdesk.web.pages import changed, is_htmx, page_or_partial

bp = Blueprint("ticket_links", __name__, url_prefix="/tickets")
PARTIAL = "tickets/_links.html"


class LinkForm(CsrfForm):
    other = StringField("Ticket", [DataRequired(), Length(max=20)])


class MergeForm(CsrfForm):
    into = StringField("Merge into", [DataRequired(), Length(max=20)])
    confirmed = HiddenField("Confirmed")


async def links_context(
    user: User,
    ticket: Ticket,
    form: LinkForm | None = None,
    merge: MergeForm | None = None,
    message: str = "",
    linked: list | None = None,
) -> dict[str, Any]:
    """The links panel: the linked tickets (the service refuses customers), the link and merge forms.
    `linked`: [] when the ticket page read with the ticket that it has none (tickets.load_detail)."""
    return {
        "human_id": ticket.human_id,
        "linked": linked
        if linked is not None and user.is_staff
        else await ticket_links.links_of(ticket=ticket, actor=user),
        "form": form or LinkForm(),
        "merge": merge or MergeForm(),
        "message": message,
    }


async def _panel(human_id: str, status: int = 200, **options: Any) -> Response:
    user = await current_user()
    ticket = await tickets.load(human_id=human_id, actor=user)
    context = {"links": await links_context(user, ticket, **options)}
    return await page_or_partial(
        "tickets/panel.html", PARTIAL, status, partial=PARTIAL, human_id=human_id, **context
    )


@bp.get("/<human_id>/links")
@staff_required
async def panel(human_id: str) -> Response:
    """The links panel afresh."""
    return await _panel(human_id)


@bp.post("/<human_id>/links/<any(add, remove):action>")
@staff_required
async def link(human_id: str, action: str) -> Response:
    """Link (or unlink) the named ticket, both ways; a bad one comes back on the form (422)."""
    form = await LinkForm.from_request()
    if not form.validate():
        return await _panel(human_id, form_status(form), form=form, message=one_line(form))
    call = ticket_links.link_tickets if action == "add" else ticket_links.unlink_tickets
    try:
        await call(human_id=human_id, other=form.other.data, actor=await current_user())
    except Invalid as error:
        return await _panel(human_id, error.status, form=form, message=error.message)
    user = await current_user()
    ticket = await tickets.load(human_id=human_id, actor=user)
    location = url_for("tickets.show", human_id=human_id)
    return await changed("ticket-changed", location, PARTIAL, links=await links_context(user, ticket))


@bp.post("/<human_id>/merge")
@staff_required
async def merge(human_id: str) -> Response:
    """First a page that asks (what moves, what closes), then the merge; the target's page after."""
    form = await MergeForm.from_request()
    if not form.validate():
        return await _panel(human_id, form_status(form), merge=form, message=one_line(form))
    user = await current_user()
    into = form.into.data.strip().upper()
    if form.confirmed.data != "yes":
        source = await tickets.load(human_id=human_id, actor=user, agents_only="merge tickets")
        target = await tickets.load(human_id=into, actor=user) if Ticket.parse_human_id(into) else None
        return await page_or_partial(
            "tickets/merge.html", "tickets/merge.html", source=source, target=target, into=into, form=form
        )
    try:
        target = await ticket_links.merge_ticket(human_id=human_id, into=into, actor=user)
    except Invalid as error:
        return await _panel(human_id, error.status, merge=form, message=error.message)
    location = url_for("tickets.show", human_id=target.human_id)
    response = Response("", headers={"HX-Redirect": location}) if is_htmx() else redirect(location, 303)
    response.vary.add("HX-Request")
    return response
