"""Bad input gets a clear 4xx in the contract's error shape, and nothing is written."""

import base64
import json

import pytest

from helpdesk.models import Ticket, User
from tests.api.conftest import TICKET


async def assert_error(response, status, field=None):
    assert response.status_code == status, await response.get_data()
    assert response.headers["Content-Type"] == "application/json"
    body = await response.get_json()
    assert isinstance(body["title"], str) and isinstance(body["message"], str)
    if field:
        assert field in body["errors"], body
    return body


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b'{"a": }', b"\xff\xfe\x00", b'{"description": "\xc3\x28"}', b""],
)
async def test_malformed_or_non_utf8_bodies_are_400(agent, raw):
    response = await agent.post("/api/tickets", data=raw, headers={"Content-Type": "application/json"})
    await assert_error(response, 400)
    assert await Ticket.all().count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": 5}, "description"),
        ({"organisationHumanId": None}, "organisationHumanId"),
        ({"title": "x" * 256}, "title"),
        ({"state": "open"}, "state"),
        ({"state": -1}, "state"),
        ({"admin": True}, "admin"),
        ({"attributes": {"mainEmail": "not-an-email"}}, "attributes.mainEmail"),
        ({"attributes": {"mainEmail": "a@x.example"}}, "attributes.preferredContactMethod"),
        ({"attributes": {"preferredContactMethod": " "}}, "attributes.preferredContactMethod"),
    ],
)
async def test_invalid_ticket_fields_are_422_with_field_errors(agent, change, field):
    await assert_error(await agent.post("/api/tickets", json=TICKET | change), 422, field)
    assert await Ticket.all().count() == 0


async def test_missing_required_fields_are_listed(agent):
    body = await assert_error(await agent.post("/api/tickets", json={}), 422)
    assert {
        "organisationHumanId",
        "contractHumanId",
        "tenantHumanId",
        "reporterHumanId",
        "description",
    } <= set(body["errors"])


async def test_json_that_is_not_an_object_is_422(agent):
    await assert_error(await agent.post("/api/tickets", json=[1, 2]), 422)


async def test_huge_body_is_413(agent, app):
    huge = b'{"description": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    await assert_error(
        await agent.post("/api/tickets", data=huge, headers={"Content-Type": "application/json"}), 413
    )


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=1001", "limit=abc", "sort=title", "state=x", "createdFrom=yesterday", "colour=red",
     "cursor=%21%21",
     # no UTC time exists for these (OverflowError was a 500 once dates were compared in UTC)
     "createdFrom=0001-01-01T00:00:00%2B01:00", "createdTo=9999-12-31T23:59:59-01:00",
     "updatedSince=0001-01-01T00:30:00%2B01:00"],
)  # fmt: skip
async def test_bad_query_values_are_400(agent, query):
    await assert_error(await agent.get(f"/api/tickets?{query}"), 400)


async def test_states_type_must_be_known(agent):
    await assert_error(await agent.get("/api/states/?type=colour"), 400)


async def test_non_admin_cannot_grant_themselves_admin(agent):
    response = await agent.patch(f"/api/users/{agent.user.id}", json={"admin": True})
    await assert_error(response, 403)
    assert not (await User.get(id=agent.user.id)).admin


async def test_unknown_user_fields_are_refused_not_written(admin):
    response = await admin.post(
        "/api/users", json={"email": "a@x.example", "name": "A", "password_hash": "x"}
    )
    await assert_error(response, 422, "password_hash")
    assert not await User.filter(email="a@x.example").exists()


async def test_duplicate_email_is_409(admin):
    assert (await admin.post("/api/users", json={"email": "d@x.example", "name": "D"})).status_code == 201
    await assert_error(await admin.post("/api/users", json={"email": "D@x.example", "name": "D"}), 409)


@pytest.mark.parametrize("ticket_id", ["INC-999999", "INC-0", "nonsense", "INC-99999999999999999999"])
async def test_unknown_tickets_are_404(agent, ticket_id):
    await assert_error(await agent.get(f"/api/tickets/{ticket_id}"), 404)
    await assert_error(await agent.patch(f"/api/tickets/{ticket_id}", json={"title": "x"}), 404)


async def test_unknown_api_route_and_wrong_method_are_json(agent):
    await assert_error(await agent.get("/api/nothing-here"), 404)
    response = await agent.put("/api/tickets", json={}) if hasattr(agent, "put") else None
    response = await agent.client.put("/api/tickets", headers=agent.headers(), json={})
    await assert_error(response, 405)


@pytest.mark.parametrize(
    "path", ["/api/users/1019502527464984326386483200", "/api/groups/99999999999999999999"]
)
async def test_ids_too_large_for_the_database_are_404_not_500(admin, path):
    method = admin.delete if path.startswith("/api/users") else admin.get
    await assert_error(await method(path), 404)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"description": "a\\u0000b"}', "description"),
        (b'{"description": "\\ud800"}', "description"),
        (b'{"attributes": {"additionalEmails": ["a@b", "x\\u0000@y"]}}', "attributes.additionalEmails.1"),
    ],
)
async def test_text_no_database_can_store_is_422_not_500(agent, raw, field):
    body = json.loads(raw) | {k: v for k, v in TICKET.items() if k not in json.loads(raw)}
    response = await agent.post(
        "/api/tickets", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    await assert_error(response, 422, field)
    assert await Ticket.all().count() == 0


async def test_nul_in_a_query_value_is_400(agent):
    await assert_error(await agent.get("/api/tickets?organisation=a%00b"), 400, "organisation")


@pytest.mark.parametrize(
    ("payload", "sort"),
    [([1, 2**70], "-id"), ([1, 0], "-id"), ([1, "7"], "-id"), ({"a": 1}, "-id"),
     (["0001-01-01T00:00:00+01:00", 5], "-dateCreated"), (["9999-12-31T23:59:59-01:00", 5], "dateUpdated")],
)  # fmt: skip
async def test_forged_cursors_are_400_not_500(agent, payload, sort):
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    await assert_error(await agent.get(f"/api/tickets?sort={sort}&cursor={cursor}"), 400, "cursor")


@pytest.mark.parametrize("query", ["period=weekly&date=9999-12-31", "period=monthly&date=9999-12-15"])
async def test_report_dates_past_year_9999_are_400(agent, query):
    await assert_error(await agent.get(f"/api/reporting/tickets?{query}"), 400)
    await assert_error(await agent.get(f"/api/reporting/tickets/download?{query}"), 400)
