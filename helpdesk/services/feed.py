"""The change feed: one row per change that other screens and processes must learn of, written in
the same transaction as the change, read by id by every process's dispatcher (services/dispatcher.py).

Ids grow in commit order, so a reader that has seen id N has seen every committed change below N
and can resume from N without a gap:
- SQLite has one writer at a time (write transactions begin IMMEDIATE, helpdesk/compat.py), and
  an id is taken inside the write: the order ids are taken is the order they commit.
- PostgreSQL takes ids from a sequence in the order transactions ask, not the order they commit,
  so an id can become visible after a higher one (a reader past it would lose it for good). A
  trigger (migration 0011) takes a transaction-level advisory lock, then the id: feed writers hold
  it from their id to their commit, one at a time. Each change's transaction therefore writes its
  feed row last (a `publish` is the last statement before commit), which keeps that hold short; the
  cost is that writes that publish commit one after another (README, "The change feed").
A rolled-back change leaves a gap in the ids that nobody waits for.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk.models import FeedEvent, User
from helpdesk.services import sql

CHANNEL = "helpdesk_feed"  # the NOTIFY channel of the migration's trigger
FEED_LOCK = 7_462_001  # the advisory lock key the trigger takes (migrations/0011_change_feed.py)

TICKET_KINDS = {"ticket.created", "ticket.updated", "ticket.deleted", "comment.created"}
STAFF_KINDS = {
    "contacts.changed", "contacts.confirmed", "email.status", "catalogue.changed", "presence.changed",
}  # fmt: skip
# Who may use the desk changed: caches drop what they hold; never sent on a stream.
ACCESS_KINDS = {"user.changed", "user.deactivated", "token.revoked", "session.ended"}
# For the users named in `data["users"]` only (services/notifications.py): their menus refresh.
PERSONAL_KINDS = {"notification.created"}
KINDS = TICKET_KINDS | STAFF_KINDS | ACCESS_KINDS | PERSONAL_KINDS


@dataclass(frozen=True)
class Change:
    """One feed row, as the dispatcher hands it to subscribers."""

    id: int
    kind: str
    ticket_id: int | None
    organisation_hid: str | None
    staff_only: bool
    actor_id: int | None
    actor_label: str
    created_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def visible_to(self, user: User) -> bool:
        """The API's rule: staff see every ticket and note; a customer sees their organisation's
        tickets and public replies only; access changes reach no one's stream."""
        if self.kind in ACCESS_KINDS:
            return False
        if self.kind in PERSONAL_KINDS:
            return user.id in self.data.get("users", ())
        if user.is_staff:
            return True
        return (
            not self.staff_only
            and self.ticket_id is not None
            and user.organisation_hid is not None
            and self.organisation_hid == user.organisation_hid
        )


def row(
    kind: str,
    *,
    ticket_id: int | None = None,
    organisation_hid: str | None = None,
    actor: User | None = None,
    staff_only: bool = False,
    data: dict[str, Any] | None = None,
    moment: datetime | None = None,
) -> dict[str, Any]:
    """The feed_event row of a change, for writers that insert rows themselves (ticket_writes)."""
    if kind not in KINDS:
        raise ValueError(f"unknown feed kind {kind!r}")
    return {
        "kind": kind, "ticket_id": ticket_id, "organisation_hid": organisation_hid,
        "staff_only": staff_only or kind in STAFF_KINDS or kind in ACCESS_KINDS or kind in PERSONAL_KINDS,
        "actor_id": actor.id if actor else None, "actor_label": actor.name if actor else "",
        "data": json.dumps(data or {}, separators=(",", ":")), "created_at": moment or datetime.now(UTC),
    }  # fmt: skip


def ticket_row(
    kind: str, ticket: Any, actor: User | None = None, *, moment: datetime | None = None, **data: Any
) -> dict[str, Any]:
    """The feed row of a change to a ticket (anything with `id` and `organisation_hid`); an
    internal note's (`internal=True` in `data`) reaches staff only."""
    return row(
        kind, ticket_id=ticket.id, organisation_hid=ticket.organisation_hid, actor=actor,
        staff_only=bool(data.get("internal")), data=data, moment=moment,
    )  # fmt: skip


async def publish_ticket(kind: str, ticket: Any, actor: User | None = None, **data: Any) -> None:
    """Write a change to a ticket to the feed (see `ticket_row`), as the transaction's last write."""
    await save(ticket_row(kind, ticket, actor, **data))


async def publish(kind: str, **details: Any) -> None:
    """Write one change to the feed (`row`'s arguments); call it inside the change's transaction,
    as its last write."""
    await save(row(kind, **details))


async def save(columns: dict[str, Any]) -> None:
    """Write a feed row `row` made, inside the change's transaction, as its last write."""
    await FeedEvent.create(**columns)


COLUMNS = "id, kind, ticket_id, organisation_hid, staff_only, actor_id, actor_label, created_at, data"
READ_AFTER = f"SELECT {COLUMNS} FROM feed_event WHERE id > ? ORDER BY id LIMIT ?"  # noqa: S608 - our names


def _change(values: Iterable[Any]) -> Change:
    pk, kind, ticket_id, organisation, staff_only, actor_id, label, created_at, data = values
    return Change(
        pk, kind, ticket_id, organisation, bool(staff_only), actor_id, label or "",
        sql.as_datetime(created_at), json.loads(data or "{}"),
    )  # fmt: skip


async def read_after(after: int, *, limit: int = 500) -> list[Change]:
    """The changes with an id above `after`, in id order (an indexed read by the primary key)."""
    rows = await sql.select_rows(READ_AFTER, after, limit)
    return [_change(values) for values in rows]


# Each end read on its own: SQLite answers MIN or MAX alone from the primary key, but both in one
# SELECT by scanning the whole table (25 ms at 137,000 rows, on every idle poll of the dispatcher,
# the process's one SQLite connection held all along).
BOUNDS = "SELECT (SELECT MIN(id) FROM feed_event), (SELECT MAX(id) FROM feed_event)"


async def bounds() -> tuple[int, int]:
    """The lowest and highest id retained (0, 0 when the feed is empty)."""
    rows = await sql.select_rows(BOUNDS)
    return rows[0][0] or 0, rows[0][1] or 0


async def retained(after: int) -> bool:
    """Whether every change after id `after` is still in the feed, so a client can resume there.

    False when older changes were pruned (or `after` is past the feed: another database)."""
    lowest, highest = await bounds()
    return after <= highest and (lowest == 0 or after >= lowest - 1)


async def prune(*, hours: float, now: datetime | None = None) -> int:
    """Delete changes older than `hours`, but never the newest (its id keeps ids from restarting)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=hours)
    return await FeedEvent.filter(created_at__lt=cutoff, id__lt=await _highest()).delete()


async def _highest() -> int:
    return (await bounds())[1]
