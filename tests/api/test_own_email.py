"""PATCH of one's own email: confirmed by a link sent to the new address, never a 409 that tells
which addresses have accounts (issue 12, finding 6)."""

from helpdesk.models import OutboxEmail, User
from tests.factories import make_user


async def test_an_own_email_change_is_202_alike_and_waits_for_the_link(agent):
    await make_user(email="priya@example.com")
    taken = await agent.patch(f"/api/users/{agent.user.id}", json={"email": "priya@example.com"})
    free = await agent.patch(f"/api/users/{agent.user.id}", json={"email": "fresh@example.com", "name": "Me"})
    assert taken.status_code == free.status_code == 202
    assert await taken.get_data() == await free.get_data()
    user = await User.get(id=agent.user.id)
    assert user.email == agent.user.email and user.name == "Me"
    assert await OutboxEmail.filter(recipient="fresh@example.com").count() == 1
    assert not await OutboxEmail.exists(recipient="priya@example.com")


async def test_an_admin_still_changes_another_users_email_at_once(admin, agent):
    response = await admin.patch(f"/api/users/{agent.user.id}", json={"email": "moved@example.com"})
    assert response.status_code == 202
    assert (await User.get(id=agent.user.id)).email == "moved@example.com"
