"""What admins manage in the web UI: users' tokens, groups and membership, the state catalogue."""

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from helpdesk.errors import Conflict, Forbidden, Invalid, NotFound
from helpdesk.models import ApiToken, Group, GroupMember, Organisation, State, StateKind, User, ids_in_range
from helpdesk.services import cache


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


async def revoke_token(*, user_id: int, token_id: int, actor: User) -> None:
    """Stop a token working at once; the row stays so the list shows when it was revoked."""
    ensure_admin(actor)
    if not ids_in_range(token_id, user_id):
        raise NotFound(f"No token {token_id}.")
    updated = await ApiToken.filter(id=token_id, user_id=user_id, revoked_at=None).update(
        revoked_at=datetime.now(UTC)
    )
    if not updated and not await ApiToken.exists(id=token_id, user_id=user_id):
        raise NotFound(f"No token {token_id}.")
    cache.changed()


async def list_groups(*, actor: User) -> list[Group]:
    """Every group by name, with its members loaded."""
    ensure_admin(actor)
    return await Group.all().order_by("name").prefetch_related("members__user")


async def create_group(*, name: str, actor: User) -> Group:
    """A new, empty agent group."""
    ensure_admin(actor)
    try:
        return await Group.create(name=name)
    except IntegrityError as exc:
        raise Conflict(f"A group called {name} already exists.") from exc


async def add_member(*, group_id: int, user_id: int, actor: User) -> None:
    """Put an active agent in a group (adding twice is harmless)."""
    ensure_admin(actor)
    if not ids_in_range(group_id, user_id):
        raise NotFound(f"No group {group_id} or user {user_id}.")
    group = await Group.get_or_none(id=group_id)
    user = await User.get_or_none(id=user_id, active=True)
    if group is None:
        raise NotFound(f"No group {group_id}.")
    if user is None or not user.is_staff:
        raise Invalid("Only active agents join groups.", {"user": ["is not an active agent"]})
    await GroupMember.get_or_create(group=group, user=user)


async def remove_member(*, group_id: int, user_id: int, actor: User) -> None:
    """Take an agent out of a group."""
    ensure_admin(actor)
    if ids_in_range(group_id, user_id):
        await GroupMember.filter(group_id=group_id, user_id=user_id).delete()


async def save_state(
    *, description: str, position: int, closes: bool, actor: User, kind: StateKind, state_id: int | None
) -> State:
    """Add a catalogue entry, or rename / reorder one (its kind never changes: tickets point at it)."""
    ensure_admin(actor)
    if not ids_in_range(state_id):
        raise NotFound(f"No state {state_id}.")
    state = await State.get_or_none(id=state_id) if state_id is not None else State(kind=kind)
    if state is None:
        raise NotFound(f"No state {state_id}.")
    state.description, state.position = description, position
    state.closes = closes and state.kind == StateKind.STATE
    try:
        await state.save()
    except IntegrityError as exc:
        raise Conflict(f"The catalogue already has {description}.") from exc
    return state


async def list_organisations(*, actor: User) -> list[Organisation]:
    """The organisation directory by name, with partners loaded."""
    ensure_admin(actor)
    return await Organisation.all().order_by("name").select_related("parent")
