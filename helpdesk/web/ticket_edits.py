"""The ticket page's tools: editing it in place (its header turns into a form), deleting it after
asking (admins), assigning it to oneself, and the whole thread ("Show older")."""

from typing import Any

from quart import Blueprint, Response, redirect, url_for

from helpdesk.errors import Conflict, Invalid
from helpdesk.models import Ticket
from helpdesk.services import ticket_edits, tickets
from helpdesk.web.auth import admin_required, current_user, login_required, staff_required
from helpdesk.web.forms import TicketEditForm, check_csrf, submit, token_form
from helpdesk.web.pages import is_htmx, page_or_partial
from helpdesk.web.tickets import (
    FIELDS_STALE,
    events,
    on_panel_page,
    panel_changed,
    thread_context,
    visible_ticket,
)

bp = Blueprint("ticket_edits", __name__, url_prefix="/tickets")
EDIT = "tickets/_edit.html"


def edit_form_for(ticket: Ticket) -> TicketEditForm:
    values = {"version": ticket.version, "title": ticket.title, "description": ticket.description}
    values |= {"organisation": ticket.organisation_hid, "reporter": ticket.reporter_hid}
    return TicketEditForm(data=values)


@bp.get("/<human_id>/edit")
@staff_required
async def edit(human_id: str) -> Response:
    """The header as a form (htmx swaps it in place; without JavaScript, a page of its own)."""
    ticket = await tickets.load(human_id=human_id, actor=await current_user(), agents_only="edit tickets")
    return await on_panel_page(human_id, EDIT, edit={"ticket": ticket, "form": edit_form_for(ticket)})


@bp.post("/<human_id>/edit")
@staff_required
async def save(human_id: str) -> Response:
    """Save the rewrite; field errors, an unknown party or a stale version come back on the form."""
    user, form = await current_user(), await TicketEditForm.from_request()
    edit = ticket_edits.TicketEdit(
        title=form.title.data or "", description=form.description.data or "",
        organisation=form.organisation.data or "", reporter=form.reporter.data or "",
        unknown_ok=bool(form.unknown_ok.data),
    )  # fmt: skip
    outcome = await submit(
        form,
        lambda: ticket_edits.edit_ticket(
            human_id=human_id, edit=edit, actor=user, expected_version=form.version.data
        ),
        Conflict,
        Invalid,
    )
    if outcome.refused:
        ticket = await visible_ticket(human_id)
        return await on_panel_page(human_id, EDIT, outcome.status, edit={"ticket": ticket, "form": form})
    return await panel_changed(human_id, "header")


def ask_context(ticket: Ticket) -> dict[str, Any]:
    return {
        "question": f"Delete {ticket.human_id}?",
        "explain": f"“{ticket.title}” leaves every queue and search; its history stays for audit.",
        "button": "Delete ticket",
        "action": url_for("ticket_edits.delete", human_id=ticket.human_id),
        "back": url_for("tickets.show", human_id=ticket.human_id),
        "form": token_form(),
    }


@bp.get("/<human_id>/delete")
@admin_required
async def ask_delete(human_id: str) -> Response:
    """Ask before deleting, on a page of its own (with or without JavaScript)."""
    ticket = await tickets.load(human_id=human_id, actor=await current_user(), agents_only="delete tickets")
    return await page_or_partial("tickets/ask.html", "tickets/ask.html", **ask_context(ticket))


@bp.post("/<human_id>/delete")
@admin_required
async def delete(human_id: str) -> Response:
    """Delete (soft) once asked; the desk goes back to the queue."""
    await check_csrf()
    await ticket_edits.delete_ticket(human_id=human_id, actor=await current_user())
    return redirect(url_for("queues.home"), 303)


@bp.post("/<human_id>/assign-to-me")
@staff_required
async def assign_to_me(human_id: str) -> Response:
    """Take the ticket; the header, fields and history panels re-read themselves."""
    await check_csrf()
    await ticket_edits.assign_to_me(human_id=human_id, actor=await current_user())
    response = await panel_changed(human_id, "header")
    if is_htmx():
        response.headers["HX-Trigger"] = events("ticket-changed", FIELDS_STALE)
    return response


@bp.get("/<human_id>/thread/all")
@login_required
async def whole_thread(human_id: str) -> Response:
    """The whole thread, older comments too ("Show older"); customers still never see notes."""
    user = await current_user()
    ticket = await visible_ticket(human_id)
    thread = await thread_context(user, ticket) | {"everything": True}
    return await on_panel_page(human_id, "tickets/_thread.html", thread=thread)
