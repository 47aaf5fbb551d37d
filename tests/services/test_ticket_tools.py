"""The ticket page's quicker tools (issue 16 tool 7): assign to me, reply and set state in one step,
the reporter by name, one's time zone."""

import pytest

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import Comment, State, StateKind, Ticket, TicketHistory, User
from helpdesk.services import accounts, ticket_edits
from tests.factories import make_agent, make_customer, make_ticket


async def test_assign_to_me_records_the_change(app):
    agent, ticket = await make_agent(name="Priya"), await make_ticket()
    await ticket_edits.assign_to_me(human_id=ticket.human_id, actor=agent)
    assert (await Ticket.get(id=ticket.id)).assignee_id == agent.id
    row = await TicketHistory.get(ticket_id=ticket.id, field="assignee")
    assert (row.new_value, row.actor_id) == ("Priya", agent.id)


async def test_customers_assign_nothing(app):
    ticket = await make_ticket()
    with pytest.raises(Forbidden):
        await ticket_edits.assign_to_me(human_id=ticket.human_id, actor=await make_customer("ORG-1"))
    assert (await Ticket.get(id=ticket.id)).assignee_id is None


async def test_reply_and_set_state_in_one_step(app):
    agent, ticket = await make_agent(), await make_ticket()
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    await ticket_edits.reply_and_set_state(
        human_id=ticket.human_id, body="Waiting for you", internal=False, state_id=pending.id, actor=agent
    )
    assert (await Ticket.get(id=ticket.id)).state_id == pending.id
    assert await Comment.filter(ticket_id=ticket.id, body="Waiting for you", internal=False).exists()


async def test_a_wrong_state_posts_nothing(app):
    agent, ticket = await make_agent(), await make_ticket()
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    for state_id in (priority.id, 99_999_999_999):
        with pytest.raises(Invalid):
            await ticket_edits.reply_and_set_state(
                human_id=ticket.human_id, body="x", internal=False, state_id=state_id, actor=agent
            )
    assert not await Comment.filter(ticket_id=ticket.id).exists()


async def test_a_customer_replies_but_sets_no_state(app):
    ticket, customer = await make_ticket(), await make_customer("ORG-1", human_id="USR-9")
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    with pytest.raises(Forbidden):
        await ticket_edits.reply_and_set_state(
            human_id=ticket.human_id, body="x", internal=False, state_id=pending.id, actor=customer
        )
    assert not await Comment.filter(ticket_id=ticket.id).exists()
    await ticket_edits.reply_and_set_state(
        human_id=ticket.human_id, body="Thanks", internal=False, state_id=None, actor=customer
    )
    assert await Comment.filter(ticket_id=ticket.id, body="Thanks").exists()


async def test_the_reporter_is_the_user_their_id_names(app):
    agent = await make_agent()
    ticket = await make_ticket(reporter_hid="USR-42")
    assert await ticket_edits.reporter_of(ticket=ticket, actor=agent) is None
    await make_customer("ORG-1", name="Wile E. Coyote", human_id="USR-42")
    assert (await ticket_edits.reporter_of(ticket=ticket, actor=agent)).name == "Wile E. Coyote"


async def test_a_time_zone_is_an_iana_name_or_empty(app):
    agent = await make_agent()
    await accounts.set_time_zone(actor=agent, time_zone="Europe/Berlin")
    assert (await User.get(id=agent.id)).time_zone == "Europe/Berlin"
    for wrong in ("Mars/Olympus", "CET; DROP TABLE", "../../etc/passwd"):
        with pytest.raises(Invalid):
            await accounts.set_time_zone(actor=agent, time_zone=wrong)
    await accounts.set_time_zone(actor=agent, time_zone="")
    assert (await User.get(id=agent.id)).time_zone == ""
