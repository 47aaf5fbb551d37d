"""Presence and collision on the ticket page: who else has a ticket open and is typing (agents only,
gone ~30 s after they leave), a reply against an older thread refused with the new replies unless
sent anyway, and drafts kept per person and ticket until the comment is posted."""

from datetime import timedelta

import pytest

from helpdesk.errors import NewReplies, NotFound
from helpdesk.models import ReplyDraft, TicketPresence
from helpdesk.services import feed, presence, streams, tickets, timeline
from helpdesk.services.tickets import TicketChanges
from tests.factories import make_agent, make_customer, make_ticket

pytestmark = pytest.mark.usefixtures("app")


async def presence_events(ticket) -> list[tuple[str, bool]]:
    """(actor, staff only) of each presence.changed feed row about the ticket."""
    return [
        (change.actor_label, change.staff_only)
        for change in await feed.read_after(0)
        if change.kind == "presence.changed" and change.ticket_id == ticket.id
    ]


async def test_a_heartbeat_names_the_others_on_the_ticket_and_whether_they_type():
    tom, ann = await make_agent(name="Tom"), await make_agent(name="Ann")
    ticket = await make_ticket(actor=tom)
    assert await presence.heartbeat(human_id=ticket.human_id, actor=tom) == []
    seen = await presence.heartbeat(human_id=ticket.human_id, actor=ann, typing=True)
    assert seen == [presence.Viewer("Tom", False)]
    assert await presence.who_is_here(human_id=ticket.human_id, actor=tom) == [presence.Viewer("Ann", True)]


async def test_presence_is_one_row_per_person_and_only_news_reaches_the_feed():
    tom = await make_agent(name="Tom")
    ticket = await make_ticket(actor=tom)
    for typing in (False, False, False, True, True, False):
        await presence.heartbeat(human_id=ticket.human_id, actor=tom, typing=typing)
    assert await TicketPresence.filter(ticket_id=ticket.id).count() == 1
    # arrived, started typing, stopped: three changes others see; the repeats wrote nothing
    assert await presence_events(ticket) == [("Tom", True)] * 3


async def test_someone_whose_heartbeats_stopped_is_gone_and_comes_back_as_news():
    tom, ann = await make_agent(name="Tom"), await make_agent(name="Ann")
    ticket = await make_ticket(actor=tom)
    await presence.heartbeat(human_id=ticket.human_id, actor=ann)
    old = presence.now() - timedelta(seconds=presence.EXPIRES_SECONDS + 1)
    await TicketPresence.filter(user_id=ann.id).update(seen_at=old)
    assert await presence.who_is_here(human_id=ticket.human_id, actor=tom) == []
    await presence.heartbeat(human_id=ticket.human_id, actor=ann)
    assert await presence.who_is_here(human_id=ticket.human_id, actor=tom) == [presence.Viewer("Ann", False)]
    assert len(await presence_events(ticket)) == 2


async def test_leaving_is_seen_at_once_and_old_rows_are_pruned():
    tom, ann = await make_agent(name="Tom"), await make_agent(name="Ann")
    ticket = await make_ticket(actor=tom)
    await presence.heartbeat(human_id=ticket.human_id, actor=ann)
    await presence.leave(human_id=ticket.human_id, actor=ann)
    assert await presence.who_is_here(human_id=ticket.human_id, actor=tom) == []
    await presence.heartbeat(human_id=ticket.human_id, actor=tom)
    assert await presence.prune(moment=presence.now() + presence.PRUNE_AFTER + timedelta(seconds=1)) == 1


async def test_customers_see_no_one_and_their_streams_never_carry_presence():
    tom = await make_agent(name="Tom")
    customer = await make_customer()
    ticket = await make_ticket(actor=tom)
    await presence.heartbeat(human_id=ticket.human_id, actor=tom, typing=True)
    assert await presence.heartbeat(human_id=ticket.human_id, actor=customer) == []
    changes = [c for c in await feed.read_after(0) if c.kind == "presence.changed"]
    assert len(changes) == 2
    assert not any(change.visible_to(customer) for change in changes)
    assert all(change.visible_to(tom) for change in changes)


async def test_presence_and_drafts_on_a_ticket_one_may_not_see_are_not_found():
    ticket = await make_ticket()
    stranger = await make_customer(organisation_hid="ORG-2")
    with pytest.raises(NotFound):
        await presence.heartbeat(human_id=ticket.human_id, actor=stranger)
    with pytest.raises(NotFound):
        await presence.save_draft(human_id=ticket.human_id, actor=stranger, body="Hello")
    assert await TicketPresence.all().count() == 0 and await ReplyDraft.all().count() == 0


async def test_a_reply_against_an_older_thread_is_refused_with_the_new_replies():
    tom, ann = await make_agent(name="Tom"), await make_agent(name="Ann")
    ticket = await make_ticket(actor=tom)
    first = await tickets.post_comment(human_id=ticket.human_id, body="Looking", actor=tom)
    await tickets.post_comment(human_id=ticket.human_id, body="Rebooted it", actor=ann)
    with pytest.raises(NewReplies) as refused:
        await tickets.post_comment(
            human_id=ticket.human_id, body="Reboot it", actor=tom, seen_through=first.id
        )
    assert refused.value.status == 409
    assert [(r.author_name, r.body) for r in refused.value.replies] == [("Ann", "Rebooted it")]
    # one's own later comments are no collision; sent anyway it goes through, once
    await tickets.post_comment(
        human_id=ticket.human_id, body="Reboot it", actor=tom, seen_through=first.id, send_anyway=True
    )
    bodies = [c.body for c in await timeline.thread_of(ticket=ticket, actor=tom)]
    assert bodies.count("Reboot it") == 1


async def test_a_customer_never_collides_with_an_internal_note():
    tom = await make_agent(name="Tom")
    customer = await make_customer()
    ticket = await make_ticket(actor=tom)
    first = await tickets.post_comment(human_id=ticket.human_id, body="We look", actor=tom)
    await tickets.post_comment(human_id=ticket.human_id, body="Secret", actor=tom, internal=True)
    # the customer replied after an internal note they cannot see: no collision for them
    await tickets.post_comment(human_id=ticket.human_id, body="Thanks", actor=customer, seen_through=first.id)
    with pytest.raises(NewReplies) as refused:
        await tickets.post_comment(human_id=ticket.human_id, body="Hm", actor=tom, seen_through=first.id)
    assert [r.body for r in refused.value.replies] == ["Thanks"]  # Tom's own note is no collision


async def test_a_draft_is_kept_per_person_restored_and_cleared_when_posted():
    tom, ann = await make_agent(name="Tom"), await make_agent(name="Ann")
    ticket = await make_ticket(actor=tom)
    await presence.save_draft(human_id=ticket.human_id, actor=tom, body="Half a", internal=True)
    await presence.save_draft(human_id=ticket.human_id, actor=tom, body="Half a reply", internal=True)
    await presence.save_draft(human_id=ticket.human_id, actor=ann, body="Ann's")
    draft = await presence.draft_of(ticket=ticket, actor=tom)
    assert (draft.body, draft.internal) == ("Half a reply", True)
    assert await ReplyDraft.filter(ticket_id=ticket.id).count() == 2
    await tickets.post_comment(human_id=ticket.human_id, body="Half a reply", actor=tom, internal=True)
    assert await presence.draft_of(ticket=ticket, actor=tom) is None
    assert (await presence.draft_of(ticket=ticket, actor=ann)).body == "Ann's"
    await presence.save_draft(human_id=ticket.human_id, actor=ann, body="  ")
    assert await presence.draft_of(ticket=ticket, actor=ann) is None


async def test_a_customers_draft_is_never_an_internal_note():
    customer = await make_customer()
    ticket = await make_ticket()
    await presence.save_draft(human_id=ticket.human_id, actor=customer, body="Hi", internal=True)
    assert (await presence.draft_of(ticket=ticket, actor=customer)).internal is False


async def test_an_update_says_what_changed_and_marks_the_actors_own_events():
    tom, ann = await make_agent(name="Tom"), await make_agent(name="Ann")
    ticket = await make_ticket(actor=tom)
    await tickets.update_ticket(
        human_id=ticket.human_id, changes=TicketChanges({"assignee": ann.id}), actor=tom
    )
    [change] = [c for c in await feed.read_after(0) if c.kind == "ticket.updated"]
    assert change.data["fields"] == {"assignee": "Ann"}
    assert change.data["said"] == "set Assignee to Ann"
    assert '"self":true' in streams.event_text(change, tom)
    assert '"self"' not in streams.event_text(change, ann)
