"""The `sla` object on GET /api/tickets/{id} (an extra field of the contract's Ticket, issue 17)."""

from datetime import timedelta

from helpdesk.models import SlaCalendar, SlaPolicy, Ticket
from helpdesk.services import sla
from tests.api.conftest import TICKET

KEYS = {
    "policy",
    "firstResponseDue",
    "firstResponseAt",
    "nextResponseDue",
    "resolutionDue",
    "due",
    "breached",
}


async def create(user) -> str:
    response = await user.post("/api/tickets", json=TICKET)
    assert response.status_code == 201, await response.get_data()
    return response.headers["Location"]


async def one(user, ticket_id: str) -> dict:
    response = await user.get(f"/api/tickets/{ticket_id}")
    assert response.status_code == 200
    return (await response.get_json())["data"][0]


async def test_without_a_policy_the_object_is_there_with_nulls(agent):
    ticket = await one(agent, await create(agent))
    assert ticket["sla"] == dict.fromkeys(KEYS - {"breached"}) | {"breached": False}


async def test_the_object_carries_the_policy_and_its_due_times_in_the_api_date_format(agent):
    calendar = await SlaCalendar.create(name="24x7", hours="Mon-Sun 00:00-24:00", time_zone="UTC")
    await SlaPolicy.create(
        name="Standard", calendar=calendar, first_response_minutes=30, resolution_minutes=240
    )
    sla.policies_changed()
    ticket_id = await create(agent)
    ticket = await one(agent, ticket_id)
    body = ticket["sla"]
    assert set(body) == KEYS and body["policy"] == "Standard" and body["breached"] is False
    stored = await Ticket.get(id=int(ticket_id.removeprefix("INC-")))
    created = stored.created_at.replace(microsecond=0)
    assert body["firstResponseDue"] == (created + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert body["resolutionDue"] == (created + timedelta(minutes=240)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert body["due"] == body["firstResponseDue"]
    assert body["firstResponseAt"] is None and body["nextResponseDue"] is None
    assert ticket["dateCreated"].endswith("+0000")
    response = await agent.post(f"/api/tickets/{ticket_id}", json={"description": "On it"})
    assert response.status_code == 201
    assert (await one(agent, ticket_id))["sla"]["firstResponseAt"] is not None


async def test_customers_do_not_get_the_object(agent, customer):
    ticket_id = await create(customer)
    assert "sla" not in await one(customer, ticket_id)
