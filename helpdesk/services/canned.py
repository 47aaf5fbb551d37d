"""Canned replies: reply templates with placeholders, shared (admins manage them) or an agent's own."""

import re
from dataclasses import dataclass

from helpdesk.errors import Forbidden, Invalid, NotFound
from helpdesk.models import CannedReply, User, ids_in_range
from helpdesk.services import access, cache, tickets

TITLE_MAX, BODY_MAX = 100, 20000
# What a template may say: {name} becomes the ticket's value; an unknown {name} stays as written.
PLACEHOLDERS = {
    "customer_name": "the reporter's name (or user ID)",
    "ticket_number": "the ticket's number, INC-<n>",
    "ticket_title": "the ticket's title",
    "agent_name": "your name",
    "organisation_name": "the ticket's organisation",
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Reply:
    id: int
    title: str
    body: str
    shared: bool
    editable: bool  # whether the actor may change it: their own, or (admins) a shared one


def _reply(row: CannedReply, actor: User) -> Reply:
    shared = row.owner_id is None
    return Reply(row.id, row.title, row.body, shared, row.owner_id == actor.id or (shared and actor.admin))


async def list_replies(*, actor: User) -> list[Reply]:
    """The shared replies and the actor's own, by title; the tool does not exist for customers."""
    access.staff_only(actor, "No such page.")
    rows = await CannedReply.filter(owner_id__isnull=True).order_by("title", "id")
    rows += await CannedReply.filter(owner_id=actor.id).order_by("title", "id")
    return [_reply(row, actor) for row in rows]


def _checked(title: str, body: str) -> tuple[str, str]:
    title, errors = (title or "").strip(), {}
    if not title or len(title) > TITLE_MAX:
        errors["title"] = [f"must be 1 to {TITLE_MAX} characters"]
    if not (body or "").strip() or len(body) > BODY_MAX:
        errors["body"] = [f"must be 1 to {BODY_MAX} characters"]
    if errors:
        raise Invalid("The canned reply needs a title and a text.", errors)
    return title, body


async def create_reply(*, title: str, body: str, shared: bool, actor: User) -> Reply:
    """A new reply: the agent's own, or (admins only) shared with every agent."""
    access.staff_only(actor, "No such page.")
    if shared and not actor.admin:
        raise Forbidden("Only admins add shared canned replies.")
    title, body = _checked(title, body)
    row = await CannedReply.create(title=title, body=body, owner_id=None if shared else actor.id)
    return _reply(row, actor)


async def _editable(reply_id: int, actor: User) -> CannedReply:
    """The reply the actor may change: another agent's own reads as missing, a shared one is admins'."""
    access.staff_only(actor, "No such page.")
    row = await CannedReply.get_or_none(id=reply_id) if ids_in_range(reply_id) else None
    if row is None or (row.owner_id is not None and row.owner_id != actor.id):
        raise NotFound(f"No canned reply {reply_id}.")
    if row.owner_id is None and not actor.admin:
        raise Forbidden("Only admins change shared canned replies.")
    return row


async def get_reply(*, reply_id: int, actor: User) -> Reply:
    """One reply the actor may change (for its edit form)."""
    return _reply(await _editable(reply_id, actor), actor)


async def update_reply(*, reply_id: int, title: str, body: str, actor: User) -> Reply:
    """Change a reply's title and text."""
    row = await _editable(reply_id, actor)
    row.title, row.body = _checked(title, body)
    await row.save(update_fields=["title", "body", "updated_at"])
    return _reply(row, actor)


async def delete_reply(*, reply_id: int, actor: User) -> None:
    """Delete a reply."""
    await (await _editable(reply_id, actor)).delete()


async def render_reply(*, reply_id: int, human_id: str, actor: User) -> str:
    """The reply's text for this ticket, its placeholders filled in; unknown ones stay as written."""
    ticket = await tickets.load(human_id=human_id, actor=actor, agents_only="use canned replies")
    row = await CannedReply.get_or_none(id=reply_id) if ids_in_range(reply_id) else None
    if row is None or row.owner_id not in (None, actor.id):
        raise NotFound(f"No canned reply {reply_id}.")
    reporter = await User.get_or_none(human_id=ticket.reporter_hid) if ticket.reporter_hid else None
    organisation = await cache.organisations.one(ticket.organisation_hid)
    values = {
        "customer_name": reporter.name if reporter else ticket.reporter_hid,
        "ticket_number": ticket.human_id,
        "ticket_title": ticket.title,
        "agent_name": actor.name,
        "organisation_name": organisation.name if organisation else ticket.organisation_hid,
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), row.body)
