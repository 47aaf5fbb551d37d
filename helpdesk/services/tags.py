"""Tags on tickets: agents add and remove them, filter queues by them; customers never see them."""

import re

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from helpdesk.errors import Invalid
from helpdesk.models import Tag, Ticket, TicketTag, User
from helpdesk.services import access, history, sql, tickets

FIELD = "tag"  # the history field of an added (new value) or removed (old value) tag
MAX_LENGTH = 40
MAX_PER_TICKET = 30
SUGGESTIONS = 10
_ALLOWED = re.compile(r"[\w.+#-]+")
_SPACES = re.compile(r"\s+")
_TAGS_OF = (  # the tags of some tickets ({marks}: a placeholder each)
    "SELECT tt.ticket_id, t.name FROM ticket_tag tt JOIN tag t ON t.id = tt.tag_id"
    " WHERE tt.ticket_id IN ({marks})"
)


def normalise(name: str) -> str:
    """One spelling per tag: lower case, trimmed, inner spaces as one hyphen; Invalid otherwise."""
    tag = _SPACES.sub("-", (name or "").strip()).casefold()
    if not tag:
        raise Invalid("The tag is empty.", {FIELD: ["must not be empty"]})
    if len(tag) > MAX_LENGTH:
        raise Invalid("The tag is too long.", {FIELD: [f"must be at most {MAX_LENGTH} characters"]})
    if not _ALLOWED.fullmatch(tag):
        raise Invalid("The tag has characters tags cannot.", {FIELD: ["letters, digits and - _ . + # only"]})
    return tag


def filter_name(name: str) -> str:
    """The tag a filter names, as stored; a name no tag could have stays as given (matches nothing)."""
    try:
        return normalise(name)
    except Invalid:
        return name


def _human_id(ticket_id: int | str) -> str:
    return ticket_id if isinstance(ticket_id, str) else Ticket(id=ticket_id).human_id


async def _ticket(ticket_id: int | str, actor: User) -> Ticket:
    """The ticket (`ticket_id`: its id or INC-<n>) an agent tags; customers are refused."""
    return await tickets.load(human_id=_human_id(ticket_id), actor=actor, agents_only="tag tickets")


async def add_tag(*, ticket_id: int | str, name: str, actor: User) -> bool:
    """Put a tag on a ticket (agents only), recorded in its history; False when it was there."""
    ticket, tag_name = await _ticket(ticket_id, actor), normalise(name)
    async with in_transaction():
        if await TicketTag.filter(ticket_id=ticket.id).count() >= MAX_PER_TICKET:
            raise Invalid("The ticket has too many tags.", {FIELD: [f"at most {MAX_PER_TICKET} a ticket"]})
        tag, _ = await Tag.get_or_create(name=tag_name)
        if await TicketTag.exists(ticket_id=ticket.id, tag_id=tag.id):
            return False
        try:
            await TicketTag.create(ticket_id=ticket.id, tag_id=tag.id)
        except IntegrityError:  # another request tagged it just now
            return False
        await history.record_change(ticket=ticket, actor=actor, field=FIELD, new=tag_name)
    return True


async def remove_tag(*, ticket_id: int | str, name: str, actor: User) -> bool:
    """Take a tag off a ticket (agents only), recorded in its history; False when it was not there."""
    ticket, tag_name = await _ticket(ticket_id, actor), normalise(name)
    async with in_transaction():
        tag = await Tag.get_or_none(name=tag_name)
        removed = await TicketTag.filter(ticket_id=ticket.id, tag_id=tag.id).delete() if tag else 0
        if removed:
            await history.record_change(ticket=ticket, actor=actor, field=FIELD, old=tag_name)
    return bool(removed)


async def set_tags(*, ticket_id: int | str, names: list[str], actor: User) -> list[str]:
    """Make the ticket's tags exactly `names` (the API's PATCH), each change in the history."""
    wanted = list(dict.fromkeys(normalise(name) for name in names))
    if len(wanted) > MAX_PER_TICKET:
        raise Invalid("Too many tags.", {"tags": [f"at most {MAX_PER_TICKET} a ticket"]})
    ticket = await _ticket(ticket_id, actor)
    present = (await tags_for(ticket_ids=[ticket.id], actor=actor)).get(ticket.id, [])
    for name in present:
        if name not in wanted:
            await remove_tag(ticket_id=ticket.human_id, name=name, actor=actor)
    for name in wanted:
        if name not in present:
            await add_tag(ticket_id=ticket.human_id, name=name, actor=actor)
    return sorted(wanted)


async def tags_of(*, ticket: Ticket, actor: User) -> list[str]:
    """A ticket's tags in name order; they do not exist for customers."""
    access.authorise(ticket, actor, staff_only=True)
    return (await tags_for(ticket_ids=[ticket.id], actor=actor)).get(ticket.id, [])


async def tags_for(*, ticket_ids: list[int], actor: User) -> dict[int, list[str]]:
    """The tags of each of the tickets (a page of a queue or the API) in one query; none for customers."""
    if not actor.is_staff or not ticket_ids:
        return {}
    marks = ", ".join("?" * len(ticket_ids))
    rows = await sql.select_rows(_TAGS_OF.format(marks=marks), *ticket_ids)
    found: dict[int, list[str]] = {}
    for ticket_id, name in sorted(rows, key=lambda row: row[1]):  # by code point on both databases
        found.setdefault(ticket_id, []).append(name)
    return found


async def suggest(*, prefix: str, actor: User) -> list[str]:
    """The tags starting with what an agent typed, for the autocomplete; missing for customers."""
    access.staff_only(actor, "No such page.")
    text = _SPACES.sub("-", prefix.strip()).casefold()[:MAX_LENGTH]
    if not text:
        return []
    found = Tag.filter(name__startswith=text).order_by("name").limit(SUGGESTIONS)
    return list(await found.values_list("name", flat=True))
