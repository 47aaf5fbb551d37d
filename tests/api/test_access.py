"""Who may call what: every API route has an access rule, and every role is checked against it."""

import pytest

from helpdesk.models import Group, Organisation, SlaCalendar, SlaPolicy, State
from tests.api.conftest import TICKET
from tests.api.test_attachments_api import multipart

ROLES = ("admin", "agent", "customer")
# (method, rule) -> expected status per role. A new route without a row here fails the inventory test.
ACCESS = {
    ("GET", "/api/users"): (200, 200, 200),
    ("GET", "/api/users/agents"): (200, 200, 404),
    ("POST", "/api/users"): (201, 403, 403),  # everyone sees /api/users; only admins add to it
    # The user changed is a customer, whom agents do not see; another agent is 403 (test below).
    ("PATCH", "/api/users/<int:user_id>"): (202, 404, 404),
    ("DELETE", "/api/users/<int:user_id>"): (202, 404, 404),
    ("GET", "/api/tickets"): (200, 200, 200),
    ("POST", "/api/tickets"): (201, 201, 201),
    ("GET", "/api/tickets/<ticket_id>"): (200, 200, 200),
    ("PATCH", "/api/tickets/<ticket_id>"): (204, 204, 403),
    ("DELETE", "/api/tickets/<ticket_id>"): (202, 202, 403),
    ("POST", "/api/tickets/<ticket_id>"): (201, 201, 201),
    ("GET", "/api/tickets/<ticket_id>/comments"): (200, 200, 200),
    ("GET", "/api/tickets/<ticket_id>/attributes"): (200, 200, 200),
    ("POST", "/api/tickets/<ticket_id>/merge"): (204, 204, 403),
    ("GET", "/api/groups"): (200, 200, 404),
    ("GET", "/api/groups/<int:group_id>"): (200, 200, 404),
    # Extra routes (issue 17): admins only; 403 for anyone else whatever the id, so nothing leaks.
    ("POST", "/api/groups"): (201, 403, 403),
    ("PATCH", "/api/groups/<int:group_id>"): (200, 403, 403),
    ("GET", "/api/states"): (200, 200, 200),
    ("GET", "/api/states/"): (200, 200, 200),
    ("POST", "/api/events/confirm-contacts/<ticket_id>"): (201, 201, 404),
    ("GET", "/api/events/confirm-contacts/<ticket_id>"): (200, 200, 404),
    ("GET", "/api/reporting/tickets"): (200, 200, 404),
    ("GET", "/api/reporting/tickets/download"): (200, 200, 404),
    ("POST", "/api/tickets/<ticket_id>/attachments"): (201, 201, 201),
    ("GET", "/api/attachments/<int:attachment_id>"): (200, 200, 200),  # a file on a public reply
    # Administration (issue 17): admins only, 403 for the others.
    ("GET", "/api/organisations"): (200, 403, 403),
    ("POST", "/api/organisations"): (201, 403, 403),
    ("GET", "/api/organisations/<human_id>"): (200, 403, 403),
    ("PATCH", "/api/organisations/<human_id>"): (204, 403, 403),
    ("POST", "/api/states"): (201, 403, 403),
    ("PATCH", "/api/states/<int:state_id>"): (204, 403, 403),
    ("GET", "/api/calendars"): (200, 403, 403),
    ("POST", "/api/calendars"): (201, 403, 403),
    ("GET", "/api/calendars/<int:calendar_id>"): (200, 403, 403),
    ("PATCH", "/api/calendars/<int:calendar_id>"): (204, 403, 403),
    ("DELETE", "/api/calendars/<int:calendar_id>"): (204, 403, 403),
    ("GET", "/api/sla-policies"): (200, 403, 403),
    ("POST", "/api/sla-policies"): (201, 403, 403),
    ("GET", "/api/sla-policies/<int:policy_id>"): (200, 403, 403),
    ("PATCH", "/api/sla-policies/<int:policy_id>"): (204, 403, 403),
    ("DELETE", "/api/sla-policies/<int:policy_id>"): (204, 403, 403),
}
PUBLIC = {
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    ("GET", "/api/docs/<any('tickets.apib', 'api.md'):name>"),
}


def api_routes(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


# Open to every role, and answered as a stream that never ends: tests/api/test_stream.py.
STREAMED = {("GET", "/api/stream")}


def test_every_api_route_has_an_access_rule(app):
    assert api_routes(app) == set(ACCESS) | PUBLIC | STREAMED


async def _prepare(method, rule, actor, admin):
    """Create what the call needs (a ticket of the customer's organisation, a throwaway user, ...)."""
    made = await admin.post("/api/tickets", json=TICKET)
    ticket_id = made.headers["Location"]
    if rule.startswith("/api/events") and method == "GET":
        await admin.post(f"/api/events/confirm-contacts/{ticket_id}")
    victim = await admin.post("/api/users", json={"email": f"victim-{method}@x.example", "name": "V"})
    group = await Group.first()
    path = (
        rule.replace("<ticket_id>", ticket_id)
        .replace("<int:group_id>", str(group.id))
        .replace("<int:user_id>", victim.headers["Location"])
    )
    if rule.startswith(("/api/organisations", "/api/states", "/api/calendars", "/api/sla-policies")):
        return await _admin_call(method, rule, path)
    into = (await admin.post("/api/tickets", json=TICKET)).headers["Location"] if "merge" in rule else ""
    if "attachment" in rule:
        return await _attachment_call(method, path, ticket_id, admin)
    body = {
        ("POST", "/api/tickets/<ticket_id>/merge"): {"into": into},
        ("POST", "/api/users"): {"email": "new@x.example", "name": "New"},
        ("PATCH", "/api/users/<int:user_id>"): {"name": "Renamed"},
        ("POST", "/api/groups"): {"name": "New group", "assignment": "roundRobin"},
        ("PATCH", "/api/groups/<int:group_id>"): {"assignment": "leastOpen"},
        ("POST", "/api/tickets"): TICKET,
        ("PATCH", "/api/tickets/<ticket_id>"): {"title": "changed"},
        ("POST", "/api/tickets/<ticket_id>"): {"description": "hello"},
    }.get((method, rule))
    return path, ({"json": body} if body else {})


async def _admin_call(method, rule, path):
    """The administration routes' path and body: a calendar no policy uses (to delete), a policy."""
    calendar = await SlaCalendar.create(name=f"Cal {method}", time_zone="UTC", hours="Mon 09:00-17:00")
    spare = await SlaCalendar.create(name=f"Spare {method}", time_zone="UTC", hours="Mon 09:00-17:00")
    policy = await SlaPolicy.create(name=f"Policy {method}", calendar=calendar)
    await Organisation.get_or_create(human_id="ORG-1", defaults={"name": "Acme", "legal_name": "Acme Ltd"})
    path = (
        path.replace("<human_id>", "ORG-1")
        .replace("<int:state_id>", str((await State.first()).id))
        .replace("<int:calendar_id>", str(spare.id))
        .replace("<int:policy_id>", str(policy.id))
    )
    body = {
        ("POST", "/api/organisations"): {"id": "ORG-NEW", "name": "New", "legalName": "New Ltd"},
        ("PATCH", "/api/organisations/<human_id>"): {"name": "Renamed"},
        ("POST", "/api/states"): {"type": 1, "description": "Brand new"},
        ("PATCH", "/api/states/<int:state_id>"): {"description": "Renamed"},
        ("POST", "/api/calendars"): {"name": "New", "timeZone": "UTC", "hours": "Mon 09:00-17:00"},
        ("PATCH", "/api/calendars/<int:calendar_id>"): {"name": "Renamed"},
        ("POST", "/api/sla-policies"): {"name": "New", "calendarId": calendar.id},
        ("PATCH", "/api/sla-policies/<int:policy_id>"): {"name": "Renamed"},
    }.get((method, rule))
    return path, ({"json": body} if body else {})


async def _attachment_call(method, path, ticket_id, admin):
    """An upload's multipart body, or the path of a file on a public reply."""
    body, headers = multipart(("notes.txt", b"some notes"))
    if method == "POST":
        return path, {"data": body, "headers": headers}
    uploaded = await admin.post(f"/api/tickets/{ticket_id}/attachments", data=body, headers=headers)
    [file] = (await uploaded.get_json())["data"]
    await admin.post(f"/api/tickets/{ticket_id}", json={"description": "file", "attachmentIds": [file["id"]]})
    return path.replace("<int:attachment_id>", str(file["id"])), {}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "rule"), sorted(ACCESS))
async def test_role_gets_the_documented_status(method, rule, role, admin, agent, customer):
    actor = {"admin": admin, "agent": agent, "customer": customer}[role]
    path, call = await _prepare(method, rule, actor, admin)
    response = await getattr(actor, method.lower())(path, **call)
    assert response.status_code == ACCESS[(method, rule)][ROLES.index(role)], await response.get_data()
    if response.status_code >= 400:
        error = await response.get_json()
        assert set(error) >= {"title", "message"}


async def test_customer_sees_only_own_organisation_and_no_internal_notes(admin, customer):
    ours = (await admin.post("/api/tickets", json=TICKET)).headers["Location"]
    theirs = (await admin.post("/api/tickets", json=TICKET | {"organisationHumanId": "ORG-2"})).headers[
        "Location"
    ]
    await admin.post(f"/api/tickets/{ours}", json={"description": "internal", "internal": True})
    await admin.post(f"/api/tickets/{ours}", json={"description": "public"})
    listed = [t["id"] for t in (await (await customer.get("/api/tickets")).get_json())["data"]]
    assert listed == [ours]
    for path in (
        f"/api/tickets/{theirs}",
        f"/api/tickets/{theirs}/comments",
        f"/api/tickets/{theirs}/attributes",
    ):
        assert (await customer.get(path)).status_code == 404
    assert (await customer.post(f"/api/tickets/{theirs}", json={"description": "x"})).status_code == 404
    comments = (await (await customer.get(f"/api/tickets/{ours}/comments")).get_json())["data"]
    assert [c["description"] for c in comments] == ["public"]


async def test_customer_comment_is_their_own_and_cannot_be_internal(customer, admin):
    ticket_id = (await admin.post("/api/tickets", json=TICKET)).headers["Location"]
    await customer.post(f"/api/tickets/{ticket_id}", json={"description": "hi", "userHumanId": "USR-1"})
    refused = await customer.post(f"/api/tickets/{ticket_id}", json={"description": "x", "internal": True})
    assert refused.status_code == 403
    comments = (await (await admin.get(f"/api/tickets/{ticket_id}/comments")).get_json())["data"]
    assert [(c["description"], c["userHumanId"]) for c in comments] == [("hi", "USR-3")]


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nope", "Basic dXNlcjpwdw==", "bearer hd_x", "Token abc"]
)
async def test_missing_or_bad_credentials_are_401_json(client, app, header):
    headers = {"Authorization": header} if header else {}
    response = await client.get("/api/tickets", headers=headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(await response.get_json()) == {"title", "message"}


async def test_deleted_users_tokens_stop_working_and_they_leave_agents(admin, agent):
    assert (await admin.delete(f"/api/users/{agent.user.id}")).status_code == 202
    assert (await agent.get("/api/users")).status_code == 401
    agents = (await (await admin.get("/api/users/agents")).get_json())["data"]
    assert agent.user.id not in [a["id"] for a in agents]


async def test_customers_see_only_the_assignees_name_not_their_contact_details(admin, customer):
    ticket_id = (await admin.post("/api/tickets", json=TICKET | {"assignee": admin.user.id})).headers[
        "Location"
    ]
    [as_customer] = (await (await customer.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert as_customer["assignee"] == {"id": admin.user.id, "name": admin.user.name}
    [as_admin] = (await (await admin.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert as_admin["assignee"]["email"] == admin.user.email


@pytest.mark.parametrize("method", ["patch", "delete"])
async def test_an_agent_changing_another_agent_is_403_and_a_user_it_cannot_see_is_404(admin, agent, method):
    """An agent sees the other agents and admins (GET /api/users/agents) but no customer."""
    listed = (await (await agent.get("/api/users/agents")).get_json())["data"]
    assert admin.user.id in [user["id"] for user in listed]
    customer = await admin.post("/api/users", json={"email": "c@x.example", "name": "C"})
    body = {"json": {"name": "Renamed"}} if method == "patch" else {}
    for user_id, status in ((admin.user.id, 403), (customer.headers["Location"], 404), (999_999, 404)):
        response = await getattr(agent, method)(f"/api/users/{user_id}", **body)
        assert response.status_code == status, (user_id, await response.get_data())
        assert set(await response.get_json()) == {"title", "message"}
    me = (await (await admin.get("/api/users")).get_json())["data"]
    assert (me["name"], me["admin"]) == (admin.user.name, True)


async def test_patching_a_flag_with_null_leaves_it_unchanged(admin, agent):
    response = await admin.patch(
        f"/api/users/{agent.user.id}", json={"admin": None, "agent": None, "name": "N"}
    )
    assert response.status_code == 202
    body = (await (await agent.get("/api/users")).get_json())["data"]
    assert (body["agent"], body["admin"], body["name"]) == (True, False, "N")
