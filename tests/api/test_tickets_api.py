"""The ticket routes: exact statuses, headers and shapes, pagination, filters, concurrency, errors."""

import asyncio

from helpdesk.models import State, Ticket, TicketAttribute, TicketHistory
from tests.api.conftest import TICKET

JSON = "application/json"


async def create(user, **changes) -> str:
    response = await user.post("/api/tickets", json=TICKET | changes)
    assert response.status_code == 201, await response.get_data()
    return response.headers["Location"]


async def test_create_is_201_with_bare_location_and_json_content_type(agent):
    response = await agent.post("/api/tickets", json=TICKET)
    assert response.status_code == 201
    assert response.headers["Content-Type"] == JSON
    assert response.headers["Location"].startswith("INC-")
    assert await response.get_data() == b""


async def test_get_single_ticket_is_an_array_of_one_with_every_documented_field(agent, directory):
    ticket_id = await create(
        agent, attributes={"mainEmail": "a@acme.example", "preferredContactMethod": "email"}
    )
    response = await agent.get(f"/api/tickets/{ticket_id}")
    assert response.status_code == 200 and response.headers["Content-Type"] == JSON
    [ticket] = (await response.get_json())["data"]
    assert ticket["id"] == ticket_id
    assert ticket["links"] == {"self": f"/tickets/{ticket_id}", "comments": f"/tickets/{ticket_id}/comments"}
    assert ticket["tenantHumanId"] == "7" and ticket["reporterHumanId"] == "USR-3"
    assert ticket["consumer"] == {
        "type": "organisations", "id": "ORG-1",
        "attributes": {"legalName": "Acme Ltd", "name": "Acme", "role": "customer"},
    }  # fmt: skip
    assert ticket["buyer"]["id"] == "ORG-P"
    assert ticket["state"]["description"] == "New" and ticket["state"]["type"] == 1
    assert ticket["dateCreated"].endswith("+0000") and ticket["version"] == 1
    assert ticket["dateResolved"] is None and ticket["assignee"] is None


async def test_unknown_organisation_gives_null_buyer_and_consumer(agent):
    ticket_id = await create(agent, organisationHumanId="ORG-UNKNOWN")
    [ticket] = (await (await agent.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert ticket["buyer"] is None and ticket["consumer"] is None


async def test_numbers_for_human_ids_are_stored_as_strings(agent):
    ticket_id = await create(agent, tenantHumanId=123, contractHumanId=456)
    [ticket] = (await (await agent.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert (ticket["tenantHumanId"], ticket["contractHumanId"]) == ("123", "456")


async def test_patch_is_204_with_location_and_records_history(agent):
    ticket_id = await create(agent)
    resolved = await State.get(description="Resolved")
    response = await agent.patch(
        f"/api/tickets/{ticket_id}",
        json={"title": "Phones back", "state": resolved.id, "assignee": agent.user.id},
    )
    assert response.status_code == 204
    assert response.headers["Location"] == ticket_id and response.headers["Content-Type"] == JSON
    [ticket] = (await (await agent.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
    assert ticket["title"] == "Phones back" and ticket["state"]["id"] == resolved.id
    assert ticket["dateResolved"] is not None and ticket["assignee"]["id"] == agent.user.id
    assert ticket["version"] == 2
    fields = await TicketHistory.filter(ticket_id=int(ticket_id[4:])).values_list("field", "new_value")
    assert ("title", "Phones back") in fields and ("state", "Resolved") in fields
    assert ("assignee", agent.user.name) in fields


async def test_patch_with_stale_version_is_409_and_changes_nothing(agent):
    ticket_id = await create(agent)
    assert (
        await agent.patch(f"/api/tickets/{ticket_id}", json={"title": "A", "version": 1})
    ).status_code == 204
    stale = await agent.patch(f"/api/tickets/{ticket_id}", json={"title": "B", "version": 1})
    assert stale.status_code == 409
    assert (await stale.get_json())["title"] == "Conflict"
    assert (await Ticket.get(id=int(ticket_id[4:]))).title == "A"


async def test_patch_of_wrong_kind_of_state_is_422_with_field_error(agent):
    ticket_id = await create(agent)
    priority = await State.filter(kind=3).first()
    response = await agent.patch(f"/api/tickets/{ticket_id}", json={"state": priority.id})
    assert response.status_code == 422
    assert "state" in (await response.get_json())["errors"]


async def test_patch_contacts_replaces_rows(agent):
    ticket_id = await create(
        agent,
        attributes={
            "mainEmail": "old@x.example",
            "additionalEmails": ["a@x.example"],
            "preferredContactMethod": "email",
        },
    )
    patch = {"attributes": {"mainEmail": "new@x.example", "additionalEmails": ["b@x.example", "c@x.example"]}}
    assert (await agent.patch(f"/api/tickets/{ticket_id}", json=patch)).status_code == 204
    rows = (await (await agent.get(f"/api/tickets/{ticket_id}/attributes")).get_json())["data"]
    assert [(r["key"], r["value"]) for r in rows] == [
        ("mainEmail", "new@x.example"), ("preferredContactMethod", "email"),
        ("additionalEmail", "b@x.example"), ("additionalEmail", "c@x.example"),
    ]  # fmt: skip
    assert all(r["type"] == "Contact" and r["enabled"] for r in rows)


async def test_delete_is_202_then_the_ticket_reads_as_missing_but_stays(agent):
    ticket_id = await create(agent)
    response = await agent.delete(f"/api/tickets/{ticket_id}")
    assert response.status_code == 202 and response.headers["Content-Type"] == JSON
    assert (await agent.get(f"/api/tickets/{ticket_id}")).status_code == 404
    assert (await (await agent.get("/api/tickets")).get_json())["data"] == []
    assert await Ticket.filter(id=int(ticket_id[4:])).exists()


async def test_comments_201_with_location_and_listed_in_order(agent):
    ticket_id = await create(agent)
    first = await agent.post(
        f"/api/tickets/{ticket_id}",
        json={"ticketId": "INC-999", "description": "one", "userHumanId": "USR-77"},
    )
    assert first.status_code == 201 and first.headers["Location"].isdigit()
    await agent.post(f"/api/tickets/{ticket_id}", json={"description": "note", "internal": True})
    comments = (await (await agent.get(f"/api/tickets/{ticket_id}/comments")).get_json())["data"]
    assert [(c["description"], c["ticketId"], c["internal"]) for c in comments] == [
        ("one", ticket_id, False), ("note", ticket_id, True)
    ]  # fmt: skip
    assert comments[0]["userHumanId"] == "USR-77" and comments[0]["id"] == int(first.headers["Location"])


async def test_pagination_walks_every_ticket_once_with_links_next(agent):
    made = [await create(agent) for _ in range(7)]
    seen, path = [], "/api/tickets?limit=3"
    while path:
        body = await (await agent.get("/api" + path.removeprefix("/api"))).get_json()
        seen += [t["id"] for t in body["data"]]
        path = body["links"]["next"]
    assert seen == list(reversed(made))


async def test_sort_by_date_updated_pages_stably(agent):
    made = [await create(agent) for _ in range(5)]
    await agent.patch(f"/api/tickets/{made[0]}", json={"title": "touched"})
    seen, path = [], "/tickets?limit=2&sort=-dateUpdated"
    while path:
        body = await (await agent.get("/api" + path)).get_json()
        seen += [t["id"] for t in body["data"]]
        path = body["links"]["next"]
    assert seen[0] == made[0] and sorted(seen) == sorted(made)


async def test_filters_and_full_text_search(agent):
    await create(agent, title="Router on fire", organisationHumanId="ORG-2")
    quiet = await create(agent, title="Invoice question")
    await agent.post(f"/api/tickets/{quiet}", json={"description": "the router blinks amber"})
    await agent.post(f"/api/tickets/{quiet}", json={"description": "secretnote", "internal": True})

    async def ids(query):
        return [t["id"] for t in (await (await agent.get(f"/api/tickets?{query}")).get_json())["data"]]

    assert len(await ids("q=router")) == 2
    assert await ids("q=amber") == [quiet]
    assert await ids("q=rout") != []  # prefix search, as one types
    assert await ids("organisation=ORG-2&q=router") != [quiet]
    assert len(await ids("organisation=ORG-1")) == 1
    assert await ids("q=%21%21%21") == []


async def test_customers_search_never_matches_internal_notes(agent, customer):
    ticket_id = await create(agent)
    await agent.post(f"/api/tickets/{ticket_id}", json={"description": "zebracode", "internal": True})
    assert (await (await agent.get("/api/tickets?q=zebracode")).get_json())["data"] != []
    assert (await (await customer.get("/api/tickets?q=zebracode")).get_json())["data"] == []


async def test_idempotency_key_makes_one_ticket_for_retries(agent):
    headers = {"Idempotency-Key": "retry-1"}
    first = await agent.post("/api/tickets", json=TICKET, headers=headers)
    second = await agent.post("/api/tickets", json=TICKET, headers=headers)
    assert first.headers["Location"] == second.headers["Location"]
    assert await Ticket.all().count() == 1


async def test_concurrent_idempotent_retries_make_one_ticket(agent):
    headers = {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *(agent.post("/api/tickets", json=TICKET, headers=headers) for _ in range(5))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.headers["Location"] for r in responses}) == 1
    assert await Ticket.all().count() == 1


async def test_patching_additional_emails_keeps_rows_that_stay_and_their_enabled_flag(agent):
    ticket_id = await create(
        agent,
        attributes={"additionalEmails": ["a@x.example", "b@x.example"], "preferredContactMethod": "email"},
    )
    await TicketAttribute.filter(value="a@x.example").update(enabled=False)
    kept = await TicketAttribute.get(value="a@x.example")
    patch = {"attributes": {"additionalEmails": ["a@x.example", "c@x.example"]}}
    assert (await agent.patch(f"/api/tickets/{ticket_id}", json=patch)).status_code == 204
    rows = (await (await agent.get(f"/api/tickets/{ticket_id}/attributes")).get_json())["data"]
    emails = [r for r in rows if r["key"] == "additionalEmail"]
    assert [(r["value"], r["enabled"]) for r in emails] == [("a@x.example", False), ("c@x.example", True)]
    assert emails[0]["id"] == kept.id


async def test_a_customer_cannot_file_a_ticket_as_someone_else(customer, agent, directory):
    async def reporter(user, ticket_id: str) -> str:
        [ticket] = (await (await user.get(f"/api/tickets/{ticket_id}")).get_json())["data"]
        return ticket["reporterHumanId"]

    assert await reporter(customer, await create(customer, reporterHumanId="USR-2")) == "USR-3"
    assert await reporter(agent, await create(agent, reporterHumanId="USR-1")) == "USR-1"


async def test_a_comment_against_an_older_thread_is_409_unless_sent_anyway(agent, admin):
    ticket_id = await create(agent)
    first = await agent.post(f"/api/tickets/{ticket_id}", json={"description": "one"})
    seen = int(first.headers["Location"])
    await admin.post(f"/api/tickets/{ticket_id}", json={"description": "the admin's"})
    stale = {"description": "two", "seenThrough": seen}
    refused = await agent.post(f"/api/tickets/{ticket_id}", json=stale)
    assert refused.status_code == 409 and set(await refused.get_json()) >= {"title", "message"}
    assert (
        await agent.post(f"/api/tickets/{ticket_id}", json=stale | {"sendAnyway": True})
    ).status_code == 201
    assert (
        await agent.post(f"/api/tickets/{ticket_id}", json={"description": "x", "seenThrough": -1})
    ).status_code == 422
    comments = (await (await agent.get(f"/api/tickets/{ticket_id}/comments")).get_json())["data"]
    assert [c["description"] for c in comments] == ["one", "the admin's", "two"]
