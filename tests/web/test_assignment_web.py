"""Assignment in the browser: the group's mode and its members' availability on Admin → Groups,
an agent's capacity on their admin page, and one's own availability switch on the Account page."""

import pytest

from helpdesk.models import AssignmentMode, Group, GroupMember, Ticket, User
from tests.factories import make_admin, make_agent, make_customer, make_organisation
from tests.web.conftest import csrf_token, sign_in


@pytest.fixture
async def admin_client(client):
    await sign_in(client, await make_admin())
    return client


async def test_admin_sets_a_groups_mode_and_sees_members_availability(admin_client):
    away = await make_agent(name="Ola")
    await User.filter(id=away.id).update(available=False, capacity=3)
    group = await Group.create(name="Network")
    await GroupMember.create(group=group, user=away)
    token = await csrf_token(admin_client, "/admin/groups")
    form = {"csrf_token": token, "assignment": "roundRobin"}
    response = await admin_client.post(f"/admin/groups/{group.id}/assignment", form=form)
    assert response.status_code == 303
    assert (await Group.get(id=group.id)).assignment == AssignmentMode.ROUND_ROBIN
    page = await (await admin_client.get("/admin/groups")).get_data(as_text=True)
    assert "Network: new tickets now go to each available member in turn." in page
    assert '<option value="roundRobin" selected>Round robin</option>' in page
    assert "Ola" in page and "Away" in page and "at most 3 open" in page


async def test_mode_form_refuses_a_bad_mode_and_a_missing_csrf_token(admin_client):
    group = await Group.create(name="Network")
    token = await csrf_token(admin_client, "/admin/groups")
    bad = await admin_client.post(
        f"/admin/groups/{group.id}/assignment", form={"csrf_token": token, "assignment": "random"}
    )
    assert bad.status_code == 422
    forged = await admin_client.post(f"/admin/groups/{group.id}/assignment", form={"assignment": "leastOpen"})
    assert forged.status_code in (400, 422)
    assert (await Group.get(id=group.id)).assignment == AssignmentMode.MANUAL


async def test_agents_cannot_set_a_mode(client):
    await sign_in(client, await make_agent())
    group = await Group.create(name="Network")
    token = await csrf_token(client, "/account")
    form = {"csrf_token": token, "assignment": "roundRobin"}
    assert (await client.post(f"/admin/groups/{group.id}/assignment", form=form)).status_code == 403
    assert (await Group.get(id=group.id)).assignment == AssignmentMode.MANUAL


async def test_admin_sets_an_agents_capacity_on_their_page(admin_client):
    agent = await make_agent(name="Ola")
    token = await csrf_token(admin_client, f"/admin/users/{agent.id}")
    form = {"csrf_token": token, "name": "Ola", "email": agent.email, "agent": "y", "capacity": "4"}
    assert (await admin_client.post(f"/admin/users/{agent.id}", form=form)).status_code == 303
    assert (await User.get(id=agent.id)).capacity == 4
    page = await (await admin_client.get(f"/admin/users/{agent.id}")).get_data(as_text=True)
    assert 'name="capacity" type="number" value="4"' in page and "Available" in page
    bad = await admin_client.post(f"/admin/users/{agent.id}", form=form | {"capacity": "-2"})
    assert bad.status_code == 422 and (await User.get(id=agent.id)).capacity == 4
    assert (
        await admin_client.post(f"/admin/users/{agent.id}", form=form | {"capacity": ""})
    ).status_code == 303
    assert (await User.get(id=agent.id)).capacity is None


async def test_agent_switches_away_and_back_and_the_header_says_so(client):
    agent = await make_agent()
    await sign_in(client, agent)
    page = await (await client.get("/account")).get_data(as_text=True)
    assert 'class="badge availability available">Available' in page and "Set me away" in page
    token = await csrf_token(client, "/account")
    response = await client.post("/account/available", form={"csrf_token": token, "available": "false"})
    assert response.status_code == 303
    assert (await User.get(id=agent.id)).available is False
    page = await (await client.get("/")).get_data(as_text=True)
    assert 'class="badge availability away">Away' in page  # the header, on every desk page
    await client.post("/account/available", form={"csrf_token": token, "available": "true"})
    assert (await User.get(id=agent.id)).available is True


async def test_the_switch_needs_the_csrf_token(client):
    agent = await make_agent()
    await sign_in(client, agent)
    response = await client.post("/account/available", form={"available": "false"})
    assert response.status_code == 400 and (await User.get(id=agent.id)).available is True


async def test_a_ticket_from_the_new_ticket_form_is_assigned_by_the_rule(client):
    await make_organisation("ORG-1")
    await make_customer("ORG-1", human_id="USR-9")
    agent = await make_agent(name="Ola")
    group = await Group.create(name="Network", assignment=AssignmentMode.ROUND_ROBIN)
    await GroupMember.create(group=group, user=agent)
    await sign_in(client, await make_agent())
    form = {
        "csrf_token": await csrf_token(client, "/tickets/new"), "title": "VPN down", "description": "x",
        "organisation": "ORG-1", "contract": "CON-1", "tenant": "1", "reporter": "USR-9",
        "group": str(group.id),
    }  # fmt: skip
    assert (await client.post("/tickets/new", form=form)).status_code == 303
    ticket = await Ticket.get(title="VPN down")
    assert ticket.assignee_id == agent.id
    page = await (await client.get(f"/tickets/{ticket.human_id}")).get_data(as_text=True)
    assert "Assignment rule (round robin)" in page
