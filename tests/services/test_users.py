"""Users, passwords and API tokens."""

import pytest

from helpdesk.errors import Conflict, Forbidden, NotFound
from helpdesk.models import ApiToken, User
from helpdesk.services import passwords, users
from tests.factories import make_admin, make_agent, make_customer, make_user


async def test_tokens_are_stored_as_digests_and_resolve_to_their_user(app):
    agent = await make_agent()
    token = await users.create_token(user=agent, name="ci", actor=None)
    stored = await ApiToken.get(user=agent)
    assert token not in stored.digest and stored.digest == users.token_digest(token)
    assert (await users.user_for_token(token)).id == agent.id
    assert await users.user_for_token(token + "x") is None


async def test_tokens_of_deactivated_users_stop_working(app):
    agent = await make_agent()
    token = await users.create_token(user=agent, name="ci", actor=None)
    await User.filter(id=agent.id).update(active=False)
    assert await users.user_for_token(token) is None


async def test_passwords_are_argon2_hashes(app):
    user = await make_user(password="correct horse battery")
    assert user.password_hash.startswith("$argon2id$")
    assert await passwords.verify(user.password_hash, "correct horse battery")
    assert not await passwords.verify(user.password_hash, "wrong")
    assert not await passwords.verify(None, "correct horse battery")


async def test_duplicate_email_is_a_conflict_whatever_its_case(app):
    await make_user(email="a@example.com")
    with pytest.raises(Conflict):
        await make_user(email=" A@Example.com ")


async def test_only_admins_create_users(app):
    agent = await make_agent()
    with pytest.raises(Forbidden):
        await users.create_user(email="x@example.com", name="X", actor=agent)


async def test_admins_cannot_lock_themselves_out(app):
    admin = await make_user(admin=True, agent=True)
    with pytest.raises(Forbidden):
        await users.deactivate_user(user_id=admin.id, actor=admin)
    with pytest.raises(Forbidden):
        await users.update_user(user_id=admin.id, changes={"admin": False}, actor=admin)
    assert (await User.get(id=admin.id)).admin and (await User.get(id=admin.id)).active


async def test_only_admins_create_tokens_even_for_themselves(app):
    agent = await make_agent()
    with pytest.raises(Forbidden):
        await users.create_token(user=agent, name="mine", actor=agent)
    admin = await make_user(admin=True)
    assert (await users.create_token(user=agent, name="for-agent", actor=admin)).startswith("hd_")


async def _refusal(call) -> type[Exception]:
    """The error a service call raises (the test fails if it raises none)."""
    with pytest.raises((Forbidden, NotFound)) as refused:
        await call
    return refused.type


async def test_an_agent_changing_a_user_it_can_see_is_forbidden_and_one_it_cannot_see_is_missing(app):
    """Agents see the active agents and admins (the agents list) and themselves; not customers, not
    deactivated users, not ids that name nobody (DECISIONS 3: 403 only for what the caller sees)."""
    agent, colleague, admin, customer = (
        await make_agent(),
        await make_agent(),
        await make_admin(),
        await make_customer(),
    )
    gone = await make_agent()
    await User.filter(id=gone.id).update(active=False)
    expected = {colleague.id: Forbidden, admin.id: Forbidden, customer.id: NotFound, gone.id: NotFound}
    for user_id, error in (expected | {999_999: NotFound}).items():
        change = users.update_user(user_id=user_id, changes={"name": "X"}, actor=agent, active_only=True)
        assert await _refusal(change) is error, user_id
        assert await _refusal(users.deactivate_user(user_id=user_id, actor=agent)) is error, user_id
    assert await _refusal(users.deactivate_user(user_id=agent.id, actor=agent)) is Forbidden
    assert [u.name for u in await User.filter(id__in=list(expected)).order_by("id")] == [
        colleague.name, admin.name, customer.name, gone.name,
    ]  # fmt: skip
    assert all(u.active for u in await User.filter(id__in=[colleague.id, admin.id, customer.id]))


async def test_a_customer_sees_no_other_user(app):
    customer, agent, other = await make_customer(), await make_agent(), await make_customer()
    for user_id in (agent.id, other.id):
        change = users.update_user(user_id=user_id, changes={"name": "X"}, actor=customer)
        assert await _refusal(change) is NotFound
        assert await _refusal(users.deactivate_user(user_id=user_id, actor=customer)) is NotFound
    assert await _refusal(users.deactivate_user(user_id=customer.id, actor=customer)) is Forbidden
