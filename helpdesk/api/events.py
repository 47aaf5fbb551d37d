"""Contact confirmation events (DECISIONS 27-29)."""

from quart import Response, current_app, g

from helpdesk.api.blueprint import api
from helpdesk.api.http import empty, idempotency_key
from helpdesk.api.openapi import documents, takes_idempotency_key
from helpdesk.api.schemas import EventOut, envelope, event_out
from helpdesk.errors import NotFound
from helpdesk.services import contacts, tickets


@api.post("/events/confirm-contacts/<ticket_id>")
@documents(201, location=True)
@takes_idempotency_key
async def confirm_contacts(ticket_id: str) -> Response:
    """Record the event and queue one email per enabled contact; 201 with `Location: <event id>`.
    A repeat within a minute, or with the same `Idempotency-Key`, answers the same, with the first
    event's id, and sends nothing."""
    ticket = await tickets.load(human_id=ticket_id, actor=g.user)
    asked = await contacts.request_confirmation(
        ticket=ticket, actor=g.user, config=current_app.config, idempotency_key=idempotency_key()
    )
    return empty(201, str(asked.event.id))


@api.get("/events/confirm-contacts/<ticket_id>")
@documents(200, envelope("EventEnvelope", EventOut))
async def latest_confirm_contacts(ticket_id: str) -> dict:
    """The ticket's latest confirm-contacts event, or 404."""
    ticket = await tickets.load(human_id=ticket_id, actor=g.user)
    event = await contacts.latest_confirmation_request(ticket=ticket, actor=g.user)
    if event is None:
        raise NotFound(f"No confirm-contacts event for {ticket_id}.")
    return {"data": event_out(event)}
