"""Browser sessions and the sign-in failure limit."""

from datetime import UTC, datetime, timedelta

from helpdesk.models import WebSession
from helpdesk.services import sessions
from helpdesk.services.users import hash_password
from tests.factories import make_agent


async def test_signing_in_removes_expired_sessions_and_keeps_live_ones(app):
    agent = await make_agent()
    await agent.__class__.filter(id=agent.id).update(password_hash=hash_password("pw-for-the-test"))
    old = await sessions.sign_in(email=agent.email, password="pw-for-the-test", address="127.0.0.1")
    live = await sessions.sign_in(email=agent.email, password="pw-for-the-test", address="127.0.0.1")
    await WebSession.filter(digest=sessions.token_digest(old)).update(
        expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    await sessions.sign_in(email=agent.email, password="pw-for-the-test", address="127.0.0.1")
    assert not await WebSession.exists(digest=sessions.token_digest(old))
    assert await sessions.user_for_session(live) is not None
    assert await WebSession.all().count() == 2


def test_failure_limiter_forgets_stale_keys_past_its_size(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(sessions.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(sessions, "MAX_TRACKED", 100)
    limiter = sessions.FailureLimiter(limit=3, window=60)
    for n in range(100):
        limiter.fail((f"user{n}@x.example", "10.0.0.1"))
    clock[0] += 61  # every earlier failure is now outside the window
    limiter.fail(("last@x.example", "10.0.0.1"))
    limiter.fail(("one-more@x.example", "10.0.0.1"))
    assert len(limiter._failures) == 2
    for _ in range(3):
        limiter.fail(("victim@x.example", "10.0.0.2"))
    assert limiter.blocked(("victim@x.example", "10.0.0.2"))
