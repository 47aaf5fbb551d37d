"""Admin actions say what they did, deactivation and revocation ask first, deactivated users can
come back, and a new API token is shown once without being created again by a reload (issue 16
items 5 and 9)."""

import re

from helpdesk.models import ApiToken, Group, GroupMember, User
from helpdesk.services import users
from helpdesk.services.users import user_for_token
from tests.factories import make_admin, make_agent
from tests.web.conftest import csrf_token, sign_in

NOTICE = re.compile(r'<div class="notice" role="status">(.*?)</div>', re.DOTALL)
TOKEN = re.compile(r'id="new-token" class="token" readonly value="([^"]+)"')


async def admin_client(client):
    await sign_in(client, await make_admin())
    return client, await csrf_token(client, "/admin/users")


async def notice_after(client, response) -> str:
    """Follow the redirect a post answered with and read the notice the page shows."""
    assert response.status_code == 303, await response.get_data(as_text=True)
    html = await (await client.get(response.headers["Location"])).get_data(as_text=True)
    found = NOTICE.search(html)
    assert found, "no notice on the page after the action"
    return " ".join(found.group(1).split())


async def test_each_admin_action_says_what_it_did_once(client):
    client, token = await admin_client(client)
    agent = await make_agent(name="Olu")

    async def said(url: str, **form: str) -> str:
        return await notice_after(client, await client.post(url, form={"csrf_token": token, **form}))

    assert "Nia" in await said("/admin/users", name="Nia", email="nia@example.com", agent="y")
    nia = await User.get(email="nia@example.com")
    assert "Saved" in await said(f"/admin/users/{nia.id}", name="Nia B", email=nia.email, agent="y")
    assert "Network" in await said("/admin/groups", name="Network")
    group = await Group.get(name="Network")
    assert "Olu" in await said(f"/admin/groups/{group.id}/members", user=str(agent.id))
    assert "Waiting" in await said("/admin/states", kind="1", description="Waiting")
    assert "Acme" in await said(
        "/admin/organisations", human_id="ORG-A", name="Acme", legal_name="Acme plc", role="customer"
    )
    # A notice is said once: the page after it has none.
    html = await (await client.get("/admin/organisations")).get_data(as_text=True)
    assert not NOTICE.search(html)


async def test_deactivation_asks_first_then_says_so_and_the_user_can_come_back(client):
    client, token = await admin_client(client)
    nia = await make_agent(name="Nia")
    page = await (await client.get(f"/admin/users/{nia.id}")).get_data(as_text=True)
    ask = f"/admin/users/{nia.id}/deactivate"
    assert f'href="{ask}"' in page  # a link to the question, not a button that acts at once
    question = await client.get(ask)
    html = await question.get_data(as_text=True)
    assert question.status_code == 200 and "Deactivate Nia?" in html
    assert f'action="{ask}"' in html and 'name="csrf_token"' in html
    assert (await User.get(id=nia.id)).active, "asking changed nothing"
    assert "deactivated" in await notice_after(client, await client.post(ask, form={"csrf_token": token}))
    assert not (await User.get(id=nia.id)).active
    page = await (await client.get(f"/admin/users/{nia.id}")).get_data(as_text=True)
    assert "Reactivate Nia" in page
    back = await client.post(f"/admin/users/{nia.id}/reactivate", form={"csrf_token": token})
    assert "active again" in await notice_after(client, back)
    assert (await User.get(id=nia.id)).active


async def test_deactivation_revokes_the_users_tokens_so_none_shows_a_live_revoke_button(client):
    client, token = await admin_client(client)
    nia = await make_agent(name="Nia")
    secret = await users.create_token(user=nia, name="ci", actor=None)
    await client.post(f"/admin/users/{nia.id}/deactivate", form={"csrf_token": token})
    assert (await ApiToken.get(user_id=nia.id)).revoked_at is not None
    html = await (await client.get(f"/admin/users/{nia.id}")).get_data(as_text=True)
    assert "/revoke" not in html and "Revoked" in html
    await client.post(f"/admin/users/{nia.id}/reactivate", form={"csrf_token": token})
    assert await user_for_token(secret) is None, "reactivation does not bring old tokens back"


async def test_revoking_a_token_asks_first_then_says_so(client):
    client, token = await admin_client(client)
    nia = await make_agent(name="Nia")
    await users.create_token(user=nia, name="ci", actor=None)
    record = await ApiToken.get(user_id=nia.id)
    ask = f"/admin/users/{nia.id}/tokens/{record.id}/revoke"
    page = await (await client.get(f"/admin/users/{nia.id}")).get_data(as_text=True)
    assert f'href="{ask}"' in page
    question = await client.get(ask)
    assert question.status_code == 200 and "Revoke the token ci?" in await question.get_data(as_text=True)
    assert (await ApiToken.get(id=record.id)).revoked_at is None
    assert "ci" in await notice_after(client, await client.post(ask, form={"csrf_token": token}))
    assert (await ApiToken.get(id=record.id)).revoked_at is not None


async def test_a_new_token_is_shown_once_and_a_reload_creates_no_second(client):
    """Reloading the page that showed a new token posted the form again: a second token."""
    client, token = await admin_client(client)
    nia = await make_agent()
    created = await client.post(f"/admin/users/{nia.id}/tokens", form={"csrf_token": token, "name": "ci"})
    assert created.status_code == 303
    shown = await client.get(created.headers["Location"])
    secret = TOKEN.search(await shown.get_data(as_text=True))
    assert secret and await user_for_token(secret.group(1))
    assert shown.headers["Cache-Control"] == "no-store"
    reload = await (await client.get(created.headers["Location"])).get_data(as_text=True)
    assert secret.group(1) not in reload and not TOKEN.search(reload)
    assert await ApiToken.filter(user_id=nia.id).count() == 1


async def test_removing_a_member_says_so(client):
    client, token = await admin_client(client)
    agent, group = await make_agent(name="Olu"), await Group.create(name="Desk")
    await GroupMember.create(group=group, user=agent)
    removed = await client.post(
        f"/admin/groups/{group.id}/members/{agent.id}/remove", form={"csrf_token": token}
    )
    assert "Olu" in await notice_after(client, removed)
