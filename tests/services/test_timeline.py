"""The ticket timeline and emails: merged, newest first, bounded, and for agents only."""

import pytest

from helpdesk.errors import NotFound
from helpdesk.models import Comment, OutboxEmail, OutboxStatus, Ticket, TicketHistory
from helpdesk.services import contacts, tickets, timeline
from helpdesk.services.history import REQUESTED
from tests.factories import make_agent, make_customer, make_ticket


async def timeline_for(ticket: Ticket, agent, **limit) -> list[timeline.TimelineEntry]:
    """The history panel's read, as the page makes it: the ticket loaded once, then its timeline."""
    loaded = await tickets.load(human_id=ticket.human_id, actor=agent, staff_only=True)
    return await timeline.timeline_of(ticket=loaded, actor=agent, **limit)


async def test_timeline_is_bounded_and_newest_first(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent, contacts=tickets.Contacts(main_email="a@acme.example"))
    for n in range(4):
        await tickets.post_comment(human_id=ticket.human_id, body=f"note {n}", actor=agent, internal=True)
    entries = await timeline_for(ticket, agent, limit=3)
    assert [e.item.body for e in entries] == ["note 3", "note 2", "note 1"]
    everything = await timeline_for(ticket, agent)
    assert [e.kind for e in everything][-2:] == ["event", "change"]  # the create notification, then "created"
    assert len(everything) == 6 and all(
        a.at >= b.at for a, b in zip(everything, everything[1:], strict=False)
    )


async def test_confirm_request_names_the_agent_in_the_history(app):
    agent = await make_agent(name="Tom Okafor")
    ticket = await make_ticket(actor=agent, contacts=tickets.Contacts(main_email="a@acme.example"))
    await contacts.request_confirmation(ticket=ticket, actor=agent, config=app.config)
    row = await TicketHistory.get(ticket_id=ticket.id, field=REQUESTED)
    assert (row.actor_id, row.actor_label, row.new_value) == (
        agent.id,
        "Tom Okafor",
        "Confirm contacts notification sent.",
    )


async def test_emails_are_the_latest_twenty_without_bodies(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent, contacts=tickets.Contacts(main_email="a@acme.example"))
    for _ in range(21):
        await tickets.post_comment(human_id=ticket.human_id, body="reply", actor=agent)
    emails = await timeline.emails_of(ticket=ticket, actor=agent)
    assert len(emails) == 20 and emails[0].id > emails[-1].id and "new reply" in emails[0].subject
    with pytest.raises(AttributeError):
        emails[0].body_html  # noqa: B018 - the panel never loads the bodies


@pytest.mark.parametrize("read", [timeline.timeline_of, timeline.emails_of, timeline.thread_of])
async def test_readers_of_a_loaded_ticket_check_the_actor_again(app, read):
    """A ticket object handed over without tickets.load's check still reads as missing to a stranger."""
    ticket = await make_ticket(organisation_hid="ORG-2")
    with pytest.raises(NotFound):
        await read(ticket=ticket, actor=await make_customer("ORG-1"))


@pytest.mark.parametrize("read", [timeline.timeline_of, timeline.emails_of])
async def test_internal_readers_of_a_loaded_ticket_refuse_its_own_customer(app, read):
    ticket = await make_ticket()
    customer = await make_customer("ORG-1")
    with pytest.raises(NotFound):
        await read(ticket=await tickets.load(human_id=ticket.human_id, actor=customer), actor=customer)


async def test_a_deleted_ticket_in_hand_reads_as_missing(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await tickets.delete_ticket(human_id=ticket.human_id, actor=agent)
    ticket.deleted_at = (await Ticket.get(id=ticket.id)).deleted_at
    with pytest.raises(NotFound):
        await timeline.thread_of(ticket=ticket, actor=agent)


async def test_the_thread_hides_internal_notes_from_customers_and_feeds_the_timeline(app):
    agent = await make_agent()
    ticket = await make_ticket(actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="public", actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="internal", actor=agent, internal=True)
    customer = await make_customer("ORG-1")
    assert [c.body for c in await timeline.thread_of(ticket=ticket, actor=customer)] == ["public"]
    thread = await timeline.thread_of(ticket=ticket, actor=agent)
    reused = await timeline.timeline_of(ticket=ticket, actor=agent, thread=thread, limit=3)
    assert [e.item.id for e in reused] == [e.item.id for e in await timeline_for(ticket, agent, limit=3)]


async def test_comments_carry_their_authors_names_or_the_id_they_were_posted_under(app):
    agent = await make_agent(name="Priya Shah")
    ticket = await make_ticket(actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="mine", actor=agent, internal=True)
    await tickets.post_comment(human_id=ticket.human_id, body="gone", actor=agent)
    await Comment.filter(ticket_id=ticket.id, body="gone").update(author_id=None, author_hid="USR-9")
    thread = await timeline.thread_of(ticket=ticket, actor=agent)
    assert [(c.body, c.author_name, c.internal) for c in thread] == [
        ("mine", "Priya Shah", True),
        ("gone", "USR-9", False),
    ]
    entries = await timeline.timeline_of(ticket=ticket, actor=agent)
    assert [e.who for e in entries if e.kind == "comment"] == ["USR-9", "Priya Shah"]
    assert all(e.at.tzinfo is not None for e in entries)


async def test_notification_events_say_where_their_emails_are(app):
    """History said "notification sent." while the email still waited in the outbox."""
    agent = await make_agent()
    contacts_ = tickets.Contacts(main_email="a@acme.example", additional_emails=["b@acme.example"])
    ticket = await make_ticket(actor=agent, contacts=contacts_)
    await tickets.post_comment(human_id=ticket.human_id, body="reply", actor=agent)

    async def deliveries() -> dict[str, str]:
        entries = await timeline_for(ticket, agent)
        return {e.item.key: e.item.delivery for e in entries if e.kind == "event"}

    created, reply = "notification.ticket.create", "notification.ticket.reply"
    assert await deliveries() == {created: "queued", reply: "queued"}
    emails = await OutboxEmail.filter(ticket_id=ticket.id).order_by("id")
    await OutboxEmail.filter(id__in=[e.id for e in emails[:2]]).update(status=OutboxStatus.SENT)
    await OutboxEmail.filter(id=emails[2].id).update(status=OutboxStatus.FAILED)
    assert await deliveries() == {created: "sent", reply: "failed"}
