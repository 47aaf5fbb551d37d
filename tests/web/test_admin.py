"""Admin screens: only admins, users and tokens, groups, the catalogue, organisations."""

import re

import pytest

from helpdesk.models import ApiToken, Group, GroupMember, Organisation, State, User, WebSession
from helpdesk.services.users import user_for_token
from tests.factories import make_admin, make_agent, make_customer
from tests.web.conftest import csrf_token, sign_in


async def post(client, url: str, token: str, **form):
    return await client.post(url, form={"csrf_token": token, **form})


PAGES = ("/admin/", "/admin/users", "/admin/groups", "/admin/states", "/admin/organisations")


@pytest.fixture
async def admin_client(client):
    admin = await make_admin()
    await sign_in(client, admin)
    return client


@pytest.mark.parametrize("maker", [make_agent, make_customer])
async def test_only_admins_get_in(client, maker):
    await sign_in(client, await maker())
    for path in PAGES:
        assert (await client.get(path)).status_code == 403, path
    token = await csrf_token(client, "/tickets/new")
    response = await client.post("/admin/groups", form={"csrf_token": token, "name": "Sneaky"})
    assert response.status_code == 403 and not await Group.exists(name="Sneaky")


async def test_every_admin_page_renders(admin_client):
    for path in PAGES:
        assert (await admin_client.get(path)).status_code == 200, path


async def test_create_edit_and_deactivate_a_user(admin_client):
    token = await csrf_token(admin_client, "/admin/users")
    form = {
        "csrf_token": token,
        "name": "Nia",
        "email": "nia@example.com",
        "agent": "y",
    }
    assert (await admin_client.post("/admin/users", form=form)).status_code == 303
    nia = await User.get(email="nia@example.com")
    assert nia.agent and not nia.admin
    duplicate = await admin_client.post("/admin/users", form=form)
    assert duplicate.status_code == 409 and "already exists" in await duplicate.get_data(as_text=True)
    edit = {"csrf_token": token, "name": "Nia B", "email": nia.email, "admin": "y"}
    assert (await admin_client.post(f"/admin/users/{nia.id}", form=edit)).status_code == 303
    nia = await User.get(id=nia.id)
    assert (nia.name, nia.admin, nia.agent) == ("Nia B", True, False)
    await WebSession.create(digest="d" * 64, user=nia, expires_at="2099-01-01T00:00:00+00:00")
    response = await admin_client.post(f"/admin/users/{nia.id}/deactivate", form={"csrf_token": token})
    assert response.status_code == 303
    assert not (await User.get(id=nia.id)).active and not await WebSession.exists(user_id=nia.id)


async def test_a_token_is_shown_once_and_can_be_revoked(admin_client):
    agent = await make_agent()
    token = await csrf_token(admin_client, "/admin/users")
    response = await admin_client.post(
        f"/admin/users/{agent.id}/tokens", form={"csrf_token": token, "name": "ci"}
    )
    assert response.status_code == 303
    shown = await admin_client.get(response.headers["Location"])
    assert shown.headers["Cache-Control"] == "no-store"
    secret = re.search(
        r'id="new-token" class="token" readonly value="([^"]+)"', await shown.get_data(as_text=True)
    )
    assert secret and await user_for_token(secret.group(1))
    assert secret.group(1) not in await (await admin_client.get(f"/admin/users/{agent.id}")).get_data(
        as_text=True
    )
    record = await ApiToken.get(user_id=agent.id)
    revoke = await admin_client.post(
        f"/admin/users/{agent.id}/tokens/{record.id}/revoke", form={"csrf_token": token}
    )
    assert revoke.status_code == 303 and await user_for_token(secret.group(1)) is None


async def test_groups_and_membership(admin_client):
    agent = await make_agent()
    token = await csrf_token(admin_client, "/admin/groups")
    assert (
        await admin_client.post("/admin/groups", form={"csrf_token": token, "name": "Network"})
    ).status_code == 303
    group = await Group.get(name="Network")
    add = await admin_client.post(
        f"/admin/groups/{group.id}/members", form={"csrf_token": token, "user": agent.id}
    )
    assert add.status_code == 303 and await GroupMember.exists(group=group, user=agent)
    url = f"/admin/groups/{group.id}/members/{agent.id}/remove"
    assert (await admin_client.post(url, form={"csrf_token": token})).status_code == 303
    assert not await GroupMember.exists(group=group, user=agent)


async def test_state_catalogue(admin_client):
    token = await csrf_token(admin_client, "/admin/states")
    form = {"csrf_token": token, "kind": "1", "description": "Waiting on customer", "position": "3"}
    assert (await admin_client.post("/admin/states", form=form)).status_code == 303
    state = await State.get(description="Waiting on customer")
    form |= {"description": "Waiting for customer", "closes": "y"}
    assert (await admin_client.post(f"/admin/states/{state.id}", form=form)).status_code == 303
    state = await State.get(id=state.id)
    assert state.description == "Waiting for customer" and state.closes


async def test_organisations(admin_client):
    token = await csrf_token(admin_client, "/admin/organisations")
    partner = {
        "csrf_token": token,
        "human_id": "ORG-P",
        "name": "Resell",
        "legal_name": "Resell Ltd",
        "role": "partner",
    }
    assert (await admin_client.post("/admin/organisations", form=partner)).status_code == 303
    customer = partner | {"human_id": "ORG-C", "name": "Acme", "legal_name": "Acme plc", "role": "customer"}
    assert (
        await admin_client.post("/admin/organisations", form=customer | {"parent": "ORG-P"})
    ).status_code == 303
    acme = await Organisation.get(human_id="ORG-C").select_related("parent")
    assert acme.parent.human_id == "ORG-P"
    bad = await admin_client.post("/admin/organisations", form=customer | {"parent": "ORG-NOPE"})
    assert bad.status_code == 422


async def test_refusals_on_small_admin_forms_say_why(admin_client):
    customer = await make_customer()
    group = await Group.first()
    token = await csrf_token(admin_client, "/admin/groups")
    member = await post(admin_client, f"/admin/groups/{group.id}/members", token, user=str(customer.id))
    assert member.status_code == 422 and "Only active agents join groups" in await member.get_data(
        as_text=True
    )
    assert not await GroupMember.exists(user=customer)
    unnamed = await post(admin_client, f"/admin/users/{customer.id}/tokens", token, name="")
    assert unnamed.status_code == 422 and 'role="alert"' in await unnamed.get_data(as_text=True)
    assert not await ApiToken.exists(user=customer)


async def test_an_admin_removing_their_own_admin_flag_gets_a_message_not_an_error_page(client):
    me = await make_admin()
    await sign_in(client, me)
    token = await csrf_token(client, f"/admin/users/{me.id}")
    form = {"name": me.name, "email": me.email, "agent": "y"}  # admin left unticked
    response = await post(client, f"/admin/users/{me.id}", token, **form)
    html = await response.get_data(as_text=True)
    assert response.status_code == 403 and "cannot remove your own admin rights" in html
    assert 'name="email"' in html  # the form again, with the message, not an error page
    assert (await User.get(id=me.id)).admin


async def test_a_refusal_is_said_once_above_the_form_and_beside_the_field_it_names(admin_client):
    customer, group = await make_customer(), await Group.first()
    token = await csrf_token(admin_client, "/admin/groups")
    member = await post(admin_client, f"/admin/groups/{group.id}/members", token, user=str(customer.id))
    assert (await member.get_data(as_text=True)).count("Only active agents join groups") == 1
    form = {"human_id": "ORG-C", "name": "Acme", "legal_name": "Acme plc", "role": "customer"}
    bad = await post(admin_client, "/admin/organisations", token, **form, parent="ORG-NOPE")
    html = await bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'role="alert">Unknown parent.' in html
    assert re.search(r'class="field has-error">\s*<label for="parent"', html)
    assert 'id="parent-error">ORG-NOPE is not another organisation' in html


async def test_only_the_state_section_offers_resolves(admin_client):
    html = await (await admin_client.get("/admin/states")).get_data(as_text=True)
    sections = {
        title: body for title, body in re.findall(r"<h2>(\w+)</h2>(.*?)</section>", html, flags=re.DOTALL)
    }
    assert "Resolves" in sections["State"] and "Resolves" not in sections["Priority"]
    assert not any("Resolves" in sections[kind] for kind in ("Type", "Stage", "Outcome") if kind in sections)


async def test_state_rows_line_up_with_their_headers(admin_client):
    """Each row was one cell spanning the table, its inputs drifting from the headers above them."""
    html = await (await admin_client.get("/admin/states")).get_data(as_text=True)
    tables = re.findall(r"<table>(.*?)</table>", html, flags=re.DOTALL)
    assert tables
    for table in tables:
        headers = len(re.findall(r"<th\b", table.split("</thead>")[0]))
        rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], flags=re.DOTALL)
        assert rows and "colspan" not in table
        assert all(len(re.findall(r"<td\b", row)) == headers for row in rows)


async def test_state_positions_count_within_each_kind(admin_client):
    """Positions ran across all kinds, so a new state given none got 0 and tied with "New"."""
    token = await csrf_token(admin_client, "/admin/states")
    added = await post(admin_client, "/admin/states", token, kind="3", description="P6 - Someday")
    assert added.status_code == 303
    priorities = await State.filter(kind=3).order_by("position", "id").values_list("description", "position")
    assert priorities[-1] == ("P6 - Someday", len(priorities) - 1)
    html = await (await admin_client.get("/admin/states")).get_data(as_text=True)
    assert "P6 - Someday (Priority, position" in html  # the notice says where it went
