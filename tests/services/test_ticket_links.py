"""Linking related tickets both ways, and merging a duplicate into another ticket."""

import pytest

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import Attachment, Comment, TicketAttribute, TicketHistory
from helpdesk.services import attachments, ticket_links, tickets
from tests.factories import make_agent, make_customer, make_ticket


async def test_linking_is_both_ways_and_both_histories_say_so(app):
    agent = await make_agent()
    one, two = await make_ticket(actor=agent), await make_ticket(actor=agent)
    assert await ticket_links.link_tickets(human_id=one.human_id, other=two.human_id.lower(), actor=agent)
    assert not await ticket_links.link_tickets(human_id=two.human_id, other=one.human_id, actor=agent)
    assert [(t.human_id, t.kind) for t in await ticket_links.links_of(ticket=one, actor=agent)] == [
        (two.human_id, "related")
    ]
    assert [t.human_id for t in await ticket_links.links_of(ticket=two, actor=agent)] == [one.human_id]
    for ticket, other in ((one, two), (two, one)):
        assert await TicketHistory.exists(ticket_id=ticket.id, field="link.added", new_value=other.human_id)
    assert await ticket_links.unlink_tickets(human_id=two.human_id, other=one.human_id, actor=agent)
    assert await ticket_links.links_of(ticket=one, actor=agent) == []
    with pytest.raises(Invalid):
        await ticket_links.link_tickets(human_id=one.human_id, other=one.human_id, actor=agent)
    with pytest.raises(Invalid):
        await ticket_links.link_tickets(human_id=one.human_id, other="INC-999999", actor=agent)


async def test_merging_moves_comments_and_contacts_closes_the_duplicate_and_links_both(app):
    agent = await make_agent()
    target = await make_ticket(
        actor=agent, contacts=tickets.Contacts(main_email="a@acme.example", phone_number="0113 496 0000")
    )
    duplicate = await make_ticket(
        actor=agent,
        contacts=tickets.Contacts(
            main_email="b@acme.example", phone_number="0113 496 0999", additional_emails=["a@acme.example"]
        ),
    )
    await tickets.post_comment(human_id=duplicate.human_id, body="same problem here", actor=agent)
    merged_into = await ticket_links.merge_ticket(
        human_id=duplicate.human_id, into=target.human_id, actor=agent
    )
    assert merged_into.id == target.id
    assert await Comment.filter(ticket_id=target.id, body="same problem here").exists()
    assert not await Comment.filter(ticket_id=duplicate.id).exists()
    contacts = await TicketAttribute.filter(ticket_id=target.id).order_by("id").values_list("key", "value")
    assert ("additionalEmail", "b@acme.example") in contacts  # its main email, now an additional one
    assert [value for key, value in contacts if key == "phoneNumber"] == ["0113 496 0000"]
    closed = await tickets.load(human_id=duplicate.human_id, actor=agent, related=True)
    assert closed.resolved_at is not None and closed.state.closes
    assert [(t.human_id, t.kind) for t in await ticket_links.links_of(ticket=closed, actor=agent)] == [
        (target.human_id, "merged_into")
    ]
    assert [(t.human_id, t.kind) for t in await ticket_links.links_of(ticket=target, actor=agent)] == [
        (duplicate.human_id, "merged_from")
    ]
    assert await TicketHistory.exists(ticket_id=duplicate.id, field="merged.into", new_value=target.human_id)
    assert await TicketHistory.exists(ticket_id=target.id, field="merged.from", new_value=duplicate.human_id)


async def test_merging_is_refused_into_itself_a_deleted_ticket_or_another_organisation(app):
    agent = await make_agent()
    ticket, other_org = (
        await make_ticket(actor=agent),
        await make_ticket(actor=agent, organisation_hid="ORG-2"),
    )
    deleted = await make_ticket(actor=agent)
    await tickets.delete_ticket(human_id=deleted.human_id, actor=agent)
    for into in (ticket.human_id, deleted.human_id, other_org.human_id, "nonsense"):
        with pytest.raises(Invalid) as refused:
            await ticket_links.merge_ticket(human_id=ticket.human_id, into=into, actor=agent)
        assert "into" in refused.value.errors


async def test_customers_can_neither_link_nor_merge(app):
    agent, customer = await make_agent(), await make_customer(organisation_hid="ORG-1")
    one, two = await make_ticket(actor=agent), await make_ticket(actor=agent)
    with pytest.raises(Forbidden):
        await ticket_links.merge_ticket(human_id=one.human_id, into=two.human_id, actor=customer)
    with pytest.raises(Forbidden):
        await ticket_links.link_tickets(human_id=one.human_id, other=two.human_id, actor=customer)


async def test_merging_moves_the_files_of_the_comments_and_the_description(app):
    agent = await make_agent()
    duplicate, target = await make_ticket(actor=agent), await make_ticket(actor=agent)
    given = [attachments.Given("log.txt", attachments.spool_bytes(b"disk full\n"))]
    [on_comment] = await attachments.add_files(human_id=duplicate.human_id, files=given, actor=agent)
    await tickets.post_comment(
        human_id=duplicate.human_id, body="The log", actor=agent, attachment_ids=[on_comment.id]
    )
    shot = [attachments.Given("shot.txt", attachments.spool_bytes(b"screen\n"))]
    [described] = await attachments.add_to_new_ticket(ticket=duplicate, files=shot, actor=agent)
    await ticket_links.merge_ticket(human_id=duplicate.human_id, into=target.human_id, actor=agent)
    moved = await Attachment.filter(id__in=[on_comment.id, described.id]).values_list("ticket_id", flat=True)
    assert moved == [target.id, target.id]
    listed = await attachments.listed_for_ticket(ticket=target, actor=agent)
    assert {item.filename for some in listed.values() for item in some} == {"log.txt", "shot.txt"}
