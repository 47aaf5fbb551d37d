"""The ticket service: creation, human IDs and who may see what."""

import asyncio

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from helpdesk.errors import Forbidden, Invalid, NotFound
from helpdesk.models import (
    Comment,
    Event,
    IdempotencyKey,
    OutboxEmail,
    OutboxStatus,
    State,
    StateKind,
    Ticket,
    TicketAttribute,
    TicketHistory,
)
from helpdesk.services import idempotency, tickets
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
        phone_number="0113 496 0123",
        preferred_contact_method="email",
        additional_emails=["b@x.example", "c@x.example"],
    )
    ticket = await make_ticket(actor=agent, contacts=contacts)
    await ticket.fetch_related("state")
    assert ticket.state.description == "New"
    rows = await TicketAttribute.filter(ticket=ticket).order_by("id").values_list("key", "value")
    assert rows == [
        ("mainEmail", "a@x.example"),
        ("phoneNumber", "0113 496 0123"),
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
    customer = await make_customer(organisation_hid="ORG-7", human_id="USR-70")
    with pytest.raises(Forbidden):
        await make_ticket(actor=customer, organisation_hid="ORG-8")
    mine = await make_ticket(actor=customer, organisation_hid="ORG-7", assignee_id=None)
    assert mine.organisation_hid == "ORG-7"


async def test_customer_cannot_see_other_organisations_tickets(app):
    other = await make_ticket(organisation_hid="ORG-8")
    customer = await make_customer(organisation_hid="ORG-7")
    with pytest.raises(NotFound):
        await tickets.load(human_id=other.human_id, actor=customer)


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


# Writing a ticket or a comment in one trip (services/ticket_writes.py)


def new_ticket(**fields) -> tickets.NewTicket:
    values = dict(
        organisation_hid="ORG-1", contract_hid="CON-1", tenant_hid="1", reporter_hid="USR-1",
        description="Printer on fire", contacts=tickets.Contacts(main_email="a@x.example"),
    )  # fmt: skip
    return tickets.NewTicket(**values | fields)


async def test_created_ticket_reads_back_as_written(app):
    agent = await make_agent()
    created = await tickets.create_ticket(data=new_ticket(title="Fire"), actor=agent, idempotency_key="k-1")
    stored = await Ticket.get(id=created.id)
    assert (stored.title, stored.state_id, stored.version) == ("Fire", created.state_id, 1)
    assert stored.created_at == created.created_at == stored.updated_at
    assert (await IdempotencyKey.get(user=agent, key="k-1")).ticket_id == created.id
    event = await Event.get(ticket=created)
    assert (event.key, event.target) == ("notification.ticket.create", created.human_id)
    email = await OutboxEmail.get(ticket=created)
    assert created.human_id in email.body_text and email.status == OutboxStatus.PENDING


async def test_a_failed_create_leaves_no_ticket_and_queues_no_email(app):
    agent = await make_agent()
    first = await tickets.create_ticket(data=new_ticket(), actor=agent, idempotency_key="once")
    state = await tickets._default_state()
    with pytest.raises(IntegrityError):  # the idempotency row is the last write: everything before it goes
        key = idempotency.request(agent, "once", idempotency.TICKET)
        await tickets._insert_ticket(new_ticket(), {"state": state}, agent, key)
    assert await Ticket.all().values_list("id", flat=True) == [first.id]
    assert await OutboxEmail.all().count() == await Event.all().count() == 1
    assert await TicketHistory.all().count() == 1


async def test_a_create_inside_a_callers_transaction_rolls_back_with_it(app):
    agent = await make_agent()
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await tickets.create_ticket(data=new_ticket(), actor=agent)
            raise RuntimeError
    assert await Ticket.all().count() == await OutboxEmail.all().count() == 0


async def test_concurrent_retries_with_one_idempotency_key_make_one_ticket(app):
    agent = await make_agent()
    created = await asyncio.gather(
        *(tickets.create_ticket(data=new_ticket(), actor=agent, idempotency_key="burst") for _ in range(10))
    )
    assert {ticket.id for ticket in created} == {created[0].id}
    assert await Ticket.all().count() == await OutboxEmail.all().count() == 1


async def test_new_tickets_start_in_the_state_now_first(app):
    new, second = await State.filter(kind=StateKind.STATE).order_by("position", "id").limit(2)
    assert (await make_ticket()).state_id == new.id
    second.position = new.position - 1
    await second.save()  # saving a state clears the cached first state
    assert (await make_ticket()).state_id == second.id


async def test_unknown_or_inactive_assignee_and_unknown_group_are_refused(app):
    inactive = await make_agent()
    inactive.active = False
    await inactive.save()  # saving a user clears the cached users
    customer = await make_customer()
    for assignee in (inactive.id, customer.id, 999_999):
        with pytest.raises(Invalid) as error:
            await make_ticket(assignee_id=assignee)
        assert "assignee" in error.value.errors
    with pytest.raises(Invalid) as error:
        await make_ticket(group_id=999_999)
    assert "group" in error.value.errors


async def test_comment_is_stored_touches_the_ticket_and_notifies_once(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent, contacts=tickets.Contacts(main_email="a@x.example"))
    comment = await tickets.post_comment(human_id=ticket.human_id, body="On it", actor=agent)
    stored = await Comment.get(id=comment.id)
    assert (stored.body, stored.author_id, stored.ticket_id) == ("On it", agent.id, ticket.id)
    assert (await Ticket.get(id=ticket.id)).updated_at == comment.created_at
    reply = await OutboxEmail.filter(ticket=ticket).order_by("-id").first()
    assert "On it" in reply.body_text and "new reply" in reply.subject


async def test_a_customer_is_the_reporter_whatever_the_request_says(app):
    customer = await make_customer(organisation_hid="ORG-7", human_id="USR-70")
    ticket = await make_ticket(actor=customer, organisation_hid="ORG-7", reporter_hid="USR-1")
    assert (await Ticket.get(id=ticket.id)).reporter_hid == "USR-70"


async def test_a_customer_without_a_user_id_cannot_be_named_reporter(app):
    customer = await make_customer(organisation_hid="ORG-7")
    with pytest.raises(Forbidden, match="no user ID"):
        await make_ticket(actor=customer, organisation_hid="ORG-7", reporter_hid="USR-1")
    assert not await Ticket.exists()


async def test_an_agent_names_any_reporter(app):
    ticket = await make_ticket(actor=await make_agent(human_id="USR-2"), reporter_hid="USR-1")
    assert (await Ticket.get(id=ticket.id)).reporter_hid == "USR-1"
