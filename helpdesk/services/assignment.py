"""Assignment rules: which member of a group a new ticket goes to (round robin or least open).

The group's cursor (the member last assigned) moves in a statement of its own that must find it as
it was read (compare and set), before the ticket is written: concurrent creates each get the next
member, and none holds a lock or a transaction while its ticket is written. A create that read a
cursor another one moved meanwhile reads again; this process's creates into a group take turns
for the pick alone (an asyncio lock), so only another process can make them read again. A create
that fails after its pick leaves that member skipped once.

The pick used to run inside the create's transaction under a lock on the group's row: every
round-robin create of a group then waited for the previous one's whole write, and on SQLite the
transaction held the process's one connection, so all its requests waited too (at 1M tickets 146
round-robin creates a second against 282 with the assignee given)."""

import asyncio
from dataclasses import dataclass
from typing import Any

from helpdesk.models import AssignmentMode, Group
from helpdesk.services import sql

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


def rule_applies(group: Group | None) -> bool:
    """Whether new tickets of the group are assigned by a rule (read from the cached group; `pick`
    reads the mode again under the lock)."""
    return group is not None and group.assignment != AssignmentMode.MANUAL


_GROUP = "SELECT assignment, last_assigned_id FROM agent_group WHERE id = ?"
# Moves the cursor only from where it was read, with the mode it was read with.
_MOVE = """
UPDATE agent_group SET last_assigned_id = ?
WHERE id = ? AND assignment = ? AND last_assigned_id IS NOT DISTINCT FROM ?
RETURNING id
"""
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
ATTEMPTS = 20  # reads of a cursor other processes keep moving; then the ticket stays unassigned
_TURNS: dict[int, asyncio.Lock] = {}


async def pick(group_id: int) -> Pick | None:
    """The member the group's rule gives the next ticket to, the cursor moved past them; None for a
    manual group or when no member is available with room."""
    async with _TURNS.setdefault(group_id, asyncio.Lock()):
        for _ in range(ATTEMPTS):
            rows = await sql.select_rows(_GROUP, group_id)
            if not rows or rows[0][0] == AssignmentMode.MANUAL:
                return None
            mode, last = AssignmentMode(rows[0][0]), rows[0][1]
            chosen = choose(mode, await candidates(mode, group_id), last)
            if chosen is None:
                return None
            if await sql.write_returning(_MOVE, chosen.id, group_id, mode.value, last):
                return Pick(chosen.id, chosen.name, f"Assignment rule ({LABELS[mode].lower()})")
    return None


async def candidates(mode: AssignmentMode, group_id: int) -> list[Candidate]:
    """The group's members who may take a ticket now, by id."""
    found: list[Any] = await sql.select_rows(_CANDIDATES, mode == AssignmentMode.LEAST_OPEN, group_id)
    return [c for c in (Candidate(*row) for row in found) if c.has_room]


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
