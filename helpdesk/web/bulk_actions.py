"""Bulk actions on a queue's selected rows: one form, one summary; a plain form post without JavaScript."""

from typing import Any

from quart import Blueprint, Response, redirect, request, session

from helpdesk.errors import Invalid
from helpdesk.models import User
from helpdesk.services import bulk_actions, catalog, users
from helpdesk.web.auth import current_user, safe_next, staff_required
from helpdesk.web.forms import BULK_ACTIONS, BulkForm, classification_choices, one_line, submit, token_form
from helpdesk.web.pages import is_htmx, page_or_partial

bp = Blueprint("bulk_actions", __name__, url_prefix="/queues")
PARTIAL = "queues/_bulk.html"
SUMMARY = "bulk_summary"  # session key: the summary a plain browser reads once back on the queue
MAX_IDS = 2 * bulk_actions.MAX_TICKETS  # ids read from one form; the service allows MAX_TICKETS


@bp.app_template_global()
def new_bulk_form() -> dict[str, Any]:
    """The queue page's bulk form, empty and coming back here, with the summary of the last bulk
    action a plain browser posted (shown once). Its values, not a BulkForm: the page shows it
    empty on every load, and building the WTForms form was a tenth of the page's time."""
    done = session.pop(SUMMARY, None) or {}
    return {
        "csrf": token_form().csrf_token(),
        "actions": BULK_ACTIONS,
        "values": {"next": request.full_path.rstrip("?")},
        "message": done.get("message", ""),
        "ok": done.get("ok", False),
    }


async def bulk_context(user: User, form: BulkForm, message: str = "", ok: bool = False) -> dict[str, Any]:
    """The bulk form as submitted, with its choices; it sits on every agent's queue page."""
    return {
        "csrf": form.csrf_token(),
        "actions": BULK_ACTIONS,
        "values": form.data,
        "message": message,
        "ok": ok,
        "choices": classification_choices(await catalog.list_states()),
        "groups": await catalog.list_groups(actor=user),
        "agents": await users.list_agents(actor=user),
    }


@bp.post("/bulk")
@staff_required
async def apply() -> Response:
    """Apply the action to each selected ticket and say what became of each, in one line."""
    user, form = await current_user(), await BulkForm.from_request()
    selected = (await request.form).getlist("ticket")[:MAX_IDS]
    outcome = await submit(
        form,
        lambda: bulk_actions.apply(
            action=form.action.data, human_ids=selected, value=form.value(), actor=user
        ),
        Invalid,
    )
    if outcome.refused:
        context = await bulk_context(user, form, message=one_line(form))
        return await page_or_partial(
            "queues/bulk.html", PARTIAL, outcome.status, bulk=context, selected=selected
        )
    done = {"message": outcome.result.summary(), "ok": not outcome.result.refused}
    if not is_htmx():
        session[SUMMARY] = done
        return redirect(safe_next(form.next.data), 303)
    context = await bulk_context(user, BulkForm(data={"action": form.action.data, "next": form.next.data}))
    response = await page_or_partial(PARTIAL, PARTIAL, bulk=context | done)
    response.headers["HX-Trigger"] = '{"queue-changed": {"target": "body"}}'
    return response
