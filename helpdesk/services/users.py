"""People: creating and inviting users, changing their details and email, API tokens."""

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from helpdesk import db
from helpdesk.errors import Conflict, Forbidden, Invalid, LinkGone, NotFound
from helpdesk.models import ApiToken, User, WebSession, ids_in_range
from helpdesk.services import attempts, cache, catalog, feed, idempotency, links, passwords
from helpdesk.services.outbox import queue_email, render_email
from helpdesk.services.values import EMAIL_MESSAGE, is_email

TOKEN_PREFIX = "hd_"  # noqa: S105 - a prefix, not a secret
LINK_EMAILS_PER_HOUR = 3  # emailed links (reset, email change) per account; more are not sent


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
    """Create a user. `actor=None` is the command line; otherwise only admins may. A password,
    if given, must follow the password rule; people invited instead choose their own.

    With an idempotency key (from an admin), a retried create returns the user the first made."""
    if actor is not None and not actor.admin:
        raise Forbidden("Only admins create users.")
    email = normalise_email(email)
    if not is_email(email) or not name.strip():
        raise Invalid("Email and name are required.", {"email": [EMAIL_MESSAGE]})
    if password is not None:
        passwords.check_policy(password, email=email)
    user = User(
        email=email, name=name.strip(), phone=phone, admin=admin, agent=agent, human_id=human_id or None,
        organisation_hid=organisation_hid or None,
        password_hash=await passwords.new_hash(password) if password is not None else None,
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
    user deactivated in another app process stops working here when the feed tells this one."""
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


SELF_EDITABLE = {"email", "name", "phone", "available"}  # `available`: agents' own (accounts.set_available)
ADMIN_EDITABLE = SELF_EDITABLE | {"admin", "agent", "human_id", "organisation_hid", "active", "capacity"}
MAX_CAPACITY = 10_000  # open tickets an agent may be set to hold; None: no limit


def capacity_error(capacity: Any) -> str | None:
    """Why `capacity` is not a number of open tickets (a whole number 0..MAX_CAPACITY, or None)."""
    if capacity is None or (type(capacity) is int and 0 <= capacity <= MAX_CAPACITY):
        return None
    return f"must be a whole number from 0 to {MAX_CAPACITY}, or empty for no limit"


async def get_user(*, user_id: int, actor: User, active_only: bool = False) -> User:
    """A user by id: admins see everyone, others only themselves (anything else reads as missing).

    `active_only`: a deactivated user reads as missing (the API's DELETE removed it)."""
    user = await User.get_or_none(id=user_id) if ids_in_range(user_id) else None
    if user is None or not (actor.admin or actor.id == user.id) or (active_only and not user.active):
        raise NotFound(f"No user {user_id}.")
    return user


def sees(actor: User, user: User) -> bool:
    """Whether the actor can see this user at all: admins everyone, everyone themselves, staff also
    the active agents and admins (the agents list they read). A customer sees no other user, and
    nobody but admins sees a customer: tickets name their people by human ID only."""
    return actor.admin or actor.id == user.id or (actor.is_staff and user.is_staff and user.active)


async def _user_to_change(*, user_id: int, actor: User, active_only: bool, refusal: str) -> User:
    """A user the actor may change (admins anyone, others themselves). One the actor can see but
    may not change is Forbidden with `refusal` (DECISIONS 3); one it cannot see reads as missing."""
    user = await User.get_or_none(id=user_id) if ids_in_range(user_id) else None
    if user is None or not sees(actor, user) or (active_only and not user.active):
        raise NotFound(f"No user {user_id}.")
    if not (actor.admin or actor.id == user.id):
        raise Forbidden(refusal)
    return user


async def list_agents(*, actor: User) -> list[User]:
    """Active agents and admins, by name (staff only; customers never list other users)."""
    if not actor.is_staff:
        raise NotFound("No such resource.")
    return await catalog.active_agents()


async def update_user(
    *,
    user_id: int,
    changes: dict[str, Any],
    actor: User,
    active_only: bool = False,
    config: Mapping[str, Any] | None = None,
) -> User:
    """Partial update: users change their own name, email and phone; admins change anything.

    A new email for oneself is not applied: a link to confirm it goes to the new address (see
    request_email_change), and the answer is the same whether or not that address is taken."""
    user = await _user_to_change(
        user_id=user_id, actor=actor, active_only=active_only, refusal="Only admins change other users."
    )
    allowed = ADMIN_EDITABLE if actor.admin else SELF_EDITABLE
    if refused := sorted(set(changes) - allowed):
        raise Forbidden(f"Only admins change {', '.join(refused)}.")
    if "available" in changes and not user.is_staff:
        raise Forbidden("Only agents take tickets, so only agents are available or away.")
    if user.id == actor.id and (changes.get("admin") is False or changes.get("active") is False):
        raise Forbidden("You cannot remove your own admin rights or deactivate yourself.")
    if "capacity" in changes and (reason := capacity_error(changes["capacity"])):
        raise Invalid("Bad capacity.", {"capacity": [reason]})
    if user.id == actor.id and "email" in changes:
        await _change_own_email(user, changes.pop("email"), config)
    if "email" in changes:
        changes["email"] = normalise_email(changes["email"])
        if not is_email(changes["email"]):
            raise Invalid("That is not an email address.", {"email": [EMAIL_MESSAGE]})
        if await User.filter(email=changes["email"]).exclude(id=user.id).exists():
            raise Conflict(f"A user with email {changes['email']} already exists.")
    try:
        if changes:
            async with in_transaction():
                await User.filter(id=user.id).update(**changes, updated_at=datetime.now(UTC))
                await feed.publish("user.changed", actor=actor, data={"user": user.id})
    except IntegrityError as exc:
        raise Conflict("A user with that email or human ID already exists.") from exc
    cache.changed()
    return await User.get(id=user.id)


async def _change_own_email(user: User, email: str, config: Mapping[str, Any] | None) -> None:
    """One's own new email goes through a confirmation link; the same address again is no change."""
    if normalise_email(email) == user.email:
        return
    if config is None:
        raise Forbidden("Change your own email from your Account page.")
    await request_email_change(actor=user, new_email=email, config=config)


async def deactivate_user(*, user_id: int, actor: User) -> User:
    """Admins deactivate a user: history keeps the name, sessions end and tokens are revoked, so
    reactivating them later does not bring back API access nobody remembers handing out."""
    refusal = "Only admins deactivate users."
    user = await _user_to_change(user_id=user_id, actor=actor, active_only=True, refusal=refusal)
    if not actor.admin:
        raise Forbidden(refusal)
    if user.id == actor.id:
        raise Forbidden("You cannot deactivate yourself.")
    moment = datetime.now(UTC)
    async with in_transaction():
        await User.filter(id=user.id).update(active=False, updated_at=moment)
        await WebSession.filter(user_id=user.id).delete()
        await ApiToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=moment)
        await feed.publish("user.deactivated", actor=actor, data={"user": user.id})
    cache.changed()
    return user


async def reactivate_user(*, user_id: int, actor: User) -> User:
    """Admins let a deactivated user sign in again with their password; revoked tokens stay revoked."""
    refusal = "Only admins reactivate users."
    user = await _user_to_change(user_id=user_id, actor=actor, active_only=False, refusal=refusal)
    if not actor.admin:
        raise Forbidden(refusal)
    async with in_transaction():
        await User.filter(id=user.id).update(active=True, updated_at=datetime.now(UTC))
        await feed.publish("user.changed", actor=actor, data={"user": user.id})
    cache.changed()
    return await User.get(id=user.id)


async def send_link_email(
    *,
    user: User,
    recipient: str,
    config: Mapping[str, Any],
    subject: str,
    template: str,
    url: str,
    purpose: str,
) -> None:
    """Queue an email carrying a signed link (the outbox sends it)."""
    text, html = render_email(
        template, user=user, url=url, hours=links.hours(config, purpose), recipient=recipient
    )
    await queue_email(recipient=recipient, subject=subject, body_text=text, body_html=html)


async def may_email_link(user: User) -> bool:
    """Whether another emailed link may go out for this account now (counts this one if so)."""
    counted = attempts.key("link", str(user.id))
    if await attempts.over({counted: LINK_EMAILS_PER_HOUR}, window=attempts.KEEP):
        return False
    await attempts.add([counted])
    return True


async def _send_invitation(user: User, config: Mapping[str, Any]) -> None:
    payload = {"user": user.id, "pw": links.password_stamp(user)}
    url = links.url(config, purpose=links.INVITATION, payload=payload)
    await send_link_email(
        user=user, recipient=user.email, config=config, subject="Your helpdesk account: choose a password",
        template="invitation", url=url, purpose=links.INVITATION,
    )  # fmt: skip


async def invite_user(
    *, email: str, name: str, actor: User, config: Mapping[str, Any], **fields: Any
) -> User:
    """Create a user (admins only) and email them a link to choose their own password."""
    async with in_transaction():
        user = await create_user(email=email, name=name, actor=actor, **fields)
        await _send_invitation(user, config)
    return user


async def send_invitation(*, user_id: int, actor: User, config: Mapping[str, Any]) -> User:
    """Email an active user (again) a link to choose a password (admins only)."""
    if not actor.admin:
        raise NotFound(f"No user {user_id}.")
    user = await get_user(user_id=user_id, actor=actor, active_only=True)
    await _send_invitation(user, config)
    return user


def email_change_answer(email: str) -> str:
    """The one answer to an email change request, whether or not the address is free."""
    return f"If {email} can be used, a link to confirm it is on its way there. Open it to make the change."


async def request_email_change(*, actor: User, new_email: str, config: Mapping[str, Any]) -> str:
    """Email a signed link to the new address; nothing changes until it is opened. Returns the
    answer to show, the same whether or not another account has the address."""
    email = normalise_email(new_email)
    if not is_email(email):
        raise Invalid("That is not an email address.", {"email": [EMAIL_MESSAGE]})
    taken = await User.filter(email=email).exists()
    if not taken and await may_email_link(actor):
        payload = {"user": actor.id, "from": actor.email, "to": email}
        await send_link_email(
            user=actor, recipient=email, config=config, subject="Confirm your new helpdesk email address",
            template="email_change", url=links.url(config, purpose=links.EMAIL_CHANGE, payload=payload),
            purpose=links.EMAIL_CHANGE,
        )  # fmt: skip
    return email_change_answer(email)


async def read_email_link(*, token: str, config: Mapping[str, Any]) -> tuple[User, str]:
    """The user and the new address an email-change link is for, or why it cannot be used."""
    payload = links.read(token, purpose=links.EMAIL_CHANGE, config=config)
    await links.refuse_used(token, purpose=links.EMAIL_CHANGE)
    user = await links.user_of(payload, stamped=False)
    if user.email != payload.get("from") or not is_email(str(payload.get("to", ""))):
        raise LinkGone("Your email has changed since this link was sent.")
    return user, payload["to"]


async def confirm_email_change(*, token: str, config: Mapping[str, Any]) -> User:
    """Consume the link once and apply the new address; the old address is told."""
    async with in_transaction():
        user, email = await read_email_link(token=token, config=config)
        await links.consume(token, purpose=links.EMAIL_CHANGE)
        if await User.filter(email=email).exclude(id=user.id).exists():
            raise LinkGone("Another account now uses this address.")
        await User.filter(id=user.id).update(email=email, updated_at=datetime.now(UTC))
        await feed.publish("user.changed", data={"user": user.id})
        text, html = render_email("email_changed", user=user, new_email=email)
        await queue_email(
            recipient=user.email,
            subject="Your helpdesk email address changed",
            body_text=text,
            body_html=html,
        )
    cache.changed()
    return await User.get(id=user.id)
