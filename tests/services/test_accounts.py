"""Password change, reset by emailed link, invitations, and confirmed email changes (issue 12)."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.errors import Forbidden, Invalid, LinkExpired, LinkGone, LinkUsed, RateLimited
from helpdesk.models import OutboxEmail, User
from helpdesk.services import accounts, links, passwords, sessions, users
from tests.factories import make_agent, make_user

OLD, NEW = "the old passphrase", "a brand new passphrase"  # test passwords
LINK = re.compile(r"http://testserver\.local(/\S+)/(\S+)")


async def last_link(recipient: str) -> str:
    """The token of the newest link emailed to the recipient."""
    email = await OutboxEmail.filter(recipient=recipient).order_by("-id").first()
    return LINK.search(email.body_text).group(2)


async def sign_in(user: User, password: str = OLD) -> str:
    return await sessions.sign_in(email=user.email, password=password, address="10.0.0.1")


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(app):
    agent = await make_agent(password=OLD)
    here, elsewhere = await sign_in(agent), await sign_in(agent)
    with pytest.raises(Invalid) as wrong:
        await accounts.change_password(
            actor=agent, current_password="not it at all", new_password=NEW, session_id=here
        )
    assert "current_password" in wrong.value.errors
    with pytest.raises(Invalid) as short:
        await accounts.change_password(
            actor=agent, current_password=OLD, new_password="short", session_id=here
        )
    assert "new_password" in short.value.errors
    await accounts.change_password(actor=agent, current_password=OLD, new_password=NEW, session_id=here)
    assert await sessions.user_for_session(here) is not None
    assert await sessions.user_for_session(elsewhere) is None
    assert await sign_in(agent, NEW)


async def test_wrong_current_passwords_count_as_failed_sign_ins(app):
    agent = await make_agent(password=OLD)
    here = await sign_in(agent)
    for _ in range(5):
        with pytest.raises(Invalid):
            await accounts.change_password(
                actor=agent, current_password="guess guess!", new_password=NEW, session_id=here
            )
    with pytest.raises(RateLimited):
        await accounts.change_password(actor=agent, current_password=OLD, new_password=NEW, session_id=here)


async def test_a_reset_is_asked_with_one_answer_and_emailed_only_to_an_account(app):
    agent = await make_agent(password=OLD)
    known = await accounts.request_password_reset(email=agent.email.upper(), config=app.config)
    unknown = await accounts.request_password_reset(email="nobody@example.com", config=app.config)
    assert known == unknown
    assert await OutboxEmail.filter(recipient=agent.email).count() == 1
    assert await OutboxEmail.all().count() == 1


async def test_a_reset_link_sets_the_password_once_and_ends_every_session(app):
    agent = await make_agent(password=OLD)
    session_id = await sign_in(agent)
    await accounts.request_password_reset(email=agent.email, config=app.config)
    token = await last_link(agent.email)
    assert (
        await accounts.read_password_link(token=token, purpose=links.PASSWORD_RESET, config=app.config)
    ).id == agent.id
    with pytest.raises(Invalid):
        await accounts.set_password_from_link(
            token=token, purpose=links.PASSWORD_RESET, password="short", config=app.config
        )
    await accounts.set_password_from_link(
        token=token, purpose=links.PASSWORD_RESET, password=NEW, config=app.config
    )
    assert await sessions.user_for_session(session_id) is None
    assert await sign_in(agent, NEW)
    with pytest.raises(LinkUsed):
        await accounts.set_password_from_link(
            token=token, purpose=links.PASSWORD_RESET, password=OLD + "!", config=app.config
        )


async def test_a_reset_link_dies_when_the_password_changes_otherwise(app):
    agent = await make_agent(password=OLD)
    await accounts.request_password_reset(email=agent.email, config=app.config)
    token = await last_link(agent.email)
    await accounts.change_password(actor=agent, current_password=OLD, new_password=NEW, session_id="")
    with pytest.raises(LinkGone):
        await accounts.read_password_link(token=token, purpose=links.PASSWORD_RESET, config=app.config)


async def test_reset_links_expire_and_serve_no_other_purpose(app):
    agent = await make_agent(password=OLD)
    await accounts.request_password_reset(email=agent.email, config=app.config)
    token = await last_link(agent.email)
    later = datetime.now(UTC) + timedelta(hours=app.config["PASSWORD_LINK_HOURS"], minutes=1)
    with pytest.raises(LinkExpired):
        links.read(token, purpose=links.PASSWORD_RESET, config=app.config, now=later)
    with pytest.raises(Exception, match="altered"):
        await accounts.read_password_link(token=token, purpose=links.INVITATION, config=app.config)


async def test_reset_emails_per_account_are_limited(app):
    agent = await make_agent(password=OLD)
    for _ in range(5):
        await accounts.request_password_reset(email=agent.email, config=app.config)
    assert await OutboxEmail.filter(recipient=agent.email).count() == users.LINK_EMAILS_PER_HOUR


async def test_an_invited_user_chooses_their_own_password(app):
    admin = await make_user(admin=True)
    nia = await users.invite_user(
        email="nia@example.com", name="Nia", agent=True, actor=admin, config=app.config
    )
    assert nia.password_hash is None
    token = await last_link("nia@example.com")
    await accounts.set_password_from_link(
        token=token, purpose=links.INVITATION, password=NEW, config=app.config
    )
    assert await passwords.verify((await User.get(id=nia.id)).password_hash, NEW)
    with pytest.raises(LinkUsed):
        await accounts.read_password_link(token=token, purpose=links.INVITATION, config=app.config)


async def test_only_admins_invite(app):
    agent = await make_agent()
    with pytest.raises(Forbidden):
        await users.invite_user(email="x@example.com", name="X", actor=agent, config=app.config)
    assert not await OutboxEmail.exists()


async def test_an_own_email_change_waits_for_the_link_sent_to_the_new_address(app):
    agent = await make_agent(email="priya@example.com")
    await users.update_user(
        user_id=agent.id, changes={"email": "Priya.New@example.com"}, actor=agent, config=app.config
    )
    assert (await User.get(id=agent.id)).email == "priya@example.com"
    token = await last_link("priya.new@example.com")
    assert await users.read_email_link(token=token, config=app.config) == (agent, "priya.new@example.com")
    await users.confirm_email_change(token=token, config=app.config)
    assert (await User.get(id=agent.id)).email == "priya.new@example.com"
    assert await OutboxEmail.exists(recipient="priya@example.com", subject__contains="changed")
    with pytest.raises(LinkUsed):
        await users.confirm_email_change(token=token, config=app.config)


async def test_an_email_change_to_a_taken_address_reads_like_any_other(app):
    await make_user(email="taken@example.com")
    agent = await make_agent()
    free = await users.request_email_change(actor=agent, new_email="free@example.com", config=app.config)
    taken = await users.request_email_change(actor=agent, new_email="taken@example.com", config=app.config)
    assert taken == free.replace("free@", "taken@")
    assert not await OutboxEmail.exists(recipient="taken@example.com")


async def test_an_email_link_dies_when_the_address_is_taken_meanwhile(app):
    agent = await make_agent()
    await users.request_email_change(actor=agent, new_email="wanted@example.com", config=app.config)
    await make_user(email="wanted@example.com")
    with pytest.raises(LinkGone):
        await users.confirm_email_change(token=await last_link("wanted@example.com"), config=app.config)
    assert (await User.get(id=agent.id)).email == agent.email


async def test_admins_still_change_other_users_emails_directly(app):
    admin, agent = await make_user(admin=True), await make_agent()
    await users.update_user(
        user_id=agent.id, changes={"email": "moved@example.com"}, actor=admin, config=app.config
    )
    assert (await User.get(id=agent.id)).email == "moved@example.com"
