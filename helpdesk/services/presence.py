"""Who else is on a ticket, and the reply each person is writing: the live ticket page's state.

Presence: each open ticket page posts a heartbeat every few seconds (typing or not); a person whose
last heartbeat is older than EXPIRES_SECONDS has left. A heartbeat that changes what others see (a
person arrives, starts or stops typing, leaves) writes a `presence.changed` feed row, which only
agents' streams carry; other heartbeats write nothing to the feed.

Drafts: the reply being written, per person and ticket, saved as they type and cleared when the
comment is posted (services/tickets.post_comment), so a reload, a refusal or a second device
loses nothing.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from helpdesk.models import ReplyDraft, Ticket, TicketPresence, User
from helpdesk.services import feed, sql, tickets

EXPIRES_SECONDS = 30  # a page posts a heartbeat every 10 s: three missed, it has gone
PRUNE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Draft:
    """A reply being written: what the reply form shows again."""

    body: str
    internal: bool


@dataclass(frozen=True)
class Viewer:
    """Someone else with the ticket open, and whether they are writing a reply."""

    name: str
    typing: bool


def now() -> datetime:
    return datetime.now(UTC)


async def heartbeat(*, human_id: str, actor: User, typing: bool = False) -> list[Viewer]:
    """Record that the actor has the ticket open (and is typing or not); who else has it open.
    Tells agents' pages when that changed what they show."""
    ticket = await tickets.load(human_id=human_id, actor=actor)
    moment = now()
    row = await TicketPresence.get_or_none(ticket_id=ticket.id, user_id=actor.id)
    was = row is not None and row.seen_at >= moment - timedelta(seconds=EXPIRES_SECONDS)
    news = not was or row.typing != typing
    async with in_transaction():
        if row is None:
            await _insert(ticket, actor, typing, moment)
        else:
            await TicketPresence.filter(id=row.id).update(typing=typing, seen_at=moment)
        if news:
            await _publish(ticket, actor)
    return await viewers(ticket=ticket, actor=actor)


async def _insert(ticket: Ticket, actor: User, typing: bool, moment: datetime) -> None:
    """A first heartbeat; one from the same person's other tab at the same moment updates instead."""
    try:
        async with in_transaction():
            await TicketPresence.create(ticket_id=ticket.id, user_id=actor.id, typing=typing, seen_at=moment)
    except IntegrityError:
        await TicketPresence.filter(ticket_id=ticket.id, user_id=actor.id).update(
            typing=typing, seen_at=moment
        )


async def leave(*, human_id: str, actor: User) -> None:
    """The actor closed the ticket page: others see them gone at once, not after EXPIRES_SECONDS."""
    ticket = await tickets.load(human_id=human_id, actor=actor)
    async with in_transaction():
        if await TicketPresence.filter(ticket_id=ticket.id, user_id=actor.id).delete():
            await _publish(ticket, actor)


async def _publish(ticket: Ticket, actor: User) -> None:
    await feed.publish(
        "presence.changed", ticket_id=ticket.id, organisation_hid=ticket.organisation_hid, actor=actor
    )


async def viewers(*, ticket: Ticket, actor: User) -> list[Viewer]:
    """Who else has the ticket open now, by name (agents only: customers are shown no one)."""
    if not actor.is_staff:
        return []
    since = now() - timedelta(seconds=EXPIRES_SECONDS)
    rows = (
        await TicketPresence.filter(ticket_id=ticket.id, seen_at__gte=since)
        .exclude(user_id=actor.id)
        .select_related("user")
        .order_by("user__name")
    )
    return [Viewer(row.user.name, row.typing) for row in rows]


async def who_is_here(*, human_id: str, actor: User) -> list[Viewer]:
    """Who else has the ticket open (the presence panel's read), for a ticket the actor may see."""
    ticket = await tickets.load(human_id=human_id, actor=actor)
    return await viewers(ticket=ticket, actor=actor)


async def prune(*, moment: datetime | None = None) -> int:
    """Forget presence rows of people long gone (their rows are ignored after EXPIRES_SECONDS anyway)."""
    return await TicketPresence.filter(seen_at__lt=(moment or now()) - PRUNE_AFTER).delete()


# --- drafts ------------------------------------------------------------------------------------


async def save_draft(*, human_id: str, actor: User, body: str, internal: bool = False) -> None:
    """Keep the reply the actor is writing on the ticket; an empty one is no draft."""
    ticket = await tickets.load(human_id=human_id, actor=actor)
    internal = internal and actor.is_staff
    if not body.strip():
        await ReplyDraft.filter(ticket_id=ticket.id, user_id=actor.id).delete()
        return
    values = {"body": body, "internal": internal, "updated_at": now()}
    if await ReplyDraft.filter(ticket_id=ticket.id, user_id=actor.id).update(**values):
        return
    try:
        async with in_transaction():
            await ReplyDraft.create(ticket_id=ticket.id, user_id=actor.id, **values)
    except IntegrityError:  # the same person's other device saved first
        await ReplyDraft.filter(ticket_id=ticket.id, user_id=actor.id).update(**values)


async def draft_of(*, ticket: Ticket, actor: User) -> Draft | None:
    """The actor's draft reply on a ticket they may see (tickets.load gave it), or None. A plain
    statement: every ticket page reads it, and the ORM's query building cost more than the read."""
    rows = await sql.select_rows(
        "SELECT body, internal FROM reply_draft WHERE ticket_id = ? AND user_id = ?", ticket.id, actor.id
    )
    return Draft(rows[0][0], bool(rows[0][1])) if rows else None
