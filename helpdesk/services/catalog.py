"""Reading the state catalogue and the agent groups."""

from helpdesk.errors import NotFound
from helpdesk.models import Group, State, StateKind, User, names_rows

STATE_TYPES: dict[str, StateKind | None] = {
    "all": None,
    "state": StateKind.STATE,
    "type": StateKind.TYPE,
    "priority": StateKind.PRIORITY,
    "stage": StateKind.STAGE,
    "outcome": StateKind.OUTCOME,
}


async def list_states(*, kind: StateKind | None = None) -> list[State]:
    """The catalogue in display order, optionally of one kind."""
    query = State.all() if kind is None else State.filter(kind=kind)
    return await query.order_by("kind", "position", "id")


async def list_groups(*, actor: User) -> list[Group]:
    """Every agent group by name (staff only)."""
    if not actor.is_staff:
        raise NotFound("No such resource.")
    return await Group.all().order_by("name")


async def get_group(*, group_id: int, actor: User) -> Group:
    """One group (staff only)."""
    group = await Group.get_or_none(id=group_id) if actor.is_staff and names_rows(group_id) else None
    if group is None:
        raise NotFound(f"No group {group_id}.")
    return group
