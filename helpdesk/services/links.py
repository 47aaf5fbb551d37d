"""Signed, expiring, single-use links sent by email about an account: password reset, invitation,
email change. The same machinery as the contact-confirmation links (itsdangerous signatures, the
consumed_token table); each purpose signs with its own salt, so no link serves another purpose."""

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from tortoise.exceptions import IntegrityError

from helpdesk.errors import LinkExpired, LinkGone, LinkRefused, LinkUsed
from helpdesk.models import ConsumedToken, User, ids_in_range

PASSWORD_RESET = "helpdesk.password-reset"  # noqa: S105 - a salt naming a purpose
INVITATION = "helpdesk.invitation"
EMAIL_CHANGE = "helpdesk.email-change"
PATHS = {
    PASSWORD_RESET: "/password/reset/",
    INVITATION: "/password/invitation/",
    EMAIL_CHANGE: "/account/email/",
}
HOURS = {
    PASSWORD_RESET: "PASSWORD_LINK_HOURS",
    INVITATION: "INVITATION_LINK_HOURS",
    EMAIL_CHANGE: "PASSWORD_LINK_HOURS",
}
ALTERED = "This link is incomplete or has been altered."


def _serializer(config: Mapping[str, Any], purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=purpose)


def password_stamp(user: User) -> str:
    """A short digest of the user's password hash: a link signed over it dies when the password changes."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def url(config: Mapping[str, Any], *, purpose: str, payload: dict[str, Any]) -> str:
    """The link: BASE_URL (never the request's host), the purpose's path, a signed token."""
    token = _serializer(config, purpose).dumps(payload)
    return f"{config['BASE_URL'].rstrip('/')}{PATHS[purpose]}{token}"


def hours(config: Mapping[str, Any], purpose: str) -> int:
    """How long a link of this purpose lasts."""
    return int(config[HOURS[purpose]])


def read(token: str, *, purpose: str, config: Mapping[str, Any], now: datetime | None = None) -> dict:
    """The payload of a genuine, unexpired link of this purpose, or the reason it cannot be used."""
    try:
        payload, signed_at = _serializer(config, purpose).loads(token, return_timestamp=True)
    except (BadData, UnicodeError, ValueError):
        raise LinkRefused(ALTERED) from None
    if (now or datetime.now(UTC)) - signed_at > timedelta(hours=hours(config, purpose)):
        raise LinkExpired("This link has expired.")
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        raise LinkRefused(ALTERED)
    return payload


def _digest(token: str, purpose: str) -> str:
    """The key a link is consumed under: its signed part (several spellings of the signature
    verify), with the purpose, so it never meets another purpose's key."""
    return hashlib.sha256(f"{purpose}:{token.rpartition('.')[0]}".encode()).hexdigest()


async def refuse_used(token: str, *, purpose: str) -> None:
    """LinkUsed when the link has been consumed already."""
    if await ConsumedToken.exists(digest=_digest(token, purpose)):
        raise LinkUsed("This link has already been used.")


async def consume(token: str, *, purpose: str) -> None:
    """Mark the link used, once: call it inside the transaction of the change it makes."""
    try:
        await ConsumedToken.create(digest=_digest(token, purpose), purpose=purpose)
    except IntegrityError:
        raise LinkUsed("This link has already been used.") from None


async def user_of(payload: dict, *, stamped: bool = True) -> User:
    """The active user a link names; with `stamped`, only while their password is unchanged."""
    user = await User.get_or_none(id=payload["user"], active=True) if ids_in_range(payload["user"]) else None
    if user is None:
        raise LinkGone("The account this link was sent for no longer exists.")
    if stamped and payload.get("pw") != password_stamp(user):
        raise LinkGone("The password has been set since this link was sent. Ask for a new link.")
    return user
