"""Browser sign-in: password checks with failure limits counted in the database, and server-side
sessions that end after an idle time, which their owner can list and end."""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from helpdesk import db
from helpdesk.errors import NotFound, RateLimited, Unauthorized
from helpdesk.models import User, WebSession
from helpdesk.services import attempts, cache, feed, passwords
from helpdesk.services.users import normalise_email, token_digest

WRONG_LOGIN = "That email and password do not match an active account."
TOO_MANY = "Too many failed sign-ins. Wait a few minutes and try again."
SEEN_EVERY = timedelta(minutes=1)  # a session's last_seen_at is written at most this often
settings: dict[str, Any] = {
    "lifetime": timedelta(days=7),
    "idle_staff": timedelta(hours=8),
    "idle_customer": timedelta(hours=24),
    "per_account": 5,
    "per_address": 20,
    "window": timedelta(minutes=5),
}


def configure(config: Mapping[str, Any]) -> None:
    """Take the session and sign-in rules from the app's configuration."""
    settings.update(
        lifetime=timedelta(days=config["SESSION_DAYS"]),
        idle_staff=timedelta(minutes=config["SESSION_IDLE_MINUTES_STAFF"]),
        idle_customer=timedelta(minutes=config["SESSION_IDLE_MINUTES_CUSTOMER"]),
        per_account=int(config["SIGN_IN_FAILURES_PER_ACCOUNT"]),
        per_address=int(config["SIGN_IN_FAILURES_PER_ADDRESS"]),
        window=timedelta(minutes=config["SIGN_IN_FAILURE_MINUTES"]),
    )
    attempts.settings["keep"] = max(attempts.KEEP, settings["window"])


def _limits(email: str, address: str | None) -> dict[str, int]:
    limits = {attempts.key("account", email): settings["per_account"]}
    if address is not None:
        limits[attempts.key("address", address)] = settings["per_address"]
    return limits


async def refuse_when_limited(*, email: str, address: str | None = None) -> None:
    """RateLimited when the account (or the address) has had too many failures lately."""
    if await attempts.over(_limits(email, address), window=settings["window"]):
        raise RateLimited(TOO_MANY)


async def count_failure(*, email: str, address: str | None = None) -> None:
    """Count one wrong password against the account (and the address)."""
    await attempts.add(_limits(email, address))


async def forget_failures(*, email: str) -> None:
    """The account's failures no longer count (a right password, a new password)."""
    await attempts.forget(attempts.key("account", email))


async def sign_in(*, email: str, password: str, address: str, browser: str = "") -> str:
    """Check the password and open a session; returns the new session id for the cookie.

    The same Unauthorized whether or not the email exists; RateLimited after repeated failures
    for the account or from the address, whichever app process saw them."""
    email = normalise_email(email)
    await refuse_when_limited(email=email, address=address)
    user = await User.get_or_none(email=email)
    if not await passwords.verify(user.password_hash if user else None, password) or not user.active:
        await count_failure(email=email, address=address)
        raise Unauthorized(WRONG_LOGIN)
    await forget_failures(email=email)
    await _upgrade_hash(user, password)
    return await _open_session(user, address=address, browser=browser)


async def _upgrade_hash(user: User, password: str) -> None:
    """Rehash with the current argon2 parameters when the stored hash used others."""
    if passwords.needs_rehash(user.password_hash):
        fresh = await passwords.new_hash(password)
        await User.filter(id=user.id, password_hash=user.password_hash).update(password_hash=fresh)


async def _open_session(user: User, *, address: str, browser: str) -> str:
    session_id, moment = secrets.token_urlsafe(32), attempts.now()
    await WebSession.filter(expires_at__lt=moment).delete()  # expired sessions go at the next sign-in
    await WebSession.create(
        digest=token_digest(session_id), user=user, expires_at=moment + settings["lifetime"],
        last_seen_at=moment, address=address[:64], browser=browser[:200],
    )  # fmt: skip
    return session_id


def _idle_limit(user: User) -> timedelta:
    return settings["idle_staff"] if user.is_staff else settings["idle_customer"]


def _is_live(record: WebSession, user: User, moment: datetime) -> bool:
    """Not past its lifetime, and used within the idle time of the user's role."""
    seen = record.last_seen_at or record.created_at
    return record.expires_at > moment and moment - seen <= _idle_limit(user)


async def user_for_session(session_id: str) -> User | None:
    """The active user signed in with this session id, or None (expired, idle, ended, deactivated).

    Records (at most once a minute) that the session was used; an idle session is ended."""
    record = await cache.sessions.one(token_digest(session_id))
    user = await cache.users.one(record.user_id) if record else None
    if user is None or not user.active:
        return None
    moment = attempts.now()
    if not _is_live(record, user, moment):
        with db.bookkeeping("ending an idle session"):
            await _end(WebSession.filter(digest=record.digest))
        return None
    if record.last_seen_at is None or moment - record.last_seen_at >= SEEN_EVERY:
        record.last_seen_at = moment  # the cached row too: the next requests need not write again
        with db.bookkeeping("recording a session's use"):
            await WebSession.filter(digest=record.digest).update(last_seen_at=moment)
    return user


async def _end(sessions: Any) -> int:
    """Delete the sessions and forget cached ones; the feed tells the other processes to forget theirs."""
    async with in_transaction():
        if ended := await sessions.delete():
            await feed.publish("session.ended")
    cache.changed()
    return ended


async def sign_out(*, session_id: str) -> None:
    """End the session: its row goes, so the cookie is worthless even if it was copied (other
    app processes learn of it from the feed within a second; see services/cache.py)."""
    await _end(WebSession.filter(digest=token_digest(session_id)))


@dataclass
class OpenSession:
    """One of a user's signed-in browsers, as its owner sees it."""

    key: str
    created_at: datetime
    last_seen_at: datetime
    address: str
    browser: str
    current: bool


async def list_sessions(*, actor: User, session_id: str) -> list[OpenSession]:
    """The actor's live sessions, most recently used first; `current` marks this browser's."""
    moment, mine = attempts.now(), token_digest(session_id)
    rows = await WebSession.filter(user_id=actor.id, expires_at__gt=moment)
    live = [row for row in rows if _is_live(row, actor, moment)]
    shown = [
        OpenSession(row.digest, row.created_at, row.last_seen_at or row.created_at,
                    row.address or "", row.browser or "", row.digest == mine)
        for row in live
    ]  # fmt: skip
    return sorted(shown, key=lambda row: (not row.current, -row.last_seen_at.timestamp()))


async def end_session(*, actor: User, key: str) -> None:
    """End one of the actor's own sessions; anyone else's reads as missing."""
    if not await _end(WebSession.filter(user_id=actor.id, digest=key)):
        raise NotFound("That session has already ended.")


async def end_other_sessions(*, actor: User, session_id: str | None) -> int:
    """Sign the actor out everywhere but this browser; returns how many sessions ended."""
    return await end_sessions_of(actor.id, keep=session_id)


async def end_sessions_of(user_id: int, *, keep: str | None = None) -> int:
    """End every session of a user, but the one with session id `keep`."""
    sessions = WebSession.filter(user_id=user_id)
    if keep:
        sessions = sessions.exclude(digest=token_digest(keep))
    return await _end(sessions)
