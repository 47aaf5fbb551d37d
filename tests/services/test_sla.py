"""Service levels: policy matching, clocks from the ticket's history, pauses, re-evaluation and the
timer's warnings and breaches, each announced once."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from helpdesk.errors import NotFound
from helpdesk.models import (
    Comment,
    FeedEvent,
    Group,
    GroupMember,
    Notification,
    OutboxEmail,
    SlaCalendar,
    SlaEvent,
    SlaHoliday,
    SlaPolicy,
    State,
    StateKind,
    Ticket,
    TicketHistory,
)
from helpdesk.services import sla, ticket_links, tickets
from tests.factories import make_agent, make_customer, make_organisation, make_ticket

ALWAYS = "Mon-Sun 00:00-24:00"


async def _state(kind: StateKind, description: str) -> State:
    return await State.get(kind=kind, description=description)


async def _policy(
    name: str, position: int = 0, *, hours: str = ALWAYS, time_zone: str = "UTC", **fields
) -> SlaPolicy:
    calendar, _ = await SlaCalendar.get_or_create(
        name=f"cal {hours} {time_zone}", defaults={"hours": hours, "time_zone": time_zone}
    )
    values = {"first_response_minutes": 60, "next_response_minutes": 120, "resolution_minutes": 480} | fields
    policy = await SlaPolicy.create(name=name, position=position, calendar=calendar, **values)
    sla.policies_changed()
    return policy


async def _stored(ticket) -> Ticket:
    return await Ticket.get(id=ticket.id)


async def _clocks(ticket, agent, now=None) -> dict[str, sla.Clock]:
    return {clock.target: clock for clock in await sla.ticket_clocks(ticket=ticket, actor=agent, now=now)}


async def _shift(ticket_id: int, delta: timedelta) -> None:
    """Move the ticket's whole past back by `delta` (its creation, history and comments)."""
    row = await Ticket.get(id=ticket_id)
    await Ticket.filter(id=ticket_id).update(created_at=row.created_at - delta)
    for model in (TicketHistory, Comment):
        for item in await model.filter(ticket_id=ticket_id):
            await model.filter(id=item.id).update(created_at=item.created_at - delta)


async def test_first_matching_policy_by_order_and_each_condition(app):
    agent = await make_agent()
    p1 = await _state(StateKind.PRIORITY, "P1 - Priority 1")
    change = await _state(StateKind.TYPE, "Change")
    group = await Group.create(name="Network")
    await make_organisation("ORG-P")
    await make_organisation("ORG-C", parent=await make_organisation("ORG-PARTNER"))
    await _policy("Default", 9)
    await _policy("P1", 1, priority=p1)
    await _policy("Changes", 2, type=change)
    await _policy("Network", 3, group=group)
    await _policy("Partner", 4, organisation_hid="ORG-PARTNER")
    await _policy("Later P1", 5, priority=p1)
    cases = [
        ({"classification": {"priority": p1.id}}, "P1"),
        ({"classification": {"type": change.id}}, "Changes"),
        ({"group_id": group.id}, "Network"),
        ({"organisation_hid": "ORG-C"}, "Partner"),  # by the organisation's partner
        ({"organisation_hid": "ORG-PARTNER"}, "Partner"),  # by the organisation itself
        ({"organisation_hid": "ORG-P"}, "Default"),
        ({"classification": {"priority": p1.id, "type": change.id}}, "P1"),  # the first in order wins
    ]
    for fields, name in cases:
        ticket = await make_ticket(actor=agent, **fields)
        summary = await sla.summary(ticket=ticket, actor=agent)
        assert summary.policy == name, fields


async def test_no_policy_no_clocks_but_first_response_is_recorded(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    assert (await _stored(ticket)).sla_policy_id is None
    assert await sla.ticket_clocks(ticket=ticket, actor=agent) == []
    await tickets.post_comment(human_id=ticket.human_id, body="On it", actor=agent)
    stored = await _stored(ticket)
    assert stored.first_response_at is not None and stored.first_response_due_at is None


async def test_due_times_are_stored_at_creation_and_only_a_public_agent_reply_is_a_first_response(app):
    agent, customer = await make_agent(), await make_customer(human_id="USR-9")
    await _policy("Default", first_response_minutes=30, resolution_minutes=240)
    ticket = await make_ticket(actor=agent)
    stored = await _stored(ticket)
    assert stored.first_response_due_at == stored.created_at + timedelta(minutes=30)
    assert stored.resolution_due_at == stored.created_at + timedelta(minutes=240)
    assert stored.sla_due_at == stored.first_response_due_at
    assert stored.sla_warn_at == stored.created_at + timedelta(minutes=24)  # 80 %
    assert stored.next_response_due_at is None
    await tickets.post_comment(human_id=ticket.human_id, body="note", actor=agent, internal=True)
    await tickets.post_comment(human_id=ticket.human_id, body="me too", actor=customer)
    assert (await _stored(ticket)).first_response_at is None
    reply = await tickets.post_comment(human_id=ticket.human_id, body="Looking", actor=agent)
    stored = await _stored(ticket)
    assert stored.first_response_at == reply.created_at
    assert stored.sla_due_at == stored.resolution_due_at  # first response met: resolution is next
    clocks = await _clocks(ticket, agent)
    assert clocks["first_response"].state == sla.MET and not clocks["first_response"].late


async def test_next_response_runs_after_each_customer_message(app):
    agent, customer = await make_agent(), await make_customer(human_id="USR-9")
    await _policy("Default", next_response_minutes=120)
    ticket = await make_ticket(actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="Looking", actor=agent)
    assert (await _stored(ticket)).next_response_due_at is None
    asked = await tickets.post_comment(human_id=ticket.human_id, body="Any news?", actor=customer)
    await tickets.post_comment(human_id=ticket.human_id, body="And?", actor=customer)
    stored = await _stored(ticket)
    assert stored.next_response_due_at == asked.created_at + timedelta(minutes=120)  # from the first waiting
    clocks = await _clocks(ticket, agent, now=asked.created_at + timedelta(minutes=100))
    assert clocks["next_response"].state == sla.WARNING
    answer = await tickets.post_comment(human_id=ticket.human_id, body="Fixed soon", actor=agent)
    clocks = await _clocks(ticket, agent)
    assert clocks["next_response"].met_at == answer.created_at


async def test_a_pausing_state_moves_the_due_by_the_paused_span(app):
    agent = await make_agent()
    pending = await _state(StateKind.STATE, "Pending")
    await State.filter(id=pending.id).update(pauses_sla=True)
    open_ = await _state(StateKind.STATE, "Open")
    await _policy("Default", first_response_minutes=60, resolution_minutes=480)
    ticket = await make_ticket(actor=agent, classification={"state": open_.id})
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=tickets.TicketChanges({"state": pending.id}), actor=agent
    )
    stored = await _stored(ticket)
    assert stored.sla_due_at is None and stored.sla_next_event_at is None  # paused: nothing running
    assert (await _clocks(ticket, agent))["resolution"].state == sla.PAUSED
    await _shift(ticket.id, timedelta(hours=2))  # opened 2 h ago, pending since 2 h ago
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=tickets.TicketChanges({"state": open_.id}), actor=agent
    )
    stored = await _stored(ticket)
    paused = (datetime.now(UTC) - stored.created_at) - timedelta(seconds=1)
    assert stored.resolution_due_at - (stored.created_at + timedelta(minutes=480)) >= paused
    explanation = await sla.explain(ticket=ticket, actor=agent)
    assert [name for _, end, name in explanation.paused if end is not None] == ["Pending"]
    assert any("Pending" in line for line in explanation.steps["resolution"])


async def test_resolving_meets_the_resolution_clock(app):
    agent = await make_agent()
    resolved = await _state(StateKind.STATE, "Resolved")
    await _policy("Default")
    ticket = await make_ticket(actor=agent)
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=tickets.TicketChanges({"state": resolved.id}), actor=agent
    )
    clocks = await _clocks(ticket, agent)
    assert clocks["resolution"].state == sla.MET and not clocks["resolution"].late
    stored = await _stored(ticket)
    assert stored.sla_due_at is None and not stored.sla_breached


async def test_changing_priority_re_evaluates_the_policy_and_the_history_says_so(app):
    agent = await make_agent()
    p1 = await _state(StateKind.PRIORITY, "P1 - Priority 1")
    await _policy("Default", 5, first_response_minutes=240)
    await _policy("P1", 1, priority=p1, first_response_minutes=30)
    ticket = await make_ticket(actor=agent)
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=tickets.TicketChanges({"priority": p1.id}), actor=agent
    )
    stored = await _stored(ticket)
    assert stored.first_response_due_at == stored.created_at + timedelta(minutes=30)
    row = await TicketHistory.get(ticket_id=ticket.id, field=sla.POLICY_FIELD)
    assert (row.old_value, row.new_value, row.actor_id) == ("Default", "P1", agent.id)


async def test_changing_organisation_re_evaluates_by_partner(app):
    agent = await make_agent()
    await make_organisation("ORG-C", parent=await make_organisation("ORG-PARTNER"))
    await _policy("Partner", 1, organisation_hid="ORG-PARTNER")
    ticket = await make_ticket(actor=agent)
    assert (await _stored(ticket)).sla_policy_id is None
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=tickets.TicketChanges({"organisation_hid": "ORG-C"}), actor=agent
    )
    assert await TicketHistory.exists(
        ticket_id=ticket.id, field="sla_policy", old_value=None, new_value="Partner"
    )


async def test_customers_see_no_clocks(app):
    customer = await make_customer(human_id="USR-1")
    await _policy("Default")
    ticket = await make_ticket(actor=await make_agent())
    with pytest.raises(NotFound):
        await sla.ticket_clocks(ticket=ticket, actor=customer)
    assert await sla.summary(ticket=ticket, actor=customer) is None


async def test_timer_announces_warning_then_breach_once_with_two_timers_racing(app):
    agent = await make_agent()
    await _policy("Default", first_response_minutes=60, next_response_minutes=None, resolution_minutes=None)
    ticket = await make_ticket(actor=agent, assignee_id=(await make_agent()).id)
    created = (await _stored(ticket)).created_at
    assert await sla.fire_due(now=created + timedelta(minutes=10)) == 0  # nothing due yet
    warned = created + timedelta(minutes=50)
    await asyncio.gather(sla.fire_due(now=warned), sla.fire_due(now=warned))
    assert await SlaEvent.filter(ticket_id=ticket.id).count() == 1
    assert await TicketHistory.filter(ticket_id=ticket.id, field="sla.warning").count() == 1
    stored = await _stored(ticket)
    assert stored.sla_next_event_at == created + timedelta(minutes=60) and not stored.sla_breached
    late = created + timedelta(minutes=61)
    await asyncio.gather(*(sla.fire_due(now=late) for _ in range(3)))
    assert await TicketHistory.filter(ticket_id=ticket.id, field="sla.breach").count() == 1
    assert [e.kind for e in await SlaEvent.filter(ticket_id=ticket.id).order_by("id")] == [
        "warning",
        "breach",
    ]
    stored = await _stored(ticket)
    assert stored.sla_breached and stored.sla_next_event_at is None
    assert await Notification.filter(ticket_id=ticket.id, kind__startswith="sla_").count() == 2
    assert await OutboxEmail.filter(ticket_id=ticket.id, subject__contains="service level").count() == 2
    assert await FeedEvent.filter(ticket_id=ticket.id, data__contains='"sla"').count() == 2
    assert await sla.fire_due(now=late + timedelta(hours=1)) == 0


async def test_an_unassigned_ticket_warns_its_group(app):
    agent, other = await make_agent(), await make_agent()
    group = await Group.create(name="Desk")
    for member in (agent, other):
        await GroupMember.create(group=group, user=member)
    await _policy("Default", first_response_minutes=60, next_response_minutes=None, resolution_minutes=None)
    ticket = await make_ticket(actor=await make_agent(), group_id=group.id)
    created = (await _stored(ticket)).created_at
    await sla.fire_due(now=created + timedelta(minutes=61))
    told = await Notification.filter(ticket_id=ticket.id, kind__startswith="sla_").values_list(
        "user_id", "kind"
    )
    assert sorted(told) == sorted(
        [
            (agent.id, "sla_warning"),
            (agent.id, "sla_breach"),
            (other.id, "sla_warning"),
            (other.id, "sla_breach"),
        ]
    )


async def test_business_hours_and_holidays_count(app):
    agent = await make_agent()
    policy = await _policy(
        "Office", hours="Mon-Fri 09:00-17:00", time_zone="Europe/London", first_response_minutes=120
    )
    ticket = await make_ticket(actor=agent)
    friday_late = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # Friday 16:00 in London (GMT)
    await Ticket.filter(id=ticket.id).update(created_at=friday_late)
    await sla.recompute(ticket_id=ticket.id, moment=friday_late)
    assert (await _stored(ticket)).first_response_due_at == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    await SlaHoliday.create(calendar_id=policy.calendar_id, day=date(2026, 12, 7), name="Closed")
    await sla.recompute(ticket_id=ticket.id, moment=friday_late)
    assert (await _stored(ticket)).first_response_due_at == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


async def test_a_new_policy_applies_to_open_tickets_once_they_are_recomputed(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await _policy("Default")
    assert (await _stored(ticket)).sla_policy_id is None
    assert await sla.recompute_open() == 1
    stored = await _stored(ticket)
    assert stored.sla_policy_id is not None and stored.sla_due_at is not None
    assert await TicketHistory.exists(ticket_id=ticket.id, field="sla_policy", new_value="Default")


async def test_the_worker_timer_announces_what_is_overdue(app):
    agent = await make_agent()
    await _policy("Default", first_response_minutes=60, next_response_minutes=None, resolution_minutes=None)
    ticket = await make_ticket(actor=agent, assignee_id=(await make_agent()).id)
    await _shift(ticket.id, timedelta(hours=2))
    await sla.recompute(ticket_id=ticket.id)
    await sla.run_timer(once=True)
    assert {e.kind for e in await SlaEvent.filter(ticket_id=ticket.id)} == {"warning", "breach"}
    assert (await _stored(ticket)).sla_breached


async def test_merging_recomputes_the_target_whose_thread_gained_a_waiting_customer_message(app):
    agent, customer = await make_agent(), await make_customer(human_id="USR-9")
    await _policy("Default", next_response_minutes=120)
    target, duplicate = await make_ticket(actor=agent), await make_ticket(actor=agent)
    await tickets.post_comment(human_id=target.human_id, body="Looking", actor=agent)
    assert (await _stored(target)).next_response_due_at is None
    asked = await tickets.post_comment(human_id=duplicate.human_id, body="Still down", actor=customer)
    await ticket_links.merge_ticket(human_id=duplicate.human_id, into=target.human_id, actor=agent)
    # the customer's message now waits on the target: its next response is due from that message
    assert (await _stored(target)).next_response_due_at == asked.created_at + timedelta(minutes=120)


async def test_the_timer_stops_when_its_cancellation_meets_the_answer_it_waits_for(app, monkeypatch):
    """Python 3.11's asyncio.wait_for drops a cancellation that arrives with the result it waits
    for; the timer stops all the same (compat.stop_if_cancelled), rather than run on for ever."""
    answer = asyncio.get_running_loop().create_future()
    rounds = 0

    async def fire_due() -> int:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            await asyncio.wait_for(answer, 10)
        return 0

    monkeypatch.setattr(sla, "fire_due", fire_due)
    timer = asyncio.create_task(sla.run_timer())
    try:
        while rounds == 0:
            await asyncio.sleep(0)
        answer.set_result(None)
        timer.cancel()
        await asyncio.wait({timer}, timeout=5)
        assert timer.cancelled(), f"still running after {rounds} rounds"
    finally:
        timer.cancel()
