"""Browser sessions and the sign-in failure limit."""

from datetime import UTC, datetime, timedelta

from helpdesk.models import WebSession
from helpdesk.services import sessions
from helpdesk.services.passwords import hash_password
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
