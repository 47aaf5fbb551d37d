"""Users, groups, states, events and reporting routes: statuses, headers and shapes."""

import csv
import io
import json

from helpdesk.config import PROJECT_ROOT
from helpdesk.models import Group, OutboxEmail, State, User
from helpdesk.services import cache
from tests.api.conftest import TICKET


async def test_logged_in_user_and_phone_number_rules(admin):
    await User.filter(id=admin.user.id).update(phone="447816432764")
    body = (await (await admin.get("/api/users")).get_json())["data"]
    assert body["id"] == admin.user.id and body["humanId"] == "USR-1" and body["phoneNumber"] == 447816432764
    await User.filter(id=admin.user.id).update(phone="0123456981")
    cache.changed()  # changed behind the app's back, as another process would: no waiting here
    assert (await (await admin.get("/api/users")).get_json())["data"]["phoneNumber"] == "0123456981"


async def test_create_update_delete_user(admin):
    created = await admin.post(
        "/api/users",
        json={"email": "n@x.example", "name": "N", "phoneNumber": 123, "agent": True, "humanId": 55},
    )
    assert created.status_code == 201 and created.headers["Content-Type"] == "application/json"
    user_id = int(created.headers["Location"])
    user = await User.get(id=user_id)
    assert (user.phone, user.human_id, user.agent) == ("123", "55", True)
    updated = await admin.patch(f"/api/users/{user_id}", json={"name": "Newer", "admin": True})
    assert updated.status_code == 202
    assert (await User.get(id=user_id)).name == "Newer"
    assert (await admin.delete(f"/api/users/{user_id}")).status_code == 202
    assert not (await User.get(id=user_id)).active
    # Once deleted it is gone for the API (its row stays for history).
    assert (await admin.patch(f"/api/users/{user_id}", json={"name": "Ghost"})).status_code == 404
    assert (await admin.delete(f"/api/users/{user_id}")).status_code == 404


async def test_user_updates_own_name_but_not_others(agent, customer):
    assert (await customer.patch(f"/api/users/{customer.user.id}", json={"name": "Me"})).status_code == 202
    assert (await customer.patch(f"/api/users/{agent.user.id}", json={"name": "You"})).status_code == 404


async def test_states_all_and_by_type_with_or_without_slash(agent):
    everything = (await (await agent.get("/api/states")).get_json())["data"]
    assert len(everything) == await State.all().count()
    # The blueprint's fields, then the extra resolves and pausesSla (issue 17).
    assert list(everything[0]) == [
        "id",
        "description",
        "type",
        "dateCreated",
        "dateUpdated",
        "resolves",
        "pausesSla",
    ]
    priorities = (await (await agent.get("/api/states/?type=priority")).get_json())["data"]
    assert {s["type"] for s in priorities} == {3} and "P5 - Priority 5" in [
        s["description"] for s in priorities
    ]
    assert (await (await agent.get("/api/states?type=all")).get_json())["data"] == everything


async def test_groups(agent):
    groups = (await (await agent.get("/api/groups")).get_json())["data"]
    group = await Group.first()
    assert groups[0]["id"] == group.id and groups[0]["name"] == group.name
    assert (await (await agent.get(f"/api/groups/{group.id}")).get_json())["data"]["name"] == group.name
    assert (await agent.get("/api/groups/99999")).status_code == 404


async def test_confirm_contacts_event_post_then_get(agent):
    ticket_id = (await agent.post("/api/tickets", json=TICKET)).headers["Location"]
    assert (await agent.get(f"/api/events/confirm-contacts/{ticket_id}")).status_code == 404
    posted = await agent.post(f"/api/events/confirm-contacts/{ticket_id}")
    assert posted.status_code == 201 and posted.headers["Content-Type"] == "application/json"
    event = (await (await agent.get(f"/api/events/confirm-contacts/{ticket_id}")).get_json())["data"]
    assert event["key"] == "notification.ticket.confirm-contacts" and event["target"] == ticket_id
    assert posted.headers["Location"] == str(event["id"])


async def test_confirm_contacts_repeated_within_a_minute_is_201_with_the_same_event_and_one_email(agent):
    contacts = {"mainEmail": "ops@acme.example", "preferredContactMethod": "email"}
    ticket_id = (await agent.post("/api/tickets", json=TICKET | {"attributes": contacts})).headers["Location"]
    emails = await OutboxEmail.all().count()  # the "ticket received" email
    first = await agent.post(f"/api/events/confirm-contacts/{ticket_id}")
    again = await agent.post(f"/api/events/confirm-contacts/{ticket_id}")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Content-Type"] == "application/json" and await again.get_data() == b""
    assert await OutboxEmail.all().count() == emails + 1
    latest = (await (await agent.get(f"/api/events/confirm-contacts/{ticket_id}")).get_json())["data"]
    assert str(latest["id"]) == first.headers["Location"]


async def test_report_json_and_csv_agree(agent):
    await agent.post("/api/tickets", json=TICKET | {"description": "=cmd|' /C calc'!A0"})
    rows = (await (await agent.get("/api/reporting/tickets?period=weekly")).get_json())["data"]
    assert len(rows) == 1 and rows[0]["ticketDescription"].startswith("=cmd")
    download = await agent.get("/api/reporting/tickets/download?period=weekly")
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert (
        "attachment" in download.headers["Content-Disposition"]
        and ".csv" in download.headers["Content-Disposition"]
    )
    parsed = list(csv.DictReader(io.StringIO((await download.get_data()).decode())))
    assert parsed[0]["ticketNumber"] == rows[0]["ticketNumber"]
    assert parsed[0]["ticketDescription"] == "'" + rows[0]["ticketDescription"]
    assert (await agent.get("/api/reporting/tickets?period=daily")).status_code == 400


async def test_openapi_lists_only_api_routes_and_docs_page_serves(client, app):
    spec = await (await client.get("/api/openapi.json")).get_json()
    assert spec["paths"] and all(path.startswith("/api/") for path in spec["paths"])
    assert "/api/tickets" in spec["paths"]
    create = spec["paths"]["/api/tickets"]["post"]
    assert (create["operationId"], create["tags"]) == ("create_ticket", ["Tickets"])
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TicketCreate"
    }
    assert create["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    docs = await client.get("/api/docs")
    page = await docs.get_data(as_text=True)
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")
    operations = sum(len(methods) for methods in spec["paths"].values())
    # /api/states/ is /api/states; attachments up and down (issue 15), the merge (issue 16), and
    # creating and changing groups, and administration (issue 17): groups 2, organisations 4,
    # states 2, calendars 5, SLA policies 5
    assert page.count('class="card api-op"') == operations == 24 + 2 + 16
    stream = spec["paths"]["/api/stream"]["get"]
    assert list(stream["responses"]["200"]["content"]) == ["text/event-stream"]
    assert "<code>GET /api/stream</code>" in page
    assert "<code>POST /api/tickets</code>" in page and "organisationHumanId" in page
    assert "https://" not in page  # readable offline: no scripts or styles from a CDN


async def test_every_operation_documents_503_with_retry_after(client):
    """Any request may meet the database briefly unavailable: every operation says so."""
    spec = await (await client.get("/api/openapi.json")).get_json()
    operations = [op for methods in spec["paths"].values() for op in methods.values()]
    error_shape = {"$ref": "#/components/schemas/ErrorOut"}
    assert operations
    for operation in operations:
        unavailable = operation["responses"]["503"]
        assert unavailable["content"]["application/json"]["schema"] == error_shape
        assert unavailable["headers"]["Retry-After"]["required"] is True
        assert unavailable["headers"]["Retry-After"]["schema"]["type"] == "integer"


async def test_the_docs_page_points_at_the_contract_and_serves_it(client):
    page = await (await client.get("/api/docs")).get_data(as_text=True)
    assert 'href="/api/docs/tickets.apib"' in page and 'href="/api/docs/api.md"' in page
    blueprint = await client.get("/api/docs/tickets.apib")
    assert blueprint.status_code == 200 and blueprint.headers["Content-Type"].startswith("text/plain")
    assert await blueprint.get_data() == (PROJECT_ROOT / "docs" / "api" / "tickets.apib").read_bytes()
    notes = await client.get("/api/docs/api.md")
    assert notes.status_code == 200 and (await notes.get_data(as_text=True)).startswith(
        "# The helpdesk JSON API"
    )
    assert (await client.get("/api/docs/config.toml")).status_code == 404


async def test_responses_are_utf8_json_in_the_order_the_code_builds(admin):
    created = await admin.post("/api/tickets", json=TICKET | {"title": "Café ☕ ünïcode"})
    response = await admin.get(f"/api/tickets/{created.headers['Location']}")
    raw = await response.get_data()
    # orjson writes UTF-8 as is (the standard encoder escaped it to \u00e9) and keeps key order.
    assert "Café ☕ ünïcode".encode() in raw and b"\\u00e9" not in raw
    assert list(json.loads(raw)["data"][0])[:3] == ["id", "organisationHumanId", "contractHumanId"]
    assert response.headers["Content-Type"] == "application/json"
