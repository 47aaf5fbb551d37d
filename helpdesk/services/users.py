"""People: creating users, passwords and API tokens."""

import hashlib
import secrets
from datetime import UTC, datetime
from functools import partial
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from helpdesk import db
from helpdesk.errors import Conflict, Forbidden, Invalid, NotFound
from helpdesk.models import ApiToken, User, WebSession, names_rows
from helpdesk.services import cache, catalog, idempotency

_hasher = PasswordHasher()
TOKEN_PREFIX = "hd_"  # noqa: S105 - a prefix, not a secret


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    """Whether the password is right; spends the same time when there is no such user."""
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        return _hasher.verify(stored, password) and user is not None and user.active
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def token_digest(token: str) -> str:
    """The SHA-256 digest stored for a token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    *,
    email: str,
    name: str,
    actor: User | None,
    phone: str | None = None,
    admin: bool = False,
    agent: bool = False,
    human_id: str | None = None,
    organisation_hid: str | None = None,
    password: str | None = None,
    idempotency_key: str | None = None,
) -> User:
    """Create a user. `actor=None` is the command line; otherwise only admins may.

    With an idempotency key (from an admin), a retried create returns the user the first made."""
    if actor is not None and not actor.admin:
        raise Forbidden("Only admins create users.")
    email = normalise_email(email)
    if "@" not in email or not name.strip():
        raise Invalid("Email and name are required.", {"email": ["must be an address"]})
    user = User(
        email=email, name=name.strip(), phone=phone, admin=admin, agent=agent, human_id=human_id or None,
        organisation_hid=organisation_hid or None,
        password_hash=hash_password(password) if password else None,
    )  # fmt: skip
    retry = idempotency.request(actor, idempotency_key, idempotency.USER) if actor else None
    return await idempotency.once(retry, partial(_insert_user, user, retry), _user_by_id)


async def _insert_user(user: User, retry: idempotency.Request | None) -> User:
    if await User.filter(email=user.email).exists():
        raise Conflict(f"A user with email {user.email} already exists.")
    try:
        async with in_transaction():
            await user.save()
            if retry:
                await retry.record(user.id)
    except IntegrityError as exc:
        raise Conflict("A user with that email or human ID already exists.") from exc
    return user


async def _user_by_id(user_id: int) -> User:
    return await User.get(id=user_id)


async def create_token(*, user: User, name: str, actor: User | None) -> str:
    """Issue a new API token for `user`; the plain token is returned once and never stored."""
    if actor is not None and not actor.admin:
        raise Forbidden("Only admins create API tokens (DECISIONS 8).")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.create(user=user, name=name, digest=token_digest(token))
    return token


async def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, or None; records (once a minute) when it was used.

    Tokens and users come from the per-process cache (services/cache.py): a token revoked or a
    user deactivated in another app process stops working here within CACHE_SECONDS."""
    record = await cache.tokens.one(token_digest(token))
    user = await cache.users.one(record.user_id) if record else None
    if user is None or not user.active:
        return None
    now = datetime.now(UTC)
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        record.last_used_at = now
        with db.bookkeeping("recording a token's use"):
            await ApiToken.filter(id=record.id).update(last_used_at=now)
    return user


async def get_user_by_email(email: str) -> User:
    """The user with this email, or NotFound."""
    user = await User.get_or_none(email=normalise_email(email))
    if user is None:
        raise NotFound(f"No user with email {email}.")
    return user


SELF_EDITABLE = {"email", "name", "phone"}
ADMIN_EDITABLE = SELF_EDITABLE | {"admin", "agent", "human_id", "organisation_hid", "active"}


async def get_user(*, user_id: int, actor: User, active_only: bool = False) -> User:
    """A user by id: admins see everyone, others only themselves (anything else reads as missing).

    `active_only`: a deactivated user reads as missing (the API's DELETE removed it)."""
    user = await User.get_or_none(id=user_id) if names_rows(user_id) else None
    if user is None or not (actor.admin or actor.id == user.id) or (active_only and not user.active):
        raise NotFound(f"No user {user_id}.")
    return user


async def list_agents(*, actor: User) -> list[User]:
    """Active agents and admins, by name (staff only; customers never list other users)."""
    if not actor.is_staff:
        raise NotFound("No such resource.")
    return await catalog.active_agents()


async def update_user(
    *, user_id: int, changes: dict[str, Any], actor: User, active_only: bool = False
) -> User:
    """Partial update: users change their own name, email and phone; admins change anything."""
    user = await get_user(user_id=user_id, actor=actor, active_only=active_only)
    allowed = ADMIN_EDITABLE if actor.admin else SELF_EDITABLE
    if refused := sorted(set(changes) - allowed):
        raise Forbidden(f"Only admins change {', '.join(refused)}.")
    if user.id == actor.id and (changes.get("admin") is False or changes.get("active") is False):
        raise Forbidden("You cannot remove your own admin rights or deactivate yourself.")
    if "email" in changes:
        changes["email"] = normalise_email(changes["email"])
        if await User.filter(email=changes["email"]).exclude(id=user.id).exists():
            raise Conflict(f"A user with email {changes['email']} already exists.")
    try:
        await User.filter(id=user.id).update(**changes, updated_at=datetime.now(UTC))
    except IntegrityError as exc:
        raise Conflict("A user with that email or human ID already exists.") from exc
    cache.changed()
    return await User.get(id=user.id)


async def deactivate_user(*, user_id: int, actor: User) -> None:
    """Admins deactivate a user: history keeps the name, tokens and sessions stop working."""
    if not actor.admin:
        raise NotFound(f"No user {user_id}.")
    user = await get_user(user_id=user_id, actor=actor, active_only=True)
    if user.id == actor.id:
        raise Forbidden("You cannot deactivate yourself.")
    await User.filter(id=user.id).update(active=False, updated_at=datetime.now(UTC))
    await WebSession.filter(user_id=user.id).delete()
    cache.changed()
