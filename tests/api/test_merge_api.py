"""POST /api/tickets/{ticketId}/merge: 204 with the target's Location, 422 with the error shape."""

from helpdesk.models import Comment, Ticket
from tests.api.conftest import TICKET


async def create(user, **changes) -> str:
    response = await user.post("/api/tickets", json=TICKET | changes)
    assert response.status_code == 201, await response.get_data()
    return response.headers["Location"]


async def test_merge_is_204_with_the_target_as_location(agent):
    target, duplicate = await create(agent), await create(agent)
    await agent.post(f"/api/tickets/{duplicate}", json={"description": "me too"})
    response = await agent.post(f"/api/tickets/{duplicate}/merge", json={"into": target})
    assert response.status_code == 204 and response.headers["Location"] == target
    moved = await Comment.filter(ticket_id=Ticket.parse_human_id(target), body="me too").exists()
    assert moved
    [closed] = (await (await agent.get(f"/api/tickets/{duplicate}")).get_json())["data"]
    assert closed["dateResolved"] is not None


async def test_merge_is_refused_with_422_and_the_error_shape(agent):
    ticket, other_org = await create(agent), await create(agent, organisationHumanId="ORG-2")
    deleted = await create(agent)
    assert (await agent.delete(f"/api/tickets/{deleted}")).status_code == 202
    for into in (ticket, deleted, other_org):
        response = await agent.post(f"/api/tickets/{ticket}/merge", json={"into": into})
        body = await response.get_json()
        assert response.status_code == 422 and {"title", "message"} <= set(body), (into, body)
    response = await agent.post(f"/api/tickets/{ticket}/merge", json={"into": ticket, "extra": 1})
    assert response.status_code == 422


async def test_customers_cannot_merge(agent, customer):
    one, two = await create(agent), await create(agent)
    response = await customer.post(f"/api/tickets/{one}/merge", json={"into": two})
    assert response.status_code == 403
