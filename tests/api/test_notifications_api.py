"""A customer's reply through the API reopens their Pending ticket and tells its assignee."""

from helpdesk.models import Notification, State, StateKind, Ticket, TicketHistory
from tests.factories import make_agent, make_ticket


async def test_customer_reply_by_api_reopens_and_tells_the_assignee(customer, directory):
    ann = await make_agent()
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    ticket = await make_ticket(assignee_id=ann.id, classification={"state": pending.id})
    response = await customer.post(f"/api/tickets/{ticket.human_id}", json={"description": "Still broken"})
    assert response.status_code == 201, await response.get_data(as_text=True)
    assert (await Ticket.get(id=ticket.id)).state_id == (
        await State.get(kind=StateKind.STATE, description="Open")
    ).id
    change = await TicketHistory.get(ticket_id=ticket.id, field="state")
    assert (change.old_value, change.new_value, change.actor_id) == ("Pending", "Open", customer.user.id)
    assert await Notification.filter(user_id=ann.id).values_list("kind", flat=True) == ["assigned", "replied"]
