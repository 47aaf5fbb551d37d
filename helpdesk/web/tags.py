"""Tags on the ticket page (the tags panel: add with autocomplete, remove) and their suggestions."""

from typing import Any

from quart import Blueprint, Response, request, url_for
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from helpdesk.errors import Invalid
from helpdesk.models import Ticket, User
from helpdesk.services import tags, tickets
from helpdesk.web.auth import current_user, staff_required
from helpdesk.web.forms import CsrfForm, form_status, one_line
from helpdesk.web.pages import changed, page_or_partial

bp = Blueprint("tags", __name__)
PARTIAL = "tickets/_tags.html"
SUGGESTIONS = "tickets/_tag_suggestions.html"


class TagForm(CsrfForm):
    tag = StringField("Tag", [DataRequired(), Length(max=200)])


async def tags_context(
    user: User, ticket: Ticket, form: TagForm | None = None, message: str = "", names: list[str] | None = None
) -> dict[str, Any]:
    """The tags panel: the ticket's tags (the service refuses customers), a form to add one.
    `names`: an agent's ticket page read them with the ticket (tickets.load_detail)."""
    return {
        "human_id": ticket.human_id,
        "names": names
        if names is not None and user.is_staff
        else await tags.tags_of(ticket=ticket, actor=user),
        "form": form or TagForm(),
        "message": message,
    }


async def _panel(human_id: str, status: int = 200, **options: Any) -> Response:
    user = await current_user()
    ticket = await tickets.load(human_id=human_id, actor=user)
    context = {"tags": await tags_context(user, ticket, **options)}
    return await page_or_partial(
        "tickets/panel.html", PARTIAL, status, partial=PARTIAL, human_id=human_id, **context
    )


async def _changed(human_id: str) -> Response:
    user = await current_user()
    ticket = await tickets.load(human_id=human_id, actor=user)
    location = url_for("tickets.show", human_id=human_id)
    return await changed("ticket-changed", location, PARTIAL, tags=await tags_context(user, ticket))


@bp.get("/tickets/<human_id>/tags")
@staff_required
async def panel(human_id: str) -> Response:
    """The tags panel afresh."""
    return await _panel(human_id)


@bp.post("/tickets/<human_id>/tags")
@staff_required
async def add(human_id: str) -> Response:
    """Add the typed tag; a bad one comes back on the form (422)."""
    form = await TagForm.from_request()
    if not form.validate():
        return await _panel(human_id, form_status(form), form=form, message=one_line(form))
    try:
        await tags.add_tag(ticket_id=human_id, name=form.tag.data, actor=await current_user())
    except Invalid as error:
        return await _panel(human_id, error.status, form=form, message=error.message)
    return await _changed(human_id)


@bp.post("/tickets/<human_id>/tags/remove")
@staff_required
async def remove(human_id: str) -> Response:
    """Take the named tag off the ticket."""
    form = await TagForm.from_request()
    if not form.validate():
        return await _panel(human_id, form_status(form), message=one_line(form))
    try:
        await tags.remove_tag(ticket_id=human_id, name=form.tag.data, actor=await current_user())
    except Invalid as error:
        return await _panel(human_id, error.status, message=error.message)
    return await _changed(human_id)


@bp.get("/tags/suggest")
@staff_required
async def suggest() -> Response:
    """The tag box's suggestions: the tags starting with what is typed."""
    found = await tags.suggest(prefix=request.args.get("tag", "")[:200], actor=await current_user())
    return await page_or_partial(SUGGESTIONS, SUGGESTIONS, found=found)
