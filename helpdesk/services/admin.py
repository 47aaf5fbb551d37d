"""What admins manage in the web UI: users' tokens, groups and membership, the state catalogue."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from helpdesk.errors import Conflict, Forbidden, Invalid, NotFound
from helpdesk.models import (
    ApiToken,
    AssignmentMode,
    Group,
    GroupMember,
    Organisation,
    State,
    StateKind,
    User,
    ids_in_range,
)
from helpdesk.services import cache, feed

NAME_LENGTH = 100  # Group.name


def ensure_admin(actor: User) -> None:
    if not actor.admin:
        raise Forbidden("Only admins manage users, groups and the catalogue.")


async def list_users(*, actor: User) -> list[User]:
    """Everyone, active first, by name."""
    ensure_admin(actor)
    return await User.all().order_by("-active", "name", "id")


async def list_tokens(*, user_id: int, actor: User) -> list[ApiToken]:
    """A user's API tokens, newest first (digests only; the tokens themselves were shown once)."""
    ensure_admin(actor)
    return await ApiToken.filter(user_id=user_id).order_by("-id")


async def get_token(*, user_id: int, token_id: int, actor: User) -> ApiToken:
    """One of a user's API tokens (its digest and name), or NotFound."""
    ensure_admin(actor)
    token = (
        await ApiToken.get_or_none(id=token_id, user_id=user_id) if ids_in_range(token_id, user_id) else None
    )
    if token is None:
        raise NotFound(f"No token {token_id}.")
    return token


async def revoke_token(*, user_id: int, token_id: int, actor: User) -> ApiToken:
    """Stop a token working at once; the row stays so the list shows when it was revoked."""
    token = await get_token(user_id=user_id, token_id=token_id, actor=actor)
    async with in_transaction():
        updated = await ApiToken.filter(id=token_id, revoked_at=None).update(revoked_at=datetime.now(UTC))
        if updated:
            await feed.publish("token.revoked", actor=actor, data={"user": user_id})
    cache.changed()
    return token


async def list_groups(*, actor: User) -> list[Group]:
    """Every group by name, with its members loaded."""
    ensure_admin(actor)
    return await Group.all().order_by("name").prefetch_related("members__user")


async def create_group(
    *, name: str, actor: User, assignment: str = AssignmentMode.MANUAL, members: list[int] | None = None
) -> Group:
    """A new agent group, with its assignment mode and members (none by default)."""
    ensure_admin(actor)
    values = _group_values(GroupChanges(name=name, assignment=assignment))
    member_ids = await _members(members or [])
    try:
        async with in_transaction():
            group = await Group.create(**values)
            await _replace_members(group.id, member_ids)
            await feed.publish("catalogue.changed", actor=actor, data={"what": "groups"})
    except IntegrityError as exc:
        raise Conflict(f"A group called {values['name']} already exists.") from exc
    cache.changed()
    return group


@dataclass
class GroupChanges:
    """What an admin changes about a group; None leaves that part as it is."""

    name: str | None = None
    members: list[int] | None = None  # every member's user id: the group's whole membership
    assignment: str | None = None  # an AssignmentMode value


async def update_group(*, group_id: int, changes: GroupChanges, actor: User) -> Group:
    """Rename a group, replace its members, or change how its new tickets are assigned; the group
    with its members loaded."""
    ensure_admin(actor)
    group = await Group.get_or_none(id=group_id) if ids_in_range(group_id) else None
    if group is None:
        raise NotFound(f"No group {group_id}.")
    values = _group_values(changes)
    members = await _members(changes.members) if changes.members is not None else None
    try:
        async with in_transaction():
            if values:
                await Group.filter(id=group_id).update(**values, updated_at=datetime.now(UTC))
            if members is not None:
                await _replace_members(group_id, members)
            await feed.publish("catalogue.changed", actor=actor, data={"what": "groups"})
    except IntegrityError as exc:
        raise Conflict(f"A group called {changes.name} already exists.") from exc
    cache.changed()
    return await Group.get(id=group_id).prefetch_related("members__user")


def _group_values(changes: GroupChanges) -> dict[str, Any]:
    """The group's own columns to change; Invalid names a bad name or mode."""
    values: dict[str, Any] = {}
    if changes.name is not None:
        if not changes.name.strip() or len(changes.name.strip()) > NAME_LENGTH:
            raise Invalid("Bad group name.", {"name": [f"must be 1 to {NAME_LENGTH} characters"]})
        values["name"] = changes.name.strip()
    if changes.assignment is not None:
        if changes.assignment not in set(AssignmentMode):
            modes = ", ".join(AssignmentMode)
            raise Invalid("Unknown assignment mode.", {"assignment": [f"must be one of {modes}"]})
        values["assignment"] = AssignmentMode(changes.assignment)
    return values


async def _members(user_ids: list[int]) -> set[int]:
    """The ids, each an active agent's; Invalid names the others."""
    wanted = {i for i in user_ids if ids_in_range(i)}
    found = set(
        await User.filter(Q(agent=True) | Q(admin=True), id__in=wanted, active=True).values_list(
            "id", flat=True
        )
    )
    if unknown := sorted(set(user_ids) - found):
        raise Invalid(
            "Only active agents join groups.", {"members": [f"{i} is not an active agent" for i in unknown]}
        )
    return found


async def _replace_members(group_id: int, members: set[int]) -> None:
    current = set(await GroupMember.filter(group_id=group_id).values_list("user_id", flat=True))
    await GroupMember.filter(group_id=group_id, user_id__in=current - members).delete()
    await GroupMember.bulk_create(
        [GroupMember(group_id=group_id, user_id=i) for i in sorted(members - current)]
    )


async def add_member(*, group_id: int, user_id: int, actor: User) -> GroupMember:
    """Put an active agent in a group (adding twice is harmless); the membership, group and user loaded."""
    ensure_admin(actor)
    if not ids_in_range(group_id, user_id):
        raise NotFound(f"No group {group_id} or user {user_id}.")
    group = await Group.get_or_none(id=group_id)
    user = await User.get_or_none(id=user_id, active=True)
    if group is None:
        raise NotFound(f"No group {group_id}.")
    if user is None or not user.is_staff:
        raise Invalid("Only active agents join groups.", {"user": ["is not an active agent"]})
    async with in_transaction():
        member, _ = await GroupMember.get_or_create(group=group, user=user)
        await feed.publish("catalogue.changed", actor=actor, data={"what": "groups"})
    member.group, member.user = group, user
    return member


async def remove_member(*, group_id: int, user_id: int, actor: User) -> GroupMember | None:
    """Take an agent out of a group; the membership that was (group and user loaded), if any."""
    ensure_admin(actor)
    if not ids_in_range(group_id, user_id):
        return None
    member = await GroupMember.get_or_none(group_id=group_id, user_id=user_id).select_related("group", "user")
    if member is not None:
        async with in_transaction():
            await member.delete()
            await feed.publish("catalogue.changed", actor=actor, data={"what": "groups"})
    return member


async def save_state(
    *,
    description: str,
    position: int | None,
    closes: bool,
    actor: User,
    kind: StateKind,
    state_id: int | None,
    pauses_sla: bool = False,
) -> State:
    """Add a catalogue entry, or rename / reorder one (its kind never changes: tickets point at it).
    Positions count within a kind; an entry given none goes last in its kind (a new one) or stays."""
    ensure_admin(actor)
    state = await _state(state_id) if state_id is not None else State(kind=kind)
    if position is None:
        position = state.position if state_id is not None else await _next_position(state.kind)
    values = {"description": description, "position": position, "closes": closes, "pauses_sla": pauses_sla}
    return await _store_state(state, values, actor=actor)


async def update_state(*, state_id: int, changes: dict[str, Any], actor: User) -> State:
    """Change only the given fields of a catalogue entry (description, position, closes, pauses_sla)."""
    ensure_admin(actor)
    state = await _state(state_id)
    current = {"description": state.description, "position": state.position} | {
        "closes": state.closes,
        "pauses_sla": state.pauses_sla,
    }
    return await _store_state(state, current | changes, actor=actor)


async def _state(state_id: int) -> State:
    state = await State.get_or_none(id=state_id) if ids_in_range(state_id) else None
    if state is None:
        raise NotFound(f"No state {state_id}.")
    return state


async def _store_state(state: State, values: dict[str, Any], *, actor: User) -> State:
    """Save the entry with these values: only a state (not a priority, a type...) resolves a ticket
    or pauses its service level clocks."""
    flags = [name for name in ("closes", "pauses_sla") if values[name]]
    if flags and state.kind != StateKind.STATE:
        what = {"closes": "resolves the ticket", "pauses_sla": "pauses the SLA"}
        errors = {name: [f"only a state {what[name]}"] for name in flags}
        raise Invalid(
            f"Only a state {' or '.join(what[n] for n in flags)}, not a {state.kind.name.lower()}.", errors
        )
    state.update_from_dict(values)
    try:
        async with in_transaction():
            await state.save()
            await feed.publish("catalogue.changed", actor=actor, data={"what": "states"})
    except IntegrityError as exc:
        raise Conflict(f"The catalogue already has {values['description']}.") from exc
    return state


async def _next_position(kind: StateKind) -> int:
    """After the last entry of the kind."""
    last = await State.filter(kind=kind).order_by("-position").first().values_list("position", flat=True)
    return 0 if last is None else last + 1


async def list_organisations(*, actor: User) -> list[Organisation]:
    """The organisation directory by name, with partners loaded."""
    ensure_admin(actor)
    return await Organisation.all().order_by("name").select_related("parent")
