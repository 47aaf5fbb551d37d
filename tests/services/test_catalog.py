"""The catalogue, groups and agents: read from the per-process cache, fresh at once after a change
made here, and still refused to customers."""

import pytest

from helpdesk.errors import NotFound
from helpdesk.models import Group, StateKind, User
from helpdesk.services import admin, catalog, users
from tests.factories import make_admin, make_agent, make_customer
from tests.web.test_ticket_page_queries import logged_queries


async def test_whole_tables_are_read_once_then_served_from_memory(app):
    agent = await make_agent(name="Priya Shah")
    first = (
        await catalog.list_states(),
        await catalog.list_groups(actor=agent),
        await users.list_agents(actor=agent),
    )
    with logged_queries() as log:
        again = (
            await catalog.list_states(),
            await catalog.list_groups(actor=agent),
            await users.list_agents(actor=agent),
        )
    assert log.statements == []
    assert [[row.id for row in rows] for rows in again] == [[row.id for row in rows] for rows in first]
    assert "Priya Shah" in [a.name for a in again[2]]


async def test_changes_made_here_show_at_once(app):
    boss = await make_admin(name="Boss")
    await catalog.list_states(), await catalog.list_groups(actor=boss), await users.list_agents(actor=boss)
    state = await admin.save_state(
        description="Waiting on vendor",
        position=99,
        closes=False,
        actor=boss,
        kind=StateKind.STATE,
        state_id=None,
    )
    await admin.create_group(name="Night shift", actor=boss)
    newcomer = await make_agent(name="Newcomer")
    assert state.id in [s.id for s in await catalog.list_states(kind=StateKind.STATE)]
    assert "Night shift" in [g.name for g in await catalog.list_groups(actor=boss)]
    assert newcomer.id in [a.id for a in await users.list_agents(actor=boss)]
    await users.deactivate_user(user_id=newcomer.id, actor=boss)
    assert newcomer.id not in [a.id for a in await users.list_agents(actor=boss)]


async def test_states_of_one_kind_and_callers_cannot_change_the_cached_lists(app):
    agent = await make_agent()
    priorities = await catalog.list_states(kind=StateKind.PRIORITY)
    assert priorities and all(s.kind == StateKind.PRIORITY for s in priorities)
    (await catalog.list_groups(actor=agent)).clear()
    (await users.list_agents(actor=agent)).clear()
    assert len(await catalog.list_groups(actor=agent)) == await Group.all().count()
    assert len(await users.list_agents(actor=agent)) == await User.filter(agent=True, active=True).count()


async def test_customers_list_neither_groups_nor_agents(app):
    customer = await make_customer()
    with pytest.raises(NotFound):
        await catalog.list_groups(actor=customer)
    with pytest.raises(NotFound):
        await users.list_agents(actor=customer)
