"""The ticket service: creation, human IDs and who may see what."""

import asyncio

import pytest

from helpdesk.errors import Forbidden, Invalid, NotFound
from helpdesk.models import State, StateKind, Ticket, TicketAttribute, TicketHistory
from helpdesk.services import tickets
from tests.factories import make_agent, make_customer, make_ticket


async def test_concurrent_creations_get_distinct_numbers(app):
    agent = await make_agent()
    created = await asyncio.gather(*(make_ticket(actor=agent) for _ in range(100)))
    numbers = {ticket.human_id for ticket in created}
    assert len(numbers) == 100
    assert all(number.startswith("INC-") for number in numbers)
    assert await Ticket.all().count() == 100


async def test_new_ticket_starts_in_first_state_with_contacts_and_history(app):
    agent = await make_agent()
    contacts = tickets.Contacts(
        main_email="a@x.example",
        phone_number="0123",
        preferred_contact_method="email",
        additional_emails=["b@x.example", "c@x.example"],
    )
    ticket = await make_ticket(actor=agent, contacts=contacts)
    await ticket.fetch_related("state")
    assert ticket.state.description == "New"
    rows = await TicketAttribute.filter(ticket=ticket).order_by("id").values_list("key", "value")
    assert rows == [
        ("mainEmail", "a@x.example"),
        ("phoneNumber", "0123"),
        ("preferredContactMethod", "email"),
        ("additionalEmail", "b@x.example"),
        ("additionalEmail", "c@x.example"),
    ]
    history = await TicketHistory.get(ticket=ticket)
    assert (history.field, history.actor_id) == ("created", agent.id)


async def test_classification_must_be_of_the_right_kind(app):
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    with pytest.raises(Invalid) as error:
        await make_ticket(classification={"state": priority.id})
    assert "state" in error.value.errors
    assert await Ticket.all().count() == 0


async def test_customer_opens_tickets_only_for_own_organisation(app):
    customer = await make_customer(organisation_hid="ORG-7")
    with pytest.raises(Forbidden):
        await make_ticket(actor=customer, organisation_hid="ORG-8")
    mine = await make_ticket(actor=customer, organisation_hid="ORG-7", assignee_id=None)
    assert mine.organisation_hid == "ORG-7"


async def test_customer_cannot_see_other_organisations_tickets(app):
    other = await make_ticket(organisation_hid="ORG-8")
    customer = await make_customer(organisation_hid="ORG-7")
    with pytest.raises(NotFound):
        await tickets.get_ticket(human_id=other.human_id, actor=customer)


@pytest.mark.parametrize("text", ["INC-0", "INC-", "INC-01", "inc-1", "1", "INC-1x", "INC-١"])
def test_malformed_human_ids_name_no_ticket(text):
    assert Ticket.parse_human_id(text) is None


async def test_creation_and_agent_replies_notify_enabled_contacts_but_notes_do_not(app):
    from helpdesk.models import Event, OutboxEmail

    agent = await make_agent()
    contacts = tickets.Contacts(main_email="main@x.example", additional_emails=["extra@x.example"])
    ticket = await make_ticket(actor=agent, contacts=contacts)
    assert sorted(await OutboxEmail.filter(ticket=ticket).values_list("recipient", flat=True)) == [
        "extra@x.example", "main@x.example"
    ]  # fmt: skip
    await tickets.post_comment(human_id=ticket.human_id, body="note", actor=agent, internal=True)
    assert await OutboxEmail.filter(ticket=ticket).count() == 2
    await tickets.post_comment(human_id=ticket.human_id, body="We are on it", actor=agent)
    assert await OutboxEmail.filter(ticket=ticket).count() == 4
    keys = await Event.filter(ticket=ticket).order_by("id").values_list("key", flat=True)
    assert keys == ["notification.ticket.create", "notification.ticket.reply"]
