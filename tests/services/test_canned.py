"""Canned replies: shared ones are admins' to manage, personal ones their agent's; placeholders fill in."""

import pytest

from helpdesk.errors import Forbidden, Invalid, NotFound
from helpdesk.services import canned
from tests.factories import make_admin, make_agent, make_customer, make_organisation, make_ticket


async def test_placeholders_fill_in_and_unknown_ones_stay_as_written(app):
    await make_organisation("ORG-1", name="Acme")
    agent = await make_agent(name="Priya Shah")
    await make_customer(organisation_hid="ORG-1", human_id="USR-9", name="Bob Jones")
    ticket = await make_ticket(actor=agent, reporter_hid="USR-9", title="Phones down")
    reply = await canned.create_reply(
        title="Hello",
        body="Dear {customer_name}, about {ticket_number} ({ticket_title}) at {organisation_name}: "
        "{agent_name}. {unknown} {ticket_number",
        shared=False,
        actor=agent,
    )
    text = await canned.render_reply(reply_id=reply.id, human_id=ticket.human_id, actor=agent)
    assert text == (
        f"Dear Bob Jones, about {ticket.human_id} (Phones down) at Acme: Priya Shah. "
        "{unknown} {ticket_number"
    )


async def test_shared_replies_are_for_admins_to_manage_and_every_agent_to_use(app):
    admin, agent = await make_admin(), await make_agent()
    with pytest.raises(Forbidden):
        await canned.create_reply(title="Shared", body="x", shared=True, actor=agent)
    shared = await canned.create_reply(title="Shared", body="x", shared=True, actor=admin)
    own = await canned.create_reply(title="Mine", body="y", shared=False, actor=agent)
    listed = await canned.list_replies(actor=agent)
    assert [(r.title, r.shared, r.editable) for r in listed] == [
        ("Shared", True, False),
        ("Mine", False, True),
    ]
    with pytest.raises(Forbidden):
        await canned.update_reply(reply_id=shared.id, title="Changed", body="x", actor=agent)
    await canned.update_reply(reply_id=shared.id, title="Changed", body="z", actor=admin)
    await canned.update_reply(reply_id=own.id, title="Mine 2", body="y", actor=agent)
    assert [r.title for r in await canned.list_replies(actor=agent)] == ["Changed", "Mine 2"]
    await canned.delete_reply(reply_id=own.id, actor=agent)
    assert [r.title for r in await canned.list_replies(actor=agent)] == ["Changed"]


async def test_another_agents_personal_reply_reads_as_missing(app):
    mine, other = await make_agent(), await make_agent()
    ticket = await make_ticket(actor=mine)
    reply = await canned.create_reply(title="Mine", body="y", shared=False, actor=mine)
    assert [r.title for r in await canned.list_replies(actor=other)] == []
    for call in (
        canned.get_reply(reply_id=reply.id, actor=other),
        canned.delete_reply(reply_id=reply.id, actor=other),
        canned.render_reply(reply_id=reply.id, human_id=ticket.human_id, actor=other),
    ):
        with pytest.raises(NotFound):
            await call


async def test_customers_have_no_canned_replies_and_empty_ones_are_refused(app):
    agent, customer = await make_agent(), await make_customer()
    with pytest.raises(NotFound):
        await canned.list_replies(actor=customer)
    with pytest.raises(NotFound):
        await canned.create_reply(title="x", body="y", shared=False, actor=customer)
    with pytest.raises(Invalid):
        await canned.create_reply(title=" ", body="y", shared=False, actor=agent)
