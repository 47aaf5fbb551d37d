"""The per-process cache: changes through this process apply at once, other processes' changes
within CACHE_SECONDS, and rows that were missing are never remembered as missing."""

from datetime import UTC, datetime

import pytest

from helpdesk.models import ApiToken, State, User
from helpdesk.services import admin, cache, sessions, tickets, users
from tests.factories import make_admin, make_agent, make_ticket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    for each in cache._all:
        monkeypatch.setattr(each, "_clock", fake)
    return fake


async def test_another_process_revoking_a_token_takes_effect_within_cache_seconds(app, clock):
    agent = await make_agent()
    token = await users.create_token(user=agent, name="ci", actor=None)
    assert (await users.user_for_token(token)).id == agent.id
    # Another app process revokes it: this one still has the token in memory...
    await ApiToken.filter(user=agent).update(revoked_at=datetime.now(UTC))
    clock.now += cache.settings["seconds"] - 0.5
    assert (await users.user_for_token(token)).id == agent.id
    # ...for CACHE_SECONDS at most.
    clock.now += 1
    assert await users.user_for_token(token) is None


async def test_revoking_or_deactivating_through_this_process_applies_at_once(app, clock):
    boss, agent = await make_admin(), await make_agent()
    token = await users.create_token(user=agent, name="ci", actor=boss)
    other = await users.create_token(user=boss, name="mine", actor=boss)
    assert await users.user_for_token(token) and await users.user_for_token(other)
    record = await ApiToken.get(user=agent)
    await admin.revoke_token(user_id=agent.id, token_id=record.id, actor=boss)
    assert await users.user_for_token(token) is None
    second = await users.create_token(user=agent, name="again", actor=boss)
    assert (await users.user_for_token(second)).id == agent.id
    await users.deactivate_user(user_id=agent.id, actor=boss)
    assert await users.user_for_token(second) is None
    assert (await users.user_for_token(other)).id == boss.id


async def test_signing_out_ends_the_session_at_once(app, clock):
    await users.create_user(email="a@example.com", name="A", actor=None, agent=True, password="pw-123456789")
    session_id = await sessions.sign_in(email="a@example.com", password="pw-123456789", address="127.0.0.1")
    assert (await sessions.user_for_session(session_id)).email == "a@example.com"
    await sessions.sign_out(session_id=session_id)
    assert await sessions.user_for_session(session_id) is None


async def test_a_token_made_by_another_process_works_at_once(app, clock):
    agent = await make_agent()
    token = users.TOKEN_PREFIX + "made-elsewhere"
    assert await users.user_for_token(token) is None
    assert users.token_digest(token) not in cache.tokens._entries  # missing is not remembered
    # bulk_create sends no save signal, so nothing in this process clears the cache: as if the
    # row came from another process.
    await ApiToken.bulk_create([ApiToken(user=agent, name="elsewhere", digest=users.token_digest(token))])
    assert (await users.user_for_token(token)).id == agent.id


async def test_a_renamed_state_shows_on_tickets_within_cache_seconds(app, clock):
    agent = await make_agent()
    ticket = await make_ticket(agent)
    loaded = await tickets.load(human_id=ticket.human_id, actor=agent, related=True)
    old_name = loaded.state.description
    await State.filter(id=loaded.state_id).update(description="Renamed elsewhere")
    again = await tickets.load(human_id=ticket.human_id, actor=agent, related=True)
    assert again.state.description == old_name
    clock.now += cache.settings["seconds"] + 0.1
    again = await tickets.load(human_id=ticket.human_id, actor=agent, related=True)
    assert again.state.description == "Renamed elsewhere"


async def test_cache_seconds_zero_turns_caching_off(app, clock):
    agent = await make_agent()
    token = await users.create_token(user=agent, name="ci", actor=None)
    cache.configure(0)
    try:
        assert (await users.user_for_token(token)).name == agent.name
        await User.filter(id=agent.id).update(name="Renamed")
        assert (await users.user_for_token(token)).name == "Renamed"
    finally:
        cache.configure(app.config["CACHE_SECONDS"])


async def test_a_load_overtaken_by_a_change_is_not_kept(app, clock):
    """A token read from the database while this process revoked it must not go back into the
    cache afterwards (it would have worked for CACHE_SECONDS more)."""
    agent = await make_agent()
    token = await users.create_token(user=agent, name="ci", actor=None)
    real_load = cache.tokens._load

    async def load_then_revoke(digests):
        loaded = await real_load(digests)  # the row as it was, still valid...
        record = await ApiToken.get(user=agent)
        await ApiToken.filter(id=record.id).update(revoked_at=datetime.now(UTC))
        cache.changed()  # ...while the revocation lands, as admin.revoke_token does
        return loaded

    cache.tokens._load = load_then_revoke
    try:
        assert (await users.user_for_token(token)).id == agent.id  # this request had read it first
    finally:
        cache.tokens._load = real_load
    assert await users.user_for_token(token) is None


async def test_signing_in_or_making_a_token_keeps_what_is_cached(app, clock):
    agent = await make_agent()
    ticket = await make_ticket(agent)
    await users.create_user(email="b@example.com", name="B", actor=None, agent=True, password="pw-123456789")
    await tickets.load(human_id=ticket.human_id, actor=agent, related=True)
    cached = dict(cache.states._entries)
    assert cached  # the ticket's states are cached...
    await sessions.sign_in(email="b@example.com", password="pw-123456789", address="127.0.0.1")
    await users.create_token(user=agent, name="ci", actor=None)
    assert cache.states._entries == cached  # ...and a sign-in or a new token did not empty them
