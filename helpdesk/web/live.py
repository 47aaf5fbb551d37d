"""The live ticket page's own requests: its heartbeat (who else is here, who is typing), leaving,
and the reply draft saved as it is typed (services/presence.py)."""

from quart import Blueprint, Response

from helpdesk.services import presence
from helpdesk.web.auth import current_user, login_required
from helpdesk.web.forms import CsrfForm, DraftForm, PresenceForm, token_form
from helpdesk.web.pages import page_or_partial

bp = Blueprint("live", __name__, url_prefix="/tickets")
PARTIAL = "tickets/_presence.html"


def presence_context(human_id: str, viewers: list[presence.Viewer] | None) -> dict:
    """The presence panel: who else is here (None: not asked yet), and the token its heartbeat posts."""
    return {"presence": {"human_id": human_id, "viewers": viewers, "form": token_form()}}


@bp.get("/<human_id>/presence")
@login_required
async def who_is_here(human_id: str) -> Response:
    """Who else has the ticket open (agents see names; customers no one), refreshed on `presence.changed`."""
    viewers = await presence.who_is_here(human_id=human_id, actor=await current_user())
    return await page_or_partial(PARTIAL, PARTIAL, **presence_context(human_id, viewers))


@bp.post("/<human_id>/presence")
@login_required
async def heartbeat(human_id: str) -> Response:
    """The page is open (and its reply is being typed, or not): who else is here, fresh."""
    form = await PresenceForm.from_request()
    if not form.validate():
        return Response(" ".join(form.csrf_token.errors), 400)
    viewers = await presence.heartbeat(human_id=human_id, actor=await current_user(), typing=form.typing.data)
    return await page_or_partial(PARTIAL, PARTIAL, **presence_context(human_id, viewers))


@bp.post("/<human_id>/presence/leave")
@login_required
async def leave(human_id: str) -> Response:
    """The page closed (a beacon): the others see this person gone at once."""
    if not (await CsrfForm.from_request()).validate():
        return Response("", 400)
    await presence.leave(human_id=human_id, actor=await current_user())
    return Response("", 204)


@bp.post("/<human_id>/draft")
@login_required
async def save_draft(human_id: str) -> Response:
    """Keep the reply being written (an empty one clears it): 204, or 422 when it is too long."""
    form = await DraftForm.from_request()
    if not form.validate():
        return Response(" ".join(sum(form.errors.values(), [])), 400 if "csrf_token" in form.errors else 422)
    await presence.save_draft(
        human_id=human_id, actor=await current_user(), body=form.body.data or "",
        internal=form.visibility.data == "internal",
    )  # fmt: skip
    return Response("", 204)
