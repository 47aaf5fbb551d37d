"""Passwords over an account's life: changing one's own, a reset by emailed link, and choosing a
first password from an invitation link. A new password ends the account's other sessions."""

import zoneinfo
from collections.abc import Mapping
from functools import cache as once
from typing import Any

from tortoise.transactions import in_transaction

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import User
from helpdesk.services import cache, feed, links, passwords, sessions
from helpdesk.services.users import may_email_link, normalise_email, send_link_email

PASSWORD_PURPOSES = (links.PASSWORD_RESET, links.INVITATION)
RESET_ANSWER = "If an active account has that email, a link to choose a new password is on its way to it."


async def change_password(*, actor: User, current_password: str, new_password: str, session_id: str) -> None:
    """Change one's own password, knowing the current one; every other session of the account ends.

    Wrong current passwords count as failed sign-ins of the account (a borrowed session cannot
    guess on for ever)."""
    user = await User.get(id=actor.id)  # the cached user may hold an older hash
    passwords.check_policy(new_password, email=user.email, field="new_password")
    await sessions.refuse_when_limited(email=user.email)
    if not await passwords.verify(user.password_hash, current_password):
        await sessions.count_failure(email=user.email)
        raise Invalid("The current password is not right.", {"current_password": ["is not right"]})
    fresh = await passwords.new_hash(new_password)
    await User.filter(id=user.id).update(password_hash=fresh)
    await sessions.end_sessions_of(user.id, keep=session_id)


async def request_password_reset(*, email: str, config: Mapping[str, Any]) -> str:
    """Email a reset link if an active account has this email; returns the one neutral answer."""
    user = await User.get_or_none(email=normalise_email(email), active=True)
    if user is not None and await may_email_link(user):
        payload = {"user": user.id, "pw": links.password_stamp(user)}
        await send_link_email(
            user=user, recipient=user.email, config=config, subject="Reset your helpdesk password",
            template="password_reset", url=links.url(config, purpose=links.PASSWORD_RESET, payload=payload),
            purpose=links.PASSWORD_RESET,
        )  # fmt: skip
    return RESET_ANSWER


async def read_password_link(*, token: str, purpose: str, config: Mapping[str, Any]) -> User:
    """The user a reset or invitation link is for, or why it cannot be used. Changes nothing."""
    if purpose not in PASSWORD_PURPOSES:
        raise ValueError(purpose)
    payload = links.read(token, purpose=purpose, config=config)
    await links.refuse_used(token, purpose=purpose)
    return await links.user_of(payload)


async def set_password_from_link(
    *, token: str, purpose: str, password: str, config: Mapping[str, Any]
) -> User:
    """Consume a reset or invitation link once and set the password; every session of the account
    ends and its failed sign-ins stop counting."""
    user = await read_password_link(token=token, purpose=purpose, config=config)
    passwords.check_policy(password, email=user.email)
    fresh = await passwords.new_hash(password)  # before the transaction: hashing takes a while
    async with in_transaction():
        user = await read_password_link(token=token, purpose=purpose, config=config)
        await links.consume(token, purpose=purpose)
        await User.filter(id=user.id).update(password_hash=fresh)
    await sessions.end_sessions_of(user.id)
    await sessions.forget_failures(email=user.email)
    cache.changed()
    return user


@once
def time_zones() -> list[str]:
    """The IANA time zones this machine knows, sorted (read from disk once)."""
    return sorted(zoneinfo.available_timezones())


def time_zone_error(name: str) -> str | None:
    """Why `name` is not a time zone the desk can show times in (an IANA name, Europe/London), or None."""
    if not name:
        return None
    if name not in time_zones():
        return "is not a time zone: pick one from the list (Europe/London, America/New_York, …)"
    return None


async def set_time_zone(*, actor: User, time_zone: str) -> None:
    """Show one's own times in `time_zone` (empty: UTC)."""
    if reason := time_zone_error(time_zone):
        raise Invalid("Unknown time zone.", {"time_zone": [reason]})
    async with in_transaction():
        await User.filter(id=actor.id).update(time_zone=time_zone)
        await feed.publish("user.changed", actor=actor, data={"user": actor.id})
    cache.changed()


async def set_available(*, actor: User, available: bool) -> None:
    """Say whether one takes new tickets: assignment rules skip an agent who is away."""
    if not actor.is_staff:
        raise Forbidden("Only agents take tickets.")
    async with in_transaction():
        await User.filter(id=actor.id).update(available=available)
        await feed.publish("user.changed", actor=actor, data={"user": actor.id})
    cache.changed()
