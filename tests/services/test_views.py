"""Saved views: an agent's own or shared with a group's members, counted like queues; none for customers."""

import pytest

from helpdesk.errors import Forbidden, Invalid, NotFound
from helpdesk.models import Group, GroupMember
from helpdesk.services import tags, views
from tests.factories import make_admin, make_agent, make_customer, make_ticket


async def test_a_view_keeps_filters_and_sort_and_counts_its_tickets(app):
    agent = await make_agent()
    for _ in range(3):
        await make_ticket(actor=agent, title="Printer")
    tagged = await make_ticket(actor=agent)
    await tags.add_tag(ticket_id=tagged.id, name="vip", actor=agent)
    view = await views.save_view(
        name=" VIP ", queue="open", filters={"tag": "VIP", "state": "", "bogus": "x"}, sort="-dateUpdated",
        actor=agent,
    )  # fmt: skip
    assert (view.name, view.filters, view.sort) == ("VIP", {"tag": "vip"}, "-dateUpdated")
    assert view.params == {"tag": "vip", "sort": "-dateUpdated"}
    everything = await views.save_view(name="All", queue="open", filters={}, sort="", actor=agent)
    counted = await views.count_views(actor=agent, views=await views.list_views(actor=agent))
    assert [(v.name, v.count) for v in counted] == [("All", 4), ("VIP", 1)]
    assert everything.sort == "-id"  # the queue's own sort when none was chosen


async def test_a_view_shared_with_a_group_is_visible_to_its_members_only(app):
    owner, member, outsider = await make_agent(), await make_agent(), await make_agent()
    group = await Group.create(name="Network")
    await GroupMember.create(group=group, user=owner)
    await GroupMember.create(group=group, user=member)
    shared = await views.save_view(
        name="Net", queue="open", filters={}, sort="", actor=owner, group_id=group.id
    )
    await views.save_view(name="Private", queue="open", filters={}, sort="", actor=owner)
    assert [v.name for v in await views.list_views(actor=owner)] == ["Net", "Private"]
    assert [(v.name, v.mine) for v in await views.list_views(actor=member)] == [("Net", False)]
    assert await views.list_views(actor=outsider) == []
    with pytest.raises(NotFound):  # only its owner edits or deletes it
        await views.update_view(view_id=shared.id, name="Mine now", group_id=None, actor=member)
    with pytest.raises(NotFound):
        await views.delete_view(view_id=shared.id, actor=member)
    with pytest.raises(Forbidden):  # sharing with a group one is not in
        await views.save_view(name="X", queue="open", filters={}, sort="", actor=outsider, group_id=group.id)
    await views.update_view(view_id=shared.id, name="Net only me", group_id=None, actor=owner)
    assert await views.list_views(actor=member) == []
    await views.delete_view(view_id=shared.id, actor=owner)
    assert [v.name for v in await views.list_views(actor=owner)] == ["Private"]


async def test_admins_share_with_any_group(app):
    admin = await make_admin()
    group = await Group.create(name="Desk")
    view = await views.save_view(name="D", queue="open", filters={}, sort="", actor=admin, group_id=group.id)
    assert view.group_id == group.id


async def test_customers_have_no_views_and_bad_input_is_invalid(app):
    agent, customer = await make_agent(), await make_customer()
    with pytest.raises(Forbidden):
        await views.save_view(name="Mine", queue="open", filters={}, sort="", actor=customer)
    assert await views.list_views(actor=customer) == []
    view = await views.save_view(name="A", queue="open", filters={}, sort="", actor=agent)
    with pytest.raises(NotFound):
        await views.get_view(view_id=view.id, actor=customer)
    for bad in (
        {"name": "", "queue": "open", "filters": {}},
        {"name": "x", "queue": "nowhere", "filters": {}},
        {"name": "x", "queue": "open", "filters": {"state": "abc"}},
    ):
        with pytest.raises(Invalid):
            await views.save_view(sort="", actor=agent, **bad)
