"""Groups and availability in the API: POST and PATCH /api/groups (admins, extra routes), the extra
fields `assignment` and `members` on groups and `available` and `capacity` on users."""

import pytest

from helpdesk.models import Group, User
from tests.api.conftest import TICKET
from tests.factories import make_agent


async def test_admin_creates_a_round_robin_group_and_api_tickets_are_assigned(admin, agent):
    other = await make_agent()
    body = {"name": "Tier 1", "assignment": "roundRobin", "members": [other.id, agent.user.id]}
    response = await admin.post("/api/groups", json=body)
    assert response.status_code == 201, await response.get_data()
    group = (await response.get_json())["data"]
    assert response.headers["Location"] == str(group["id"])
    assert (group["name"], group["assignment"]) == ("Tier 1", "roundRobin")
    assert group["members"] == sorted([other.id, agent.user.id])
    made = []
    for _ in range(3):
        created = await agent.post("/api/tickets", json=TICKET | {"group": group["id"]})
        assert created.status_code == 201, await created.get_data()
        [ticket] = (await (await agent.get(f"/api/tickets/{created.headers['Location']}")).get_json())["data"]
        made.append(ticket["assignee"]["id"])
    first, second = sorted([other.id, agent.user.id])
    assert made == [first, second, first]


async def test_admin_patches_mode_name_and_members(admin, agent):
    group = await Group.create(name="Support")
    patch = {"name": "Tier 2", "assignment": "leastOpen", "members": [agent.user.id]}
    response = await admin.patch(f"/api/groups/{group.id}", json=patch)
    assert response.status_code == 200, await response.get_data()
    data = (await response.get_json())["data"]
    assert (data["name"], data["assignment"], data["members"]) == ("Tier 2", "leastOpen", [agent.user.id])
    listed = (await (await agent.get("/api/groups")).get_json())["data"]
    assert {g["id"]: (g["assignment"], g["members"]) for g in listed}[group.id] == (
        "leastOpen",
        [agent.user.id],
    )
    one = (await (await agent.get(f"/api/groups/{group.id}")).get_json())["data"]
    assert one["assignment"] == "leastOpen"


@pytest.mark.parametrize(("method", "path"), [("post", "/api/groups"), ("patch", "/api/groups/{id}")])
async def test_agents_and_customers_get_403_with_the_error_shape(agent, customer, method, path):
    group = await Group.create(name="Support")
    for caller in (agent, customer):
        response = await getattr(caller, method)(path.format(id=group.id), json={"name": "Mine"})
        assert response.status_code == 403
        assert set(await response.get_json()) >= {"title", "message"}
    assert await Group.filter(name="Mine").count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"assignment": "random"},
        {"name": ""},
        {"members": [999_999]},
        {"members": "1"},
        {"name": "x" * 101},
        {"colour": "red"},
    ],
)
async def test_bad_values_are_422(admin, body):
    group = await Group.create(name="Support")
    response = await admin.patch(f"/api/groups/{group.id}", json=body)
    assert response.status_code == 422, await response.get_data()
    assert set(await response.get_json()) >= {"title", "message"}
    response = await admin.post("/api/groups", json={"name": "New"} | body)
    assert response.status_code == 422


async def test_duplicate_name_is_409_and_missing_group_404(admin):
    await Group.create(name="Support")
    assert (await admin.post("/api/groups", json={"name": "Support"})).status_code == 409
    assert (await admin.patch("/api/groups/999999", json={"name": "X"})).status_code == 404


async def test_agent_switches_own_availability_but_not_capacity(agent):
    me = f"/api/users/{agent.user.id}"
    assert (await agent.patch(me, json={"available": False})).status_code == 202
    assert (await User.get(id=agent.user.id)).available is False
    shown = (await (await agent.get("/api/users")).get_json())["data"]
    assert shown["available"] is False and "capacity" not in shown
    response = await agent.patch(me, json={"capacity": 5})
    assert response.status_code == 403
    assert set(await response.get_json()) >= {"title", "message"}


async def test_admin_sets_and_clears_capacity(admin, agent):
    path = f"/api/users/{agent.user.id}"
    assert (await admin.patch(path, json={"capacity": 5})).status_code == 202
    assert (await User.get(id=agent.user.id)).capacity == 5
    agents = (await (await agent.get("/api/users/agents")).get_json())["data"]
    assert {a["id"]: a.get("capacity") for a in agents}[agent.user.id] == 5
    assert (await admin.patch(path, json={"capacity": None})).status_code == 202
    assert (await User.get(id=agent.user.id)).capacity is None
    for bad in (-1, 10_001, "5", 2.5, True):
        assert (await admin.patch(path, json={"capacity": bad})).status_code == 422, bad


async def test_the_openapi_document_lists_the_group_routes(client, app):
    paths = (await (await client.get("/api/openapi.json")).get_json())["paths"]
    assert {"get", "post"} <= set(paths["/api/groups"])
    assert {"get", "patch"} <= set(paths["/api/groups/{group_id}"])


async def test_customers_have_no_availability(customer):
    response = await customer.patch(f"/api/users/{customer.user.id}", json={"available": False})
    assert response.status_code == 403
    assert "available" not in (await (await customer.get("/api/users")).get_json())["data"]
