"""Agents' notifications: the right people are told, in the app and through the real SMTP server,
never the actor; each email kind can be switched off; a customer's reply reopens a waiting ticket."""

import pytest
from itsdangerous import URLSafeTimedSerializer

from helpdesk.errors import Forbidden, NotFound
from helpdesk.models import (
    Group,
    GroupMember,
    Notification,
    OutboxEmail,
    State,
    StateKind,
    Ticket,
    TicketHistory,
)
from helpdesk.services import contacts, feed, notifications, outbox, streams, tickets
from helpdesk.services.tickets import Contacts, TicketChanges
from tests.factories import make_agent, make_customer, make_ticket


async def told(user) -> list[tuple[str, int]]:
    """(kind, ticket id) of each of the user's notifications, oldest first."""
    return [(n.kind, n.ticket_id) for n in await Notification.filter(user_id=user.id).order_by("id")]


async def delivered(app, mailbox) -> list[tuple[str, str]]:
    """Send what the outbox holds through the test SMTP server; (recipient, subject) it received."""
    await outbox.deliver_due(mailbox.config(app.config))
    return sorted((envelope.rcpt_tos[0], message["Subject"]) for envelope, message in mailbox.received)


async def assign(ticket, agent, actor):
    return await tickets.update_ticket(
        human_id=ticket.human_id, changes=TicketChanges({"assignee": agent.id}), actor=actor
    )


async def state(name: str) -> State:
    return await State.get(kind=StateKind.STATE, description=name)


async def test_assignee_is_told_and_emailed_never_the_actor(app, mailbox):
    tom, ann = await make_agent(name="Tom"), await make_agent(name="Ann")
    ticket = await make_ticket(actor=tom, title="Phones down")
    await OutboxEmail.all().delete()
    await assign(ticket, ann, tom)
    assert await told(ann) == [("assigned", ticket.id)] and await told(tom) == []
    assert await delivered(app, mailbox) == [(ann.email, f"[{ticket.human_id}] Phones down: assigned to you")]
    [(_, message)] = mailbox.received
    body = message.get_body(("plain",)).get_content()
    assert f"Tom assigned {ticket.human_id} to you" in body
    assert f"{app.config['BASE_URL']}/tickets/{ticket.human_id}" in body


async def test_taking_a_ticket_oneself_tells_nobody(app, mailbox):
    tom = await make_agent()
    ticket = await make_ticket(actor=tom)
    await OutboxEmail.all().delete()
    await assign(ticket, tom, tom)
    assert await Notification.all().count() == 0
    assert await delivered(app, mailbox) == []


async def test_a_new_ticket_tells_its_assignee_or_else_its_group(app):
    tom, ann, bob, carl = [await make_agent(name=n) for n in ("Tom", "Ann", "Bob", "Carl")]
    group = await Group.create(name="Network")
    for member in (tom, ann, bob):
        await GroupMember.create(group=group, user=member)
    unassigned = await make_ticket(actor=tom, group_id=group.id)
    assigned = await make_ticket(actor=tom, group_id=group.id, assignee_id=carl.id)
    assert await told(ann) == await told(bob) == [("new_in_group", unassigned.id)]
    assert await told(carl) == [("assigned", assigned.id)]
    assert await told(tom) == []


async def test_customer_reply_tells_the_assignee_and_reopens_a_pending_ticket(app, mailbox):
    tom, ann = await make_agent(name="Tom"), await make_agent(name="Ann")
    customer = await make_customer(name="Carla")
    pending = await state("Pending")
    ticket = await make_ticket(
        actor=tom, assignee_id=ann.id, classification={"state": pending.id}, title="Slow"
    )
    await OutboxEmail.all().delete()
    await tickets.post_comment(human_id=ticket.human_id, body="Still slow here", actor=customer)
    assert await told(ann) == [("assigned", ticket.id), ("replied", ticket.id)]
    assert await delivered(app, mailbox) == [(ann.email, f"[{ticket.human_id}] Slow: the customer replied")]
    reopened = await Ticket.get(id=ticket.id)
    assert reopened.state_id == (await state("Open")).id and reopened.version == ticket.version + 1
    change = await TicketHistory.filter(ticket_id=ticket.id, field="state").get()
    assert (change.old_value, change.new_value, change.actor_id) == ("Pending", "Open", customer.id)
    kinds = [(c.kind, c.data.get("reopened")) for c in await feed.read_after(0)]
    assert ("ticket.updated", "Open") in kinds and ("comment.created", None) in kinds


async def test_customer_reply_reopens_a_resolved_ticket_but_not_a_closed_one(app):
    customer = await make_customer()
    resolved = await make_ticket(classification={"state": (await state("Resolved")).id})
    closed = await make_ticket(classification={"state": (await state("Closed")).id})
    for ticket in (resolved, closed):
        await tickets.post_comment(human_id=ticket.human_id, body="Hello again", actor=customer)
    after = await Ticket.get(id=resolved.id)
    assert after.state_id == (await state("Open")).id and after.resolved_at is None
    assert (await Ticket.get(id=closed.id)).state_id == (await state("Closed")).id


async def test_an_agents_reply_neither_reopens_nor_tells_the_assignee(app):
    tom, ann = await make_agent(), await make_agent()
    pending = await state("Pending")
    ticket = await make_ticket(actor=tom, assignee_id=ann.id, classification={"state": pending.id})
    await tickets.post_comment(human_id=ticket.human_id, body="We will call", actor=tom)
    assert await told(ann) == [("assigned", ticket.id)]
    assert (await Ticket.get(id=ticket.id)).state_id == pending.id


async def test_reopening_can_be_turned_off(app):
    customer = await make_customer()
    pending = await state("Pending")
    ticket = await make_ticket(classification={"state": pending.id})
    before = dict(notifications.settings)
    notifications.settings["reopen_state"] = ""
    try:
        await tickets.post_comment(human_id=ticket.human_id, body="Any news?", actor=customer)
    finally:
        notifications.settings.update(before)
    assert (await Ticket.get(id=ticket.id)).state_id == pending.id


async def test_email_intake_calls_one_function_to_reopen_and_tell(app):
    ann = await make_agent()
    ticket = await make_ticket(assignee_id=ann.id, classification={"state": (await state("Pending")).id})
    loaded = await Ticket.get(id=ticket.id)
    await notifications.customer_replied(
        ticket=loaded, actor=None, body="By mail", label="c@customer.example"
    )
    assert await told(ann) == [("assigned", ticket.id), ("replied", ticket.id)]
    change = await TicketHistory.filter(ticket_id=ticket.id, field="state").get()
    assert (change.new_value, change.actor_label) == ("Open", "c@customer.example")


async def test_mentions_in_internal_notes_tell_the_agents_named(app, mailbox):
    tom = await make_agent(name="Tom Baker", email="tom.baker@desk.example")
    ann = await make_agent(name="Ann Lee", email="ann@desk.example")
    bob = await make_agent(name="Bob", email="robert@desk.example")
    ticket = await make_ticket(actor=tom, title="Router")
    await OutboxEmail.all().delete()
    note = "@AnnLee and @robert, see the log. Mail ops@example.com, not @nobody. Me: @tom.baker"
    await tickets.post_comment(human_id=ticket.human_id, body=note, actor=tom, internal=True)
    assert await told(ann) == await told(bob) == [("mentioned", ticket.id)]
    assert await told(tom) == []
    assert [to for to, _ in await delivered(app, mailbox)] == sorted([ann.email, bob.email])
    await tickets.post_comment(human_id=ticket.human_id, body="@AnnLee public", actor=tom)
    assert await told(ann) == [("mentioned", ticket.id)]  # only internal notes mention


async def test_contacts_confirmed_tells_the_assignee(app, mailbox):
    ann = await make_agent()
    ticket = await make_ticket(assignee_id=ann.id, contacts=Contacts(main_email="main@customer.example"))
    await OutboxEmail.all().delete()
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=contacts.CONFIRM_SALT).dumps(
        {"ticket": ticket.id, "address": "main@customer.example"}
    )
    await contacts.confirm_contacts(token=token, corrections={}, config=app.config)
    assert await told(ann) == [("assigned", ticket.id), ("confirmed", ticket.id)]
    assert [subject for _, subject in await delivered(app, mailbox)] == [
        f"[{ticket.human_id}] Phones down: contacts confirmed"
    ]


async def test_switched_off_kinds_stay_in_the_app_but_are_not_emailed(app, mailbox):
    tom, ann = await make_agent(), await make_agent()
    customer = await make_customer()
    await notifications.set_email_switches(actor=ann, enabled={"customer"})
    assert await notifications.email_switches(actor=ann) == {
        "assigned": False, "customer": True, "new_in_group": False, "mentioned": False, "sla": False,
    }  # fmt: skip
    ticket = await make_ticket(actor=tom)
    await OutboxEmail.all().delete()
    await assign(ticket, ann, tom)
    await tickets.post_comment(human_id=ticket.human_id, body="Thanks", actor=customer)
    assert [kind for kind, _ in await told(ann)] == ["assigned", "replied"]
    assert [to for to, subject in await delivered(app, mailbox) if "customer replied" in subject] == [
        ann.email
    ]
    assert len(mailbox.received) == 1


async def test_each_user_reads_and_marks_only_their_own(app):
    tom, ann, bob = await make_agent(), await make_agent(), await make_agent()
    first, second = await make_ticket(actor=tom, title="One"), await make_ticket(actor=tom, title="Two")
    await assign(first, ann, tom)
    await assign(second, ann, tom)
    await assign(second, bob, tom)
    assert await notifications.unread_count(actor=ann) == 2
    entries = await notifications.latest(actor=ann)
    assert [(e.human_id, e.title, e.read) for e in entries] == [(second.human_id, "Two", False),
                                                                (first.human_id, "One", False)]  # fmt: skip
    with pytest.raises(NotFound):
        await notifications.mark_read(actor=bob, notification_id=entries[0].id)
    await notifications.mark_read(actor=ann, notification_id=entries[0].id)
    assert await notifications.unread_count(actor=ann) == 1
    assert await notifications.mark_all_read(actor=ann) == 1
    assert (
        await notifications.unread_count(actor=ann) == 0 and await notifications.unread_count(actor=bob) == 1
    )


async def test_customers_get_no_notifications(app):
    customer = await make_customer()
    assert await notifications.unread_count(actor=customer) == 0
    with pytest.raises(Forbidden):
        await notifications.latest(actor=customer)
    with pytest.raises(Forbidden):
        await notifications.set_email_switches(actor=customer, enabled=set())


async def test_the_feed_event_reaches_only_its_recipients(app):
    tom, ann, bob = await make_agent(), await make_agent(), await make_agent()
    customer = await make_customer()
    ticket = await make_ticket(actor=tom)
    await assign(ticket, ann, tom)
    [event] = [c for c in await feed.read_after(0) if c.kind == "notification.created"]
    assert [event.visible_to(user) for user in (ann, bob, tom, customer)] == [True, False, False, False]


async def test_the_stream_event_names_no_other_recipient(app):
    tom, ann = await make_agent(), await make_agent()
    ticket = await make_ticket(actor=tom)
    await assign(ticket, ann, tom)
    [event] = [c for c in await feed.read_after(0) if c.kind == "notification.created"]
    text = streams.event_text(event)
    assert "event: notification.created" in text and f'"ticketId":"{ticket.human_id}"' in text
    assert "users" not in text
