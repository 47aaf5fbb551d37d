"""Editing a ticket's words and parties, and deleting it from the desk (issue 16, tool 1)."""

import pytest

from helpdesk.errors import Conflict, Forbidden, Invalid, NotFound
from helpdesk.models import Ticket, TicketHistory
from helpdesk.services import ticket_edits
from tests.factories import make_admin, make_agent, make_customer, make_organisation, make_ticket


def an_edit(**changes) -> ticket_edits.TicketEdit:
    values = {"title": "Phones down", "description": "Phones are down", "organisation": "ORG-1"}
    return ticket_edits.TicketEdit(**values | {"reporter": "USR-1"} | changes)


async def test_an_edit_changes_the_words_and_records_each_field_once(app):
    agent, ticket = await make_agent(), await make_ticket()
    edit = an_edit(title="Phones down in Leeds", description="All desk phones in Leeds")
    saved = await ticket_edits.edit_ticket(
        human_id=ticket.human_id, edit=edit, actor=agent, expected_version=ticket.version
    )
    row = await Ticket.get(id=ticket.id)
    assert (row.title, row.description, row.version) == (edit.title, edit.description, ticket.version + 1)
    assert saved.version == row.version
    changes = await TicketHistory.filter(ticket_id=ticket.id).exclude(field="created").order_by("id")
    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("title", "Phones down", "Phones down in Leeds"),
        ("description", "Phones are down", "All desk phones in Leeds"),
    ]


async def test_a_new_organisation_is_named_from_the_directory_and_its_reporter_from_its_people(app):
    await make_organisation("ORG-7", name="Globex")
    await make_customer("ORG-7", name="Hank Scorpio", human_id="USR-77")
    agent, ticket = await make_agent(), await make_ticket()
    edit = an_edit(organisation="globex", reporter="hank scorpio")
    await ticket_edits.edit_ticket(human_id=ticket.human_id, edit=edit, actor=agent, expected_version=1)
    row = await Ticket.get(id=ticket.id)
    assert (row.organisation_hid, row.reporter_hid) == ("ORG-7", "USR-77")
    moved = TicketHistory.filter(ticket_id=ticket.id, field="organisation_hid", new_value="ORG-7")
    assert await moved.exists()


async def test_an_unknown_new_organisation_is_refused_unless_acknowledged(app):
    agent, ticket = await make_agent(), await make_ticket()
    with pytest.raises(Invalid) as refused:
        await ticket_edits.edit_ticket(
            human_id=ticket.human_id, edit=an_edit(organisation="Acme Ltd"), actor=agent, expected_version=1
        )
    assert "organisation" in refused.value.errors
    assert (await Ticket.get(id=ticket.id)).organisation_hid == "ORG-1"
    edit = an_edit(organisation="Acme Ltd", unknown_ok=True)
    await ticket_edits.edit_ticket(human_id=ticket.human_id, edit=edit, actor=agent, expected_version=1)
    assert (await Ticket.get(id=ticket.id)).organisation_hid == "Acme Ltd"


async def test_parties_left_as_they_were_need_no_directory(app):
    """ORG-1 and USR-1 are unknown to the directory here: editing only the title still saves."""
    agent, ticket = await make_agent(), await make_ticket()
    edit = an_edit(title="New title")
    await ticket_edits.edit_ticket(human_id=ticket.human_id, edit=edit, actor=agent, expected_version=1)
    assert (await Ticket.get(id=ticket.id)).title == "New title"


async def test_a_stale_version_is_a_conflict_and_nothing_changes(app):
    agent, ticket = await make_agent(), await make_ticket()
    await ticket_edits.edit_ticket(
        human_id=ticket.human_id, edit=an_edit(title="First"), actor=agent, expected_version=1
    )
    with pytest.raises(Conflict):
        await ticket_edits.edit_ticket(
            human_id=ticket.human_id, edit=an_edit(title="Second"), actor=agent, expected_version=1
        )
    assert (await Ticket.get(id=ticket.id)).title == "First"


async def test_customers_edit_nothing(app):
    customer, ticket = await make_customer("ORG-1"), await make_ticket()
    with pytest.raises(Forbidden):
        await ticket_edits.edit_ticket(
            human_id=ticket.human_id, edit=an_edit(title="Mine"), actor=customer, expected_version=1
        )
    stranger = await make_customer("ORG-2")
    with pytest.raises(NotFound):
        await ticket_edits.edit_ticket(
            human_id=ticket.human_id, edit=an_edit(title="Mine"), actor=stranger, expected_version=1
        )
    assert (await Ticket.get(id=ticket.id)).title == "Phones down"


async def test_only_admins_delete_from_the_desk_and_history_says_so(app):
    ticket = await make_ticket()
    for actor in (await make_agent(), await make_customer("ORG-1")):
        with pytest.raises(Forbidden):
            await ticket_edits.delete_ticket(human_id=ticket.human_id, actor=actor)
    assert (await Ticket.get(id=ticket.id)).deleted_at is None
    await ticket_edits.delete_ticket(human_id=ticket.human_id, actor=await make_admin())
    assert (await Ticket.get(id=ticket.id)).deleted_at is not None
    assert await TicketHistory.filter(ticket_id=ticket.id, field="deleted").exists()
