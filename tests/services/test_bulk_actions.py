"""Bulk actions: one change to many tickets, each through its own service call (issue 16 tool 2)."""

import pytest

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import Comment, Group, State, StateKind, Ticket, TicketHistory
from helpdesk.services import bulk_actions, tags, tickets
from tests.factories import make_agent, make_customer, make_ticket


async def test_a_state_change_reaches_each_ticket_with_one_history_entry_each(app):
    agent = await make_agent()
    chosen = [await make_ticket(actor=agent) for _ in range(3)]
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    result = await bulk_actions.apply(
        action="state", human_ids=[t.human_id for t in chosen], value=pending.id, actor=agent
    )
    assert result.updated == [t.human_id for t in chosen] and result.summary() == "3 updated"
    for ticket in chosen:
        assert (await Ticket.get(id=ticket.id)).state_id == pending.id
        assert await TicketHistory.filter(ticket_id=ticket.id, field="state").count() == 1


async def test_priority_group_and_assignee_too_and_empty_clears(app):
    agent = await make_agent()
    group = await Group.create(name="Network")
    ticket = await make_ticket(actor=agent)
    urgent = await State.filter(kind=StateKind.PRIORITY).order_by("-position").first()
    for action, value in (("priority", urgent.id), ("group", group.id), ("assignee", agent.id)):
        result = await bulk_actions.apply(
            action=action, human_ids=[ticket.human_id], value=value, actor=agent
        )
        assert result.summary() == "1 updated"
    row = await Ticket.get(id=ticket.id)
    assert (row.priority_id, row.group_id, row.assignee_id) == (urgent.id, group.id, agent.id)
    await bulk_actions.apply(action="assignee", human_ids=[ticket.human_id], value=None, actor=agent)
    assert (await Ticket.get(id=ticket.id)).assignee_id is None


async def test_the_same_reply_or_note_goes_to_each(app):
    agent = await make_agent()
    chosen = [await make_ticket(actor=agent) for _ in range(2)]
    ids = [t.human_id for t in chosen]
    await bulk_actions.apply(action="reply", human_ids=ids, value="We are on it.", actor=agent)
    await bulk_actions.apply(action="note", human_ids=ids, value="Outage INC-1", actor=agent)
    for ticket in chosen:
        comments = await Comment.filter(ticket_id=ticket.id).order_by("id")
        assert [(c.body, c.internal) for c in comments] == [("We are on it.", False), ("Outage INC-1", True)]


async def test_each_refused_ticket_is_named_with_its_reason_and_the_rest_go_through(app):
    agent = await make_agent()
    kept, gone = await make_ticket(actor=agent), await make_ticket(actor=agent)
    await tickets.delete_ticket(human_id=gone.human_id, actor=agent)
    pending = await State.get(kind=StateKind.STATE, description="Pending")
    ids = [kept.human_id, gone.human_id, "INC-999999", kept.human_id]
    result = await bulk_actions.apply(action="state", human_ids=ids, value=pending.id, actor=agent)
    assert result.updated == [kept.human_id]
    assert result.summary() == (
        f"1 updated, 2 refused: {gone.human_id}: No ticket {gone.human_id}.; "
        "INC-999999: No ticket INC-999999."
    )
    assert await TicketHistory.filter(ticket_id=kept.id, field="state").count() == 1


async def test_a_value_of_the_wrong_kind_is_refused_for_each_ticket(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    result = await bulk_actions.apply(
        action="state", human_ids=[ticket.human_id], value=priority.id, actor=agent
    )
    assert result.updated == [] and "is not a state" in result.summary()


async def test_customers_change_nothing(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    customer = await make_customer("ORG-1")
    with pytest.raises(Forbidden):
        await bulk_actions.apply(action="reply", human_ids=[ticket.human_id], value="hi", actor=customer)
    assert not await Comment.filter(ticket_id=ticket.id).exists()


@pytest.mark.parametrize(
    ("action", "ids", "value"),
    [("explode", ["INC-1"], 1), ("state", [], 1), ("reply", ["INC-1"], "  "), ("note", ["INC-1"], None)],
)
async def test_bad_requests_are_refused_whole(app, action, ids, value):
    with pytest.raises(Invalid):
        await bulk_actions.apply(action=action, human_ids=ids, value=value, actor=await make_agent())


async def test_at_most_a_bounded_number_of_tickets_at_once(app):
    ids = [f"INC-{n}" for n in range(1, bulk_actions.MAX_TICKETS + 2)]
    with pytest.raises(Invalid):
        await bulk_actions.apply(action="note", human_ids=ids, value="x", actor=await make_agent())


async def test_a_tag_is_added_to_and_removed_from_each(app):
    agent = await make_agent()
    chosen = [await make_ticket(actor=agent) for _ in range(2)]
    ids = [t.human_id for t in chosen]
    result = await bulk_actions.apply(action="add_tag", human_ids=ids, value="VPN Outage", actor=agent)
    assert result.summary() == "2 updated"
    on = await tags.tags_for(ticket_ids=[t.id for t in chosen], actor=agent)
    assert [on.get(t.id) for t in chosen] == [["vpn-outage"], ["vpn-outage"]]
    await bulk_actions.apply(action="remove_tag", human_ids=ids[:1], value="vpn-outage", actor=agent)
    assert (await tags.tags_for(ticket_ids=[chosen[0].id], actor=agent)).get(chosen[0].id, []) == []
    with pytest.raises(Invalid):
        await bulk_actions.apply(action="add_tag", human_ids=ids, value="  ", actor=agent)
