"""Reading the state catalogue, the agent groups and the agents.

These whole tables are read on nearly every agent page and change a few times a year, so they come
from the per-process cache (services/cache.py): kept CACHE_SECONDS, forgotten at once when this
process changes a state, group or user."""

from typing import Any

from tortoise.expressions import Q

from helpdesk.errors import NotFound
from helpdesk.models import Group, GroupMember, State, StateKind, User, ids_in_range
from helpdesk.services import cache

STATE_TYPES: dict[str, StateKind | None] = {
    "all": None,
    "state": StateKind.STATE,
    "type": StateKind.TYPE,
    "priority": StateKind.PRIORITY,
    "stage": StateKind.STAGE,
    "outcome": StateKind.OUTCOME,
}


WHOLE_TABLE = "all"  # the one key of a cache that holds a whole table as a list


async def _all_states(_: list[Any]) -> dict[str, list[State]]:
    return {WHOLE_TABLE: await State.all().order_by("kind", "position", "id")}


async def _all_groups(_: list[Any]) -> dict[str, list[Group]]:
    return {WHOLE_TABLE: await Group.all().order_by("name")}


async def _all_agents(_: list[Any]) -> dict[str, list[User]]:
    return {WHOLE_TABLE: await User.filter(Q(agent=True) | Q(admin=True), active=True).order_by("name", "id")}


_states = cache.TimedCache(_all_states)
_groups = cache.TimedCache(_all_groups)
_agents = cache.TimedCache(_all_agents)


async def list_states(*, kind: StateKind | None = None) -> list[State]:
    """The catalogue in display order, optionally of one kind."""
    states = await _states.one(WHOLE_TABLE)
    return [s for s in states if kind is None or s.kind == kind]


async def list_groups(*, actor: User) -> list[Group]:
    """Every agent group by name (staff only)."""
    if not actor.is_staff:
        raise NotFound("No such resource.")
    return list(await _groups.one(WHOLE_TABLE))


async def active_agents() -> list[User]:
    """Active agents and admins, by name: whom a ticket can be assigned to (callers check the actor)."""
    return list(await _agents.one(WHOLE_TABLE))


async def group_members(*, group_ids: list[int], actor: User) -> dict[int, list[int]]:
    """Each group's members' user ids, in order (staff only; one query)."""
    if not actor.is_staff:
        raise NotFound("No such resource.")
    rows = (
        await GroupMember.filter(group_id__in=group_ids)
        .order_by("user_id")
        .values_list("group_id", "user_id")
    )
    members: dict[int, list[int]] = {}
    for group_id, user_id in rows:
        members.setdefault(group_id, []).append(user_id)
    return members


async def get_group(*, group_id: int, actor: User) -> Group:
    """One group (staff only)."""
    group = await Group.get_or_none(id=group_id) if actor.is_staff and ids_in_range(group_id) else None
    if group is None:
        raise NotFound(f"No group {group_id}.")
    return group
