"""Assignment rules: which member of a group a new ticket goes to (round robin or least open).

The pick is one UPDATE of the group's row: it chooses the member from the cursor (the member last
assigned) as the row holds it and moves the cursor to them, before the ticket is written. Writes
to one row take turns, so concurrent creates, in this process or any other, each get the next
member: on SQLite the database takes one write at a time; on PostgreSQL a second UPDATE waits for
the first's row lock and then evaluates its SET again on the row the first one wrote (READ
COMMITTED re-checks an updated row), so it reads the moved cursor. Nothing is held while the
ticket is written; a create that fails after its pick leaves that member skipped once.

Earlier versions picked inside the create's transaction under a lock on the group's row (every
round-robin create of a group waited for the previous one's whole write), then read the cursor and
the members and moved the cursor by compare and set (three statements and a retry). This one is
simpler and no slower: at 1M tickets a round-robin create runs as fast as the same create into a
manual group (bench/RESULTS.md)."""

from dataclasses import dataclass

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
class Pick:
    """The agent a rule chose, and the words the history shows as who assigned them."""

    agent_id: int
    agent_name: str
    actor_label: str


def rule_applies(group: Group | None) -> bool:
    """Whether new tickets of the group are assigned by a rule (read from the cached group; `pick`
    reads the mode again as it moves the cursor)."""
    return group is not None and group.assignment != AssignmentMode.MANUAL


# Members who may take a ticket: active, available agents below their capacity (open = neither
# resolved nor deleted, counted through the (assignee_id, resolved_at, id) index).
_OPEN = """(SELECT count(*) FROM ticket t
  WHERE t.assignee_id = u.id AND t.resolved_at IS NULL AND t.deleted_at IS NULL)"""
_ELIGIBLE = f"""FROM group_member m JOIN "user" u ON u.id = m.user_id
  WHERE m.group_id = agent_group.id AND u.active AND u.available AND (u.agent OR u.admin)
  AND (u.capacity IS NULL OR {_OPEN} < u.capacity)"""
# Round robin: the first eligible member by id after the cursor, wrapping round. Least open: the
# fewest open tickets, ties in that same order. (The derived table: SQLite cannot read the outer
# row in a subquery's ORDER BY.) No eligible member: the row is left alone and nothing returned.
_PICK = f"""
UPDATE agent_group SET last_assigned_id = (
  SELECT c.id FROM (
    SELECT u.id,
      CASE WHEN agent_group.assignment = '{AssignmentMode.LEAST_OPEN.value}' THEN {_OPEN} ELSE 0 END AS load,
      CASE WHEN u.id > coalesce(agent_group.last_assigned_id, 0) THEN 0 ELSE 1 END AS turn
    {_ELIGIBLE}
  ) c ORDER BY c.load, c.turn, c.id LIMIT 1)
WHERE id = ? AND assignment <> '{AssignmentMode.MANUAL.value}' AND EXISTS (SELECT 1 {_ELIGIBLE})
RETURNING last_assigned_id, assignment,
  (SELECT name FROM "user" u WHERE u.id = agent_group.last_assigned_id) AS name
"""  # noqa: S608 - built of this module's constants only


async def pick(group_id: int) -> Pick | None:
    """The member the group's rule gives the next ticket to, the cursor moved to them; None for a
    manual group or when no member is available with room."""
    rows = await sql.write_returning(_PICK, group_id)
    if not rows:
        return None
    row = rows[0]
    mode = AssignmentMode(row["assignment"])
    return Pick(row["last_assigned_id"], row["name"], f"Assignment rule ({LABELS[mode].lower()})")
