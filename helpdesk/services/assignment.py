"""Assignment rules: which member of a group a new ticket goes to (round robin or least open).

The pick runs inside the create's transaction, under a lock on the group's row (PostgreSQL: FOR NO
KEY UPDATE, which does not wait for tickets being filed under the group; SQLite: the transaction's
write lock), so two creates never read the same cursor or the same counts, and the ticket, its
history row and the moved cursor commit together."""

import asyncio
from dataclasses import dataclass
from typing import Any

from helpdesk.models import AssignmentMode, Group
from helpdesk.services import sql
from helpdesk.services.ticket_writes import Guarded

LABELS = {
    AssignmentMode.MANUAL: "Manual",
    AssignmentMode.ROUND_ROBIN: "Round robin",
    AssignmentMode.LEAST_OPEN: "Least open tickets",
}

# What an admin is told after choosing a mode: "new tickets now go ..."
SAYINGS = {
    AssignmentMode.MANUAL: "unassigned until an agent takes them",
    AssignmentMode.ROUND_ROBIN: "to each available member in turn",
    AssignmentMode.LEAST_OPEN: "to the available member with the fewest open tickets",
}


@dataclass(frozen=True)
class Candidate:
    """An available, active member of the group and the open tickets assigned to them."""

    id: int
    name: str
    open_tickets: int
    capacity: int | None

    @property
    def has_room(self) -> bool:
        return self.capacity is None or self.open_tickets < self.capacity


@dataclass(frozen=True)
class Pick:
    """The agent a rule chose, and the words the history shows as who assigned them."""

    agent_id: int
    agent_name: str
    actor_label: str
    move: Guarded | None = None  # SQLite: the cursor's move, written with the ticket (pick_guarded)


def rule_applies(group: Group | None) -> bool:
    """Whether new tickets of the group are assigned by a rule (read from the cached group; `pick`
    reads the mode again under the lock)."""
    return group is not None and group.assignment != AssignmentMode.MANUAL


_GROUP = "SELECT assignment, last_assigned_id FROM agent_group WHERE id = ?"
_LOCKED_GROUP = _GROUP + " FOR NO KEY UPDATE"
_MOVE = "UPDATE agent_group SET last_assigned_id = ? WHERE id = ?"
_MOVE_GUARDED = _MOVE + " AND assignment = ? AND last_assigned_id IS ?"
# Members who may take a ticket, with the open (not resolved, not deleted) tickets they hold. The
# count is skipped (0) for a round-robin member without a capacity: nothing reads it.
_CANDIDATES = """
SELECT u.id, u.name,
  CASE WHEN ? OR u.capacity IS NOT NULL THEN (
    SELECT count(*) FROM ticket t
    WHERE t.assignee_id = u.id AND t.resolved_at IS NULL AND t.deleted_at IS NULL
  ) ELSE 0 END,
  u.capacity
FROM group_member m JOIN "user" u ON u.id = m.user_id
WHERE m.group_id = ? AND u.active AND u.available AND (u.agent OR u.admin)
ORDER BY u.id
"""


async def pick(group_id: int) -> Pick | None:
    """The member the group's rule gives the next ticket to, its cursor moved past them; None for a
    manual group or when no member is available with room. Call inside the create's transaction:
    PostgreSQL locks the group's row until it commits."""
    return await _pick(group_id, await sql.select_rows(_LOCKED_GROUP, group_id), guarded=False)


async def pick_guarded(group_id: int) -> Pick | None:
    """SQLite: the pick read without a lock, its cursor moved by `Pick.move`, a statement of the
    ticket's own one-trip write that fails (ticket_writes.Stale) if another process moved the cursor
    since. A transaction around the pick held the process's one connection, and so every other
    request, across several awaits: round-robin creates ran at half the rate of the others."""
    return await _pick(group_id, await sql.select_rows(_GROUP, group_id), guarded=True)


async def _pick(group_id: int, rows: list[Any], *, guarded: bool) -> Pick | None:
    if not rows or rows[0][0] == AssignmentMode.MANUAL:
        return None
    mode, last = AssignmentMode(rows[0][0]), rows[0][1]
    found = await sql.select_rows(_CANDIDATES, mode == AssignmentMode.LEAST_OPEN, group_id)
    candidates = [c for c in (Candidate(*row) for row in found) if c.has_room]
    chosen = choose(mode, candidates, last)
    if chosen is None:
        return None
    label = f"Assignment rule ({LABELS[mode].lower()})"
    if guarded:
        move = Guarded(_MOVE_GUARDED, (chosen.id, group_id, mode.value, last))
        return Pick(chosen.id, chosen.name, label, move)
    await sql.select_rows(_MOVE, chosen.id, group_id)
    return Pick(chosen.id, chosen.name, label)


def turn(group_id: int) -> asyncio.Lock:
    """This process's creates into one rule group take turns (SQLite): none reads the cursor
    another is about to move, so only another process can make a guarded pick stale."""
    return _TURNS.setdefault(group_id, asyncio.Lock())


_TURNS: dict[int, asyncio.Lock] = {}


def choose(mode: AssignmentMode, candidates: list[Candidate], last: int | None) -> Candidate | None:
    """Round robin: the first member (by id) after the last one assigned, wrapping round. Least
    open: the fewest open tickets, ties taken in that same round-robin order."""
    if not candidates:
        return None
    after = [c for c in candidates if last is None or c.id > last]
    in_turn = after + [c for c in candidates if c not in after]
    if mode == AssignmentMode.LEAST_OPEN:
        return min(in_turn, key=lambda c: c.open_tickets)
    return in_turn[0]
