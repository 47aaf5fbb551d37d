"""The admin API of issue 17: organisations, catalogue writes, calendars and SLA policies. Admins
only (agents and customers 403), bad values 422 with what is wrong, unknown ids 404, all in the
OpenAPI document."""

import pytest

from helpdesk.models import FeedEvent, Organisation, SlaCalendar, SlaHoliday, SlaPolicy, State, StateKind
from helpdesk.services import catalog

CALENDAR = {
    "name": "UK office",
    "timeZone": "Europe/London",
    "hours": "mon-fri 9:00-17:30",
    "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}],
}
ROUTES = {
    ("get", "/api/organisations"), ("post", "/api/organisations"),
    ("get", "/api/organisations/{human_id}"), ("patch", "/api/organisations/{human_id}"),
    ("post", "/api/states"), ("patch", "/api/states/{state_id}"),
    ("get", "/api/calendars"), ("post", "/api/calendars"), ("get", "/api/calendars/{calendar_id}"),
    ("patch", "/api/calendars/{calendar_id}"), ("delete", "/api/calendars/{calendar_id}"),
    ("get", "/api/sla-policies"), ("post", "/api/sla-policies"), ("get", "/api/sla-policies/{policy_id}"),
    ("patch", "/api/sla-policies/{policy_id}"), ("delete", "/api/sla-policies/{policy_id}"),
}  # fmt: skip


async def _calendar(admin, **changes) -> int:
    created = await admin.post("/api/calendars", json=CALENDAR | changes)
    assert created.status_code == 201, await created.get_json()
    return int(created.headers["Location"])


async def _policy(admin, calendar_id: int, **changes) -> int:
    body = {"name": "P1 customers", "calendarId": calendar_id, "targets": {"firstResponse": 60}} | changes
    created = await admin.post("/api/sla-policies", json=body)
    assert created.status_code == 201, await created.get_json()
    return int(created.headers["Location"])


def _error(body: dict, field: str) -> bool:
    return {"title", "message"} <= set(body) and field in body.get("errors", {})


# --- organisations ------------------------------------------------------------------------------


async def test_admin_creates_reads_and_changes_an_organisation(admin, directory):
    created = await admin.post(
        "/api/organisations",
        json={"id": "ORG-9", "name": "Globex", "legalName": "Globex plc", "partnerId": "ORG-P",
              "defaultContractHumanId": "CON-9", "defaultTenantHumanId": 4},
    )  # fmt: skip
    assert created.status_code == 201 and created.headers["Location"] == "ORG-9"
    entry = (await (await admin.get("/api/organisations/ORG-9")).get_json())["data"]
    assert entry["type"] == "organisations" and entry["id"] == "ORG-9"
    assert entry["attributes"] == {
        "legalName": "Globex plc", "name": "Globex", "role": "customer", "partnerId": "ORG-P",
        "defaultContractHumanId": "CON-9", "defaultTenantHumanId": "4",
    }  # fmt: skip
    changed = await admin.patch("/api/organisations/ORG-9", json={"name": "Globex UK", "partnerId": None})
    assert changed.status_code == 204
    org = await Organisation.get(human_id="ORG-9").select_related("parent")
    assert (org.name, org.legal_name, org.parent, org.default_contract_hid) == (
        "Globex UK", "Globex plc", None, "CON-9",
    )  # fmt: skip
    listed = (await (await admin.get("/api/organisations")).get_json())["data"]
    assert [o["id"] for o in listed] == ["ORG-1", "ORG-9", "ORG-P"]  # by name: Acme, Globex UK, Partner
    kinds = await FeedEvent.filter(kind="catalogue.changed").values_list("data", flat=True)
    assert len([k for k in kinds if "organisations" in k]) == 2


async def test_organisation_refusals(admin, directory):
    taken = await admin.post("/api/organisations", json={"id": "ORG-1", "name": "A", "legalName": "A"})
    assert taken.status_code == 409
    bad_role = await admin.post(
        "/api/organisations", json={"id": "ORG-7", "name": "A", "legalName": "A", "role": "boss"}
    )
    assert bad_role.status_code == 422 and _error(await bad_role.get_json(), "role")
    unknown_partner = await admin.patch("/api/organisations/ORG-1", json={"partnerId": "ORG-NONE"})
    assert unknown_partner.status_code == 422 and _error(await unknown_partner.get_json(), "parent")
    # A loop of partners: ORG-P's partner would be its own customer ORG-1.
    loop = await admin.patch("/api/organisations/ORG-P", json={"partnerId": "ORG-1"})
    assert loop.status_code == 422 and "one of its customers" in (await loop.get_json())["message"]
    empty_name = await admin.patch("/api/organisations/ORG-1", json={"name": ""})
    assert empty_name.status_code == 422 and _error(await empty_name.get_json(), "name")
    for missing in ("/api/organisations/ORG-404", "/api/organisations/" + "x" * 300):
        assert (await admin.get(missing)).status_code == 404
        assert (await admin.patch(missing, json={"name": "B"})).status_code == 404


# --- the state catalogue ------------------------------------------------------------------------


async def test_admin_adds_and_changes_states_with_resolves_and_pauses_sla(admin, agent):
    created = await admin.post(
        "/api/states", json={"type": 1, "description": "Waiting on customer", "pausesSla": True}
    )
    assert created.status_code == 201
    state_id = int(created.headers["Location"])
    states = (await (await agent.get("/api/states?type=state")).get_json())["data"]
    mine = next(s for s in states if s["id"] == state_id)
    assert (mine["description"], mine["resolves"], mine["pausesSla"]) == ("Waiting on customer", False, True)
    assert mine["id"] == states[-1]["id"]  # no position: last of its kind
    changed = await admin.patch(f"/api/states/{state_id}", json={"resolves": True, "pausesSla": False})
    assert changed.status_code == 204
    state = await State.get(id=state_id)
    assert (state.description, state.closes, state.pauses_sla) == ("Waiting on customer", True, False)
    assert (await catalog.list_states(kind=StateKind.STATE))[-1].closes  # the cache saw it at once


async def test_state_refusals(admin):
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    flagged = await admin.patch(f"/api/states/{priority.id}", json={"pausesSla": True})
    assert flagged.status_code == 422 and _error(await flagged.get_json(), "pauses_sla")
    bad_type = await admin.post("/api/states", json={"type": 9, "description": "X"})
    assert bad_type.status_code == 422 and _error(await bad_type.get_json(), "type")
    no_type_change = await admin.patch(f"/api/states/{priority.id}", json={"type": 1})
    assert no_type_change.status_code == 422
    duplicate = await admin.post("/api/states", json={"type": 3, "description": priority.description})
    assert duplicate.status_code == 409
    assert (await admin.patch("/api/states/999999", json={"description": "X"})).status_code == 404
    assert (await admin.patch(f"/api/states/{2**40}", json={"description": "X"})).status_code == 404


# --- calendars ----------------------------------------------------------------------------------


async def test_admin_creates_reads_changes_and_deletes_a_calendar(admin):
    calendar_id = await _calendar(admin)
    read = (await (await admin.get(f"/api/calendars/{calendar_id}")).get_json())["data"]
    assert read["hours"] == "Mon-Fri 09:00-17:30"  # kept in the canonical text
    assert (read["name"], read["timeZone"]) == ("UK office", "Europe/London")
    assert read["holidays"] == [{"date": "2026-12-25", "name": "Christmas Day"}]
    holidays = [{"date": "2027-01-01", "name": "New Year"}, {"date": "2026-12-26", "name": "Boxing Day"}]
    changed = await admin.patch(
        f"/api/calendars/{calendar_id}", json={"hours": "Mon-Sat 08:00-12:00", "holidays": holidays}
    )
    assert changed.status_code == 204
    read = (await (await admin.get(f"/api/calendars/{calendar_id}")).get_json())["data"]
    assert read["hours"] == "Mon-Sat 08:00-12:00" and read["name"] == "UK office"
    assert [h["date"] for h in read["holidays"]] == ["2026-12-26", "2027-01-01"]
    assert [c["id"] for c in (await (await admin.get("/api/calendars")).get_json())["data"]] == [calendar_id]
    assert (await admin.delete(f"/api/calendars/{calendar_id}")).status_code == 204
    assert not await SlaCalendar.exists(id=calendar_id) and not await SlaHoliday.exists()
    assert (await admin.get(f"/api/calendars/{calendar_id}")).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hours": "Mon-Fri 9-5"}, "hours"),
        ({"hours": "Someday 09:00-17:00"}, "hours"),
        ({"hours": "Mon 17:00-09:00"}, "hours"),
        ({"timeZone": "Mars/Olympus"}, "time_zone"),
        (
            {"holidays": [{"date": "2026-12-25", "name": "A"}, {"date": "2026-12-25", "name": "B"}]},
            "holidays",
        ),
        ({"holidays": [{"date": "2026-13-01", "name": "A"}]}, "holidays.0.date"),
    ],
)
async def test_calendar_bad_values_are_422_naming_the_field(admin, changes, field):
    response = await admin.post("/api/calendars", json=CALENDAR | changes)
    body = await response.get_json()
    assert response.status_code == 422 and _error(body, field), body
    assert not await SlaCalendar.exists()


async def test_calendar_conflicts_and_unknown_ids(admin):
    calendar_id = await _calendar(admin)
    assert (await admin.post("/api/calendars", json=CALENDAR)).status_code == 409
    await _policy(admin, calendar_id)
    in_use = await admin.delete(f"/api/calendars/{calendar_id}")
    assert in_use.status_code == 409 and "P1 customers" in (await in_use.get_json())["message"]
    for method in ("get", "delete"):
        assert (await getattr(admin, method)("/api/calendars/424242")).status_code == 404
    assert (await admin.patch("/api/calendars/424242", json={"name": "X"})).status_code == 404


# --- policies -----------------------------------------------------------------------------------


async def test_admin_creates_reads_changes_and_deletes_a_policy(admin, directory):
    calendar_id = await _calendar(admin)
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    conditions = {"priority": priority.id, "organisation": "ORG-P"}
    first = await _policy(admin, calendar_id, conditions=conditions, warnPercent=75)
    second = await _policy(admin, calendar_id, name="Everyone else", targets={"resolution": 2400})
    read = (await (await admin.get(f"/api/sla-policies/{first}")).get_json())["data"]
    assert read["conditions"] == {
        "priority": priority.id,
        "type": None,
        "organisation": "ORG-P",
        "group": None,
    }
    assert read["targets"] == {"firstResponse": 60, "nextResponse": None, "resolution": None}
    assert (read["calendarId"], read["warnPercent"], read["active"], read["position"]) == (
        calendar_id,
        75,
        True,
        0,
    )
    listed = (await (await admin.get("/api/sla-policies")).get_json())["data"]
    assert [p["id"] for p in listed] == [first, second]
    moved = await admin.patch(f"/api/sla-policies/{second}", json={"position": 0, "active": False})
    assert moved.status_code == 204
    changed = await admin.patch(
        f"/api/sla-policies/{first}", json={"position": 1, "targets": {"resolution": 480}}
    )
    assert changed.status_code == 204
    listed = (await (await admin.get("/api/sla-policies")).get_json())["data"]
    assert [(p["id"], p["active"]) for p in listed] == [(second, False), (first, True)]
    assert listed[1]["targets"] == {"firstResponse": None, "nextResponse": None, "resolution": 480}
    assert listed[1]["conditions"]["organisation"] == "ORG-P"  # not sent: unchanged
    assert (await admin.delete(f"/api/sla-policies/{first}")).status_code == 204
    assert not await SlaPolicy.exists(id=first)
    assert (await admin.get(f"/api/sla-policies/{first}")).status_code == 404


async def test_policy_bad_values_are_422_naming_the_field(admin):
    calendar_id = await _calendar(admin)
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    cases = [
        ({"calendarId": 424242}, "calendar"),
        ({"conditions": {"type": priority.id}}, "type"),  # a priority is not a type
        ({"conditions": {"group": 424242}}, "group"),
        ({"conditions": {"organisation": "ORG-NONE"}}, "organisation"),
        ({"targets": {"firstResponse": 0}}, "targets.firstResponse"),
        ({"targets": {"firstResponse": "60"}}, "targets.firstResponse"),
        ({"warnPercent": 100}, "warnPercent"),
        ({"conditions": {"colour": "red"}}, "conditions.colour"),
    ]
    for changes, field in cases:
        response = await admin.post(
            "/api/sla-policies", json={"name": "P", "calendarId": calendar_id} | changes
        )
        body = await response.get_json()
        assert response.status_code == 422 and _error(body, field), (changes, body)
    assert not await SlaPolicy.exists()
    await _policy(admin, calendar_id)
    again = await admin.post("/api/sla-policies", json={"name": "P1 customers", "calendarId": calendar_id})
    assert again.status_code == 409
    for method in ("get", "delete"):
        assert (await getattr(admin, method)("/api/sla-policies/424242")).status_code == 404
    assert (await admin.patch("/api/sla-policies/424242", json={"name": "X"})).status_code == 404


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "customer"])
async def test_agents_and_customers_get_403_in_the_error_shape(role, admin, agent, customer, directory):
    caller = {"agent": agent, "customer": customer}[role]
    calendar_id = await _calendar(admin)
    policy_id = await _policy(admin, calendar_id)
    state_id = (await State.first()).id
    calls = [
        ("get", "/api/organisations", None), ("get", "/api/organisations/ORG-1", None),
        ("post", "/api/organisations", {"id": "ORG-5", "name": "N", "legalName": "N"}),
        ("patch", "/api/organisations/ORG-1", {"name": "Mine"}),
        ("post", "/api/states", {"type": 1, "description": "Mine"}),
        ("patch", f"/api/states/{state_id}", {"description": "Mine"}),
        ("get", "/api/calendars", None), ("get", f"/api/calendars/{calendar_id}", None),
        ("post", "/api/calendars", CALENDAR | {"name": "Mine"}),
        ("patch", f"/api/calendars/{calendar_id}", {"name": "Mine"}),
        ("delete", f"/api/calendars/{calendar_id}", None),
        ("get", "/api/sla-policies", None), ("get", f"/api/sla-policies/{policy_id}", None),
        ("post", "/api/sla-policies", {"name": "Mine", "calendarId": calendar_id}),
        ("patch", f"/api/sla-policies/{policy_id}", {"name": "Mine"}),
        ("delete", f"/api/sla-policies/{policy_id}", None),
    ]  # fmt: skip
    for method, path, body in calls:
        response = await getattr(caller, method)(path, **({"json": body} if body else {}))
        error = await response.get_json()
        assert response.status_code == 403 and {"title", "message"} <= set(error), (method, path)
    assert await SlaCalendar.filter(name="UK office").exists() and await SlaPolicy.exists(id=policy_id)
    assert (await Organisation.get(human_id="ORG-1")).name == "Acme"


async def test_openapi_documents_every_admin_route(client):
    spec = await (await client.get("/api/openapi.json")).get_json()
    documented = {(method, path) for path, methods in spec["paths"].items() for method in methods}
    assert ROUTES <= documented
    create = spec["paths"]["/api/sla-policies"]["post"]
    assert (create["operationId"], create["tags"]) == ("create_sla_policy", ["Service levels"])
    assert spec["paths"]["/api/organisations"]["get"]["tags"] == ["Organisations"]
    assert spec["paths"]["/api/states"]["post"]["tags"] == ["Catalogue"]
    # One path for the catalogue's GET and POST (OPTIONS /api/states lists both): not /api/states/.
    assert set(spec["paths"]["/api/states"]) == {"get", "post"} and "/api/states/" not in spec["paths"]
    for method, path in ROUTES:
        responses = spec["paths"][path][method]["responses"]
        assert {"403", "404", "422"} <= set(responses), (method, path)
