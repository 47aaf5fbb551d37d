"""Agents accept or dismiss what a contact proposed from their link, on the ticket's contacts panel."""

from quart import Blueprint, Response

from helpdesk.errors import Conflict
from helpdesk.services import ticket_contacts
from helpdesk.web.auth import current_user, staff_required
from helpdesk.web.forms import CsrfForm
from helpdesk.web.tickets import panel_changed, show_panel

bp = Blueprint("contact_proposals", __name__, url_prefix="/tickets")


@bp.post("/<human_id>/contacts/proposals/<int:proposal_id>/<any(accept, dismiss):decision>")
@staff_required
async def decide(human_id: str, proposal_id: int, decision: str) -> Response:
    """Accept (the agent made the change) or dismiss one proposal; the contacts panel comes back."""
    user, form = await current_user(), await CsrfForm.from_request()
    message = " ".join(form.csrf_token.errors) if not form.validate() else ""
    if not message:
        try:
            await ticket_contacts.decide_proposal(
                human_id=human_id, proposal_id=proposal_id, accept=decision == "accept", actor=user
            )
        except Conflict as error:
            message = error.message
    if message:
        return await show_panel(human_id, "contacts", 400 if form.errors else 409, message=message)
    return await panel_changed(human_id, "contacts", message=f"Proposal {decision}ed.", ok=True)
