"""Browser sessions: sign-in failure limits, idle timeout, listing and ending sessions."""

from datetime import UTC, datetime, timedelta

import pytest
from tortoise.exceptions import OperationalError
from tortoise.queryset import UpdateQuery

from helpdesk.errors import NotFound, RateLimited, Unauthorized
from helpdesk.models import Attempt, WebSession
from helpdesk.services import attempts, sessions
from helpdesk.services.passwords import hash_password
from tests.factories import make_agent, make_customer
from tests.test_database_faults import READ_ONLY, wrapped


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


PASSWORD = "pw-for-the-test"  # noqa: S105 - test password


class Clock:
    """A fake time for sessions and attempt counts."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(attempts, "now", fake)
    return fake


async def fail(email: str, address: str = "10.0.0.1") -> Exception:
    with pytest.raises((Unauthorized, RateLimited)) as refused:
        await sessions.sign_in(email=email, password="a wrong guess", address=address)
    return refused.value


async def test_failures_are_limited_per_account_from_any_address(app):
    agent = await make_agent(password=PASSWORD)
    for n in range(5):
        assert isinstance(await fail(agent.email, f"10.0.0.{n}"), Unauthorized)
    assert isinstance(await fail(agent.email, "10.9.9.9"), RateLimited)
    with pytest.raises(RateLimited):
        await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.9.9.9")


async def test_failures_are_limited_per_address_across_accounts(app):
    await make_agent(email="victim@example.com", password=PASSWORD)
    for n in range(20):
        assert isinstance(await fail(f"guess{n}@example.com"), Unauthorized)
    with pytest.raises(RateLimited):
        await sessions.sign_in(email="victim@example.com", password=PASSWORD, address="10.0.0.1")
    assert await sessions.sign_in(email="victim@example.com", password=PASSWORD, address="10.0.0.2")


async def test_failures_stop_counting_after_the_window_and_old_rows_are_pruned(app, clock):
    agent = await make_agent(password=PASSWORD)
    for _ in range(5):
        await fail(agent.email)
    assert isinstance(await fail(agent.email), RateLimited)
    clock.advance(minutes=5, seconds=1)
    assert isinstance(await fail(agent.email), Unauthorized)
    clock.advance(hours=1, seconds=1)
    await fail("someone@example.com")
    assert await Attempt.all().count() == 2  # the last failure, per account and per address


async def test_a_right_password_clears_the_account_but_not_the_address(app):
    agent = await make_agent(password=PASSWORD)
    for _ in range(4):
        await fail(agent.email)
    await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1")
    for _ in range(4):
        assert isinstance(await fail(agent.email), Unauthorized)
    assert await Attempt.filter(key=attempts.key("address", "10.0.0.1")).count() == 8


async def test_a_session_ends_after_the_idle_time_of_its_users_role(app, clock):
    agent = await make_agent(password=PASSWORD)
    customer = await make_customer(password=PASSWORD)
    staff_sid = await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1")
    customer_sid = await sessions.sign_in(email=customer.email, password=PASSWORD, address="10.0.0.1")
    clock.advance(hours=7, minutes=59)
    assert await sessions.user_for_session(staff_sid) is not None  # used: the idle time restarts
    clock.advance(hours=8, minutes=1)
    assert await sessions.user_for_session(staff_sid) is None
    assert not await WebSession.exists(user_id=agent.id)  # an idle session is ended, not revived
    assert await sessions.user_for_session(customer_sid) is not None
    clock.advance(hours=24, seconds=1)
    assert await sessions.user_for_session(customer_sid) is None


async def test_last_seen_is_written_at_most_once_a_minute(app, clock):
    agent = await make_agent(password=PASSWORD)
    sid = await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1")
    opened = (await WebSession.get(user_id=agent.id)).last_seen_at
    clock.advance(seconds=30)
    await sessions.user_for_session(sid)
    assert (await WebSession.get(user_id=agent.id)).last_seen_at == opened
    clock.advance(seconds=31)
    await sessions.user_for_session(sid)
    assert (await WebSession.get(user_id=agent.id)).last_seen_at == clock.moment


async def test_a_user_lists_and_ends_only_their_own_sessions(app):
    agent, other = await make_agent(password=PASSWORD), await make_agent(password=PASSWORD)
    here = await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1", browser="Firefox")
    there = await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.2", browser="Chrome")
    theirs = await sessions.sign_in(email=other.email, password=PASSWORD, address="10.0.0.3")
    listed = await sessions.list_sessions(actor=agent, session_id=here)
    assert [(s.browser, s.address, s.current) for s in listed] == [
        ("Firefox", "10.0.0.1", True),
        ("Chrome", "10.0.0.2", False),
    ]
    with pytest.raises(NotFound):
        await sessions.end_session(actor=agent, key=sessions.token_digest(theirs))
    await sessions.end_session(actor=agent, key=listed[1].key)
    assert await sessions.user_for_session(there) is None
    assert await sessions.user_for_session(here) is not None
    assert await sessions.user_for_session(theirs) is not None


async def test_signing_out_everywhere_else_keeps_this_browser(app):
    agent = await make_agent(password=PASSWORD)
    here, *others = [
        await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1") for _ in range(3)
    ]
    assert await sessions.end_other_sessions(actor=agent, session_id=here) == 2
    assert await sessions.user_for_session(here) is not None
    assert [await sessions.user_for_session(sid) for sid in others] == [None, None]


async def test_a_database_taking_no_writes_still_lets_a_session_be_used(app, clock, monkeypatch):
    """Recording a session's use is bookkeeping: a read-only database does not fail the request."""
    agent = await make_agent(password=PASSWORD)
    sid = await sessions.sign_in(email=agent.email, password=PASSWORD, address="10.0.0.1")

    async def read_only(*args, **kwargs):
        raise wrapped(READ_ONLY, OperationalError)

    monkeypatch.setattr(UpdateQuery, "_execute", read_only)
    clock.advance(minutes=2)
    assert (await sessions.user_for_session(sid)).id == agent.id
