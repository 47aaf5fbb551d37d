"""Browser sign-in: password checks with a failure limit, and server-side sessions."""

import secrets
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta

from helpdesk.errors import RateLimited, Unauthorized
from helpdesk.models import User, WebSession
from helpdesk.services import cache
from helpdesk.services.users import normalise_email, password_matches, token_digest

SESSION_LIFETIME = timedelta(days=7)
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0  # seconds
MAX_TRACKED = 10_000  # (email, address) keys kept before stale ones are dropped
WRONG_LOGIN = "That email and password do not match an active account."


class FailureLimiter:
    """Counts failed sign-ins per (email, address) in a sliding window.

    In memory, so each app process counts on its own and a restart forgets: enough to stop
    password guessing through one process; several processes would share a table or Redis."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        times, oldest = self._failures[key], time.monotonic() - self.window
        while times and times[0] < oldest:
            times.popleft()
        return times

    def blocked(self, key: tuple[str, str]) -> bool:
        return len(self._recent(key)) >= self.limit

    def fail(self, key: tuple[str, str]) -> None:
        self._recent(key).append(time.monotonic())
        if len(self._failures) > MAX_TRACKED:
            self._forget_stale()

    def _forget_stale(self) -> None:
        """Drop keys with no failure left in the window, so spraying many emails cannot grow memory."""
        for stale in [key for key in self._failures if not self._recent(key)]:
            del self._failures[stale]

    def clear(self, key: tuple[str, str]) -> None:
        self._failures.pop(key, None)


limiter = FailureLimiter()


async def sign_in(*, email: str, password: str, address: str) -> str:
    """Check the password and open a session; returns the new session id for the cookie.

    The same Unauthorized whether or not the email exists; RateLimited after repeated failures."""
    key = (normalise_email(email), address)
    if limiter.blocked(key):
        raise RateLimited("Too many failed sign-ins. Wait a few minutes and try again.")
    user = await User.get_or_none(email=key[0])
    if not password_matches(user, password) or user is None:
        limiter.fail(key)
        raise Unauthorized(WRONG_LOGIN)
    limiter.clear(key)
    session_id = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await WebSession.filter(expires_at__lt=now).delete()  # expired sessions go at the next sign-in
    await WebSession.create(digest=token_digest(session_id), user=user, expires_at=now + SESSION_LIFETIME)
    return session_id


async def user_for_session(session_id: str) -> User | None:
    """The active user signed in with this session id, or None (expired, ended, deactivated)."""
    record = await cache.sessions.one(token_digest(session_id))
    if record is None or record.expires_at <= datetime.now(UTC):
        return None
    user = await cache.users.one(record.user_id)
    return user if user is not None and user.active else None


async def sign_out(*, session_id: str) -> None:
    """End the session: its row goes, so the cookie is worthless even if it was copied (other
    app processes may accept it for CACHE_SECONDS more; see services/cache.py)."""
    await WebSession.filter(digest=token_digest(session_id)).delete()
    cache.changed()
