"""Links between tickets: related tickets, linked both ways, and merging a duplicate into another
ticket (its comments and contacts move, it is closed with a link to the target)."""

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from helpdesk.errors import Invalid, NotFound
from helpdesk.models import Attachment, Comment, State, StateKind, Ticket, TicketAttribute, TicketLink, User
from helpdesk.models.tickets import CONTACT
from helpdesk.services import access, history, sla, sql, tickets
from helpdesk.services.values import SINGLE_KEYS, ContactKey

RELATED, MERGED_INTO, MERGED_FROM = "related", "merged_into", "merged_from"
LINKED, UNLINKED, MERGED, MERGED_IN = "link.added", "link.removed", "merged.into", "merged.from"
LABELS = {RELATED: "Related", MERGED_INTO: "Merged into", MERGED_FROM: "Merged from"}


@dataclass(frozen=True)
class LinkedTicket:
    human_id: str
    title: str
    kind: str

    @property
    def label(self) -> str:
        return LABELS.get(self.kind, self.kind)


async def _other(human_id: str, into: str, actor: User, field: str) -> tuple[Ticket, Ticket]:
    """The ticket (agents only) and the other one it names; 422 for itself, a missing or deleted one."""
    ticket = await tickets.load(human_id=human_id, actor=actor, agents_only="link tickets")
    wanted = (into or "").strip().upper()
    if Ticket.parse_human_id(wanted) == ticket.id:
        raise Invalid(f"{ticket.human_id} cannot be linked to itself.", {field: ["is this ticket"]})
    try:
        other = await tickets.load(human_id=wanted, actor=actor)
    except NotFound as error:
        raise Invalid(f"No ticket {into or '(none)'} to use.", {field: ["names no open ticket"]}) from error
    return ticket, other


async def _link(ticket: Ticket, other: Ticket, kind: str, back: str, actor: User) -> None:
    await TicketLink.filter(ticket_id__in=[ticket.id, other.id], other_id__in=[ticket.id, other.id]).delete()
    await TicketLink.create(ticket_id=ticket.id, other_id=other.id, kind=kind, created_by=actor)
    await TicketLink.create(ticket_id=other.id, other_id=ticket.id, kind=back, created_by=actor)


async def link_tickets(*, human_id: str, other: str, actor: User) -> bool:
    """Link two tickets as related, both ways, each history saying so; False when they were."""
    ticket, linked = await _other(human_id, other, actor, "other")
    if await TicketLink.exists(ticket_id=ticket.id, other_id=linked.id):
        return False
    async with in_transaction():
        await _link(ticket, linked, RELATED, RELATED, actor)
        await history.record_change(ticket=ticket, actor=actor, field=LINKED, new=linked.human_id)
        await history.record_change(ticket=linked, actor=actor, field=LINKED, new=ticket.human_id)
    return True


async def unlink_tickets(*, human_id: str, other: str, actor: User) -> bool:
    """Remove a related link, both ways, each history saying so."""
    ticket, linked = await _other(human_id, other, actor, "other")
    async with in_transaction():
        pair = [ticket.id, linked.id]
        removed = await TicketLink.filter(ticket_id__in=pair, other_id__in=pair, kind=RELATED).delete()
        if removed:
            await history.record_change(ticket=ticket, actor=actor, field=UNLINKED, old=linked.human_id)
            await history.record_change(ticket=linked, actor=actor, field=UNLINKED, old=ticket.human_id)
    return bool(removed)


async def links_of(*, ticket: Ticket, actor: User) -> list[LinkedTicket]:
    """The tickets linked to this one (agents only), live ones, in link order: one plain statement
    (every agent's ticket page reads it)."""
    access.authorise(ticket, actor, staff_only=True)
    rows = await sql.select_rows(
        "SELECT l.other_id, t.title, l.kind FROM ticket_link l JOIN ticket t ON t.id = l.other_id"
        " WHERE l.ticket_id = ? AND t.deleted_at IS NULL ORDER BY l.id",
        ticket.id,
    )
    return [LinkedTicket(Ticket(id=other_id).human_id, title, kind) for other_id, title, kind in rows]


async def _closing_state() -> State:
    state = await State.filter(kind=StateKind.STATE, closes=True).order_by("position", "id").first()
    if state is None:
        raise Invalid("The catalogue has no state that resolves a ticket.", {"into": ["cannot close"]})
    return state


async def _move_contacts(source: Ticket, target: Ticket) -> int:
    """The duplicate's contacts the target lacks move to it: a single key the target has not got, an
    email it does not have (a second main email becomes an additional one). Returns how many moved."""
    rows = await TicketAttribute.filter(ticket_id__in=[source.id, target.id], type=CONTACT).order_by("id")
    held = {(row.key, row.value.lower()) for row in rows if row.ticket_id == target.id}
    keys = {key for key, _ in held}
    emails = {value for key, value in held if key in (ContactKey.MAIN_EMAIL, ContactKey.ADDITIONAL_EMAIL)}
    moved = 0
    for row in (row for row in rows if row.ticket_id == source.id):
        key, value = row.key, row.value.lower()
        is_email = key in (ContactKey.MAIN_EMAIL, ContactKey.ADDITIONAL_EMAIL)
        if (is_email and value in emails) or (key in SINGLE_KEYS and key in keys and not is_email):
            continue
        if key == ContactKey.MAIN_EMAIL and key in keys:
            key = ContactKey.ADDITIONAL_EMAIL
        await TicketAttribute.filter(id=row.id).update(ticket_id=target.id, key=key)
        keys.add(key)
        emails.add(value) if is_email else None
        moved += 1
    return moved


async def merge_ticket(*, human_id: str, into: str, actor: User) -> Ticket:
    """Merge a duplicate into another ticket (agents only): its comments and contacts move, it is
    resolved with a link to the target, and both histories say so. Refused (422) into itself, into a
    missing or deleted ticket, or into another organisation's ticket. The files of its comments and
    its description move with them (uploads no comment carries yet stay with their uploader's draft)."""
    source, target = await _other(human_id, into, actor, "into")
    if source.organisation_hid != target.organisation_hid:
        raise Invalid(
            f"{source.human_id} and {target.human_id} belong to different organisations.",
            {"into": ["is another organisation's ticket"]},
        )
    closing = await _closing_state()
    async with in_transaction():
        await Comment.filter(ticket_id=source.id).update(ticket_id=target.id)
        carried = Q(comment_id__isnull=False) | Q(on_ticket=True)
        await Attachment.filter(carried, ticket_id=source.id).update(ticket_id=target.id)
        await _move_contacts(source, target)
        await _link(source, target, MERGED_INTO, MERGED_FROM, actor)
        await history.record_change(ticket=source, actor=actor, field=MERGED, new=target.human_id)
        await history.record_change(ticket=target, actor=actor, field=MERGED_IN, new=source.human_id)
        await sla.recompute(ticket_id=target.id, actor=actor)  # its thread gained the duplicate's replies
    if source.state_id != closing.id:
        changes = tickets.TicketChanges(values={"state": closing.id})
        await tickets.update_ticket(human_id=source.human_id, changes=changes, actor=actor)
    return target
