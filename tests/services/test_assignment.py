"""Assignment rules: a group's new tickets go to its members in turn or to the least busy one."""

import asyncio
import sqlite3
from collections import Counter

import pytest

from helpdesk.errors import Forbidden, Invalid
from helpdesk.models import AssignmentMode, Group, GroupMember, State, StateKind, Ticket, TicketHistory
from helpdesk.services import accounts, admin, assignment, sql, tickets, users
from helpdesk.services.admin import GroupChanges
from helpdesk.services.dispatcher import _connect_arguments
from tests.conftest import TEST_DB
from tests.factories import make_admin, make_agent, make_ticket


async def make_group(mode: AssignmentMode, *agents, name: str = "Support") -> Group:
    group = await Group.create(name=name, assignment=mode)
    for agent in agents:
        await GroupMember.create(group=group, user=agent)
    return group


async def assignees(group: Group, count: int, **fields) -> list[int | None]:
    made = [await make_ticket(group_id=group.id, **fields) for _ in range(count)]
    return [ticket.assignee_id for ticket in made]


async def test_round_robin_takes_members_in_turn(app):
    a, b, c = await make_agent(), await make_agent(), await make_agent()
    group = await make_group(AssignmentMode.ROUND_ROBIN, a, b, c)
    assert await assignees(group, 7) == [a.id, b.id, c.id, a.id, b.id, c.id, a.id]


async def test_manual_group_leaves_tickets_unassigned(app):
    group = await make_group(AssignmentMode.MANUAL, await make_agent())
    assert await assignees(group, 2) == [None, None]


async def test_least_open_picks_the_member_with_fewest_open_tickets(app):
    busy, idle = await make_agent(), await make_agent()
    group = await make_group(AssignmentMode.LEAST_OPEN, busy, idle)
    for _ in range(3):
        await make_ticket(assignee_id=busy.id)
    closed = await State.get(kind=StateKind.STATE, closes=True, description="Resolved")
    for _ in range(2):  # resolved and deleted tickets are not open
        await make_ticket(assignee_id=idle.id, classification={"state": closed.id})
    deleted = await make_ticket(assignee_id=idle.id)
    await Ticket.filter(id=deleted.id).update(deleted_at=deleted.created_at)
    # idle holds 0 open, busy 3: idle gets three, then they alternate
    assert await assignees(group, 5) == [idle.id, idle.id, idle.id, busy.id, idle.id]


async def test_unavailable_deactivated_and_full_agents_are_skipped(app):
    away, gone, full, free = [await make_agent() for _ in range(4)]
    group = await make_group(AssignmentMode.ROUND_ROBIN, away, gone, full, free)
    await accounts.set_available(actor=away, available=False)
    await users.deactivate_user(user_id=gone.id, actor=await make_admin())
    await set_capacity(full, 1)
    await make_ticket(assignee_id=full.id)
    assert await assignees(group, 3) == [free.id, free.id, free.id]


async def set_capacity(agent, capacity: int | None) -> None:
    await users.update_user(user_id=agent.id, changes={"capacity": capacity}, actor=await make_admin())


async def test_an_agent_with_room_is_assigned_up_to_capacity(app):
    agent = await make_agent()
    group = await make_group(AssignmentMode.ROUND_ROBIN, agent)
    await set_capacity(agent, 2)
    assert await assignees(group, 3) == [agent.id, agent.id, None]


async def test_no_eligible_agent_leaves_the_ticket_unassigned(app):
    empty = await make_group(AssignmentMode.ROUND_ROBIN, name="Empty")
    away = await make_agent()
    await accounts.set_available(actor=away, available=False)
    nobody = await make_group(AssignmentMode.LEAST_OPEN, away, name="Away")
    assert await assignees(empty, 1) == [None]
    assert await assignees(nobody, 1) == [None]


async def test_explicit_assignee_is_kept(app):
    a, b, chosen = await make_agent(), await make_agent(), await make_agent()
    group = await make_group(AssignmentMode.ROUND_ROBIN, a, b)
    ticket = await make_ticket(group_id=group.id, assignee_id=chosen.id)
    assert ticket.assignee_id == chosen.id
    assert not await TicketHistory.filter(ticket_id=ticket.id, field="assignee").exists()
    assert await assignees(group, 1) == [a.id]  # the cursor did not move


async def test_history_says_the_rule_assigned(app):
    agent = await make_agent(name="Priya")
    group = await make_group(AssignmentMode.ROUND_ROBIN, agent)
    ticket = await make_ticket(group_id=group.id)
    row = await TicketHistory.get(ticket_id=ticket.id, field="assignee")
    assert (row.actor_id, row.actor_label, row.new_value) == (None, "Assignment rule (round robin)", "Priya")
    stored = await Ticket.get(id=ticket.id)
    assert stored.assignee_id == agent.id and stored.first_assigned_at is not None


async def test_concurrent_creates_share_fairly(app):
    """Every create moves the cursor from where it read it: never two the same "next" agent."""
    agents = [await make_agent() for _ in range(4)]
    group = await make_group(AssignmentMode.ROUND_ROBIN, *agents)
    actor = await make_agent()
    count = 100 if TEST_DB == "postgres" else 40
    made = await asyncio.gather(*(make_ticket(actor=actor, group_id=group.id) for _ in range(count)))
    shares = Counter(ticket.assignee_id for ticket in made)
    assert set(shares) == {agent.id for agent in agents}
    assert all(abs(n - count / 4) <= 1 for n in shares.values()), shares
    assert await TicketHistory.filter(field="assignee").count() == count


class RawConnection:
    """A connection of its own to the test database, as another process would hold one: the pick's
    SQL run on it inside a transaction left open until `commit`."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url

    async def __aenter__(self):
        if TEST_DB == "postgres":
            import asyncpg

            self.pg = await asyncpg.connect(**_connect_arguments(self.url))
        else:
            path = self.url.removeprefix("sqlite://")
            self.lite = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        return self

    async def __aexit__(self, *exc) -> None:
        if TEST_DB == "postgres":
            await self.pg.close()
        else:
            self.lite.close()

    async def begin_and_pick(self, group_id: int) -> int | None:
        return await self._run(
            ["BEGIN", sql.numbered(assignment._PICK) if TEST_DB == "postgres" else assignment._PICK], group_id
        )

    async def commit(self) -> None:
        await self._run(["COMMIT"], None)

    async def _run(self, statements: list[str], group_id: int | None) -> int | None:
        picked = None
        for statement in statements:
            args = () if statement in ("BEGIN", "COMMIT") else (group_id,)
            if TEST_DB == "postgres":
                rows = await self.pg.fetch(statement, *args)
            else:
                rows = await asyncio.to_thread(lambda s=statement, a=args: self.lite.execute(s, a).fetchall())
            picked = rows[0][0] if rows else picked
        return picked


async def test_a_pick_waiting_on_another_connections_pick_takes_the_member_after_it(app, database_url):
    """Two processes pick at once: the second waits for the first's write to the group's row and
    then reads the cursor the first one moved, never the one it saw when it started."""
    a, b, c = await make_agent(), await make_agent(), await make_agent()
    group = await make_group(AssignmentMode.ROUND_ROBIN, a, b, c)
    async with RawConnection(database_url) as first, RawConnection(database_url) as second:
        assert await first.begin_and_pick(group.id) == a.id  # its transaction still open
        waiting = asyncio.create_task(second.begin_and_pick(group.id))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # held by the first one's write
        await first.commit()
        assert await asyncio.wait_for(waiting, 10) == b.id
        await second.commit()
    ticket = await make_ticket(group_id=group.id)
    assert ticket.assignee_id == c.id
    assert (await Group.get(id=group.id)).last_assigned_id == c.id


async def test_a_group_made_manual_meanwhile_assigns_nobody_and_keeps_its_cursor(app):
    """The rule is read from the cached group; the pick reads the mode again as it writes."""
    a, b = await make_agent(), await make_agent()
    group = await make_group(AssignmentMode.ROUND_ROBIN, a, b)
    assert await assignees(group, 1) == [a.id]
    await Group.filter(id=group.id).update(assignment=AssignmentMode.MANUAL)  # behind the cache's back
    assert await assignment.pick(group.id) is None
    assert (await Group.get(id=group.id)).last_assigned_id == a.id


async def test_admin_changes_mode_name_and_members(app):
    admin_user, a, b = await make_admin(), await make_agent(), await make_agent()
    group = await make_group(AssignmentMode.MANUAL, a)
    changes = GroupChanges(name=" Tier 2 ", members=[b.id], assignment="leastOpen")
    changed = await admin.update_group(group_id=group.id, changes=changes, actor=admin_user)
    assert (changed.name, changed.assignment) == ("Tier 2", AssignmentMode.LEAST_OPEN)
    assert [m.user_id for m in changed.members] == [b.id]
    assert await assignees(group, 1) == [b.id]  # the cached group learnt its new mode


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (GroupChanges(assignment="random"), "assignment"),
        (GroupChanges(name=" "), "name"),
        (GroupChanges(members=[999_999]), "members"),
    ],
)
async def test_bad_group_changes_are_invalid(app, changes, field):
    group = await make_group(AssignmentMode.MANUAL)
    with pytest.raises(Invalid) as error:
        await admin.update_group(group_id=group.id, changes=changes, actor=await make_admin())
    assert field in error.value.errors


async def test_only_admins_change_groups_and_capacity(app):
    agent = await make_agent()
    group = await make_group(AssignmentMode.MANUAL)
    with pytest.raises(Forbidden):
        await admin.update_group(
            group_id=group.id, changes=GroupChanges(assignment="roundRobin"), actor=agent
        )
    with pytest.raises(Forbidden):
        await users.update_user(user_id=agent.id, changes={"capacity": 3}, actor=agent)
    await users.update_user(user_id=agent.id, changes={"available": False}, actor=agent)


@pytest.mark.parametrize("capacity", [-1, 10_001, 2.5, "3", True])
async def test_bad_capacity_is_invalid(app, capacity):
    agent = await make_agent()
    with pytest.raises(Invalid):
        await users.update_user(user_id=agent.id, changes={"capacity": capacity}, actor=await make_admin())


async def test_customers_have_no_availability_switch(app):
    customer = await users.create_user(email="c@x.example", name="C", actor=None, organisation_hid="ORG-1")
    with pytest.raises(Forbidden):
        await accounts.set_available(actor=customer, available=False)


async def test_a_retried_create_keeps_its_assignee_and_moves_no_cursor(app):
    a, b, actor = await make_agent(), await make_agent(), await make_agent()
    group = await make_group(AssignmentMode.ROUND_ROBIN, a, b)
    data = tickets.NewTicket(
        organisation_hid="ORG-1", contract_hid="C", tenant_hid="1", reporter_hid="R", description="d",
        group_id=group.id,
    )  # fmt: skip
    first = await tickets.create_ticket(data=data, actor=actor, idempotency_key="k-1")
    again = await tickets.create_ticket(data=data, actor=actor, idempotency_key="k-1")
    assert (first.assignee_id, again.id, again.assignee_id) == (a.id, first.id, a.id)
    assert await assignees(group, 1) == [b.id]
