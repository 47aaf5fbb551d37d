"""The change feed: each write point publishes in its own transaction; ids are seen in commit order,
each exactly once, by a reader polling while many writers commit; old rows are pruned."""

import asyncio
import contextlib
import random
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from helpdesk.errors import Conflict
from helpdesk.models import ApiToken, FeedEvent, StateKind, WebSession
from helpdesk.services import admin, feed, sessions, sql, tickets, users
from tests.factories import make_admin, make_agent, make_customer, make_ticket


async def _kinds() -> list[tuple[str, int | None, bool]]:
    return [(c.kind, c.ticket_id, c.staff_only) for c in await feed.read_after(0)]


async def test_ticket_writes_publish_one_change_each(app):
    agent = await make_agent()
    ticket = await make_ticket(agent)
    await tickets.post_comment(human_id=ticket.human_id, body="public", actor=agent)
    await tickets.post_comment(human_id=ticket.human_id, body="note", actor=agent, internal=True)
    changes = tickets.TicketChanges(values={"title": "renamed"})
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    await tickets.delete_ticket(human_id=ticket.human_id, actor=agent)
    assert await _kinds() == [
        ("ticket.created", ticket.id, False),
        ("comment.created", ticket.id, False),
        ("comment.created", ticket.id, True),  # an internal note reaches staff only
        ("ticket.updated", ticket.id, False),
        ("ticket.deleted", ticket.id, False),
    ]
    created = (await feed.read_after(0))[0]
    assert created.organisation_hid == ticket.organisation_hid and created.actor_label == agent.name


async def test_an_update_that_changes_nothing_publishes_nothing(app):
    agent = await make_agent()
    ticket = await make_ticket(agent, title="same")
    before = len(await feed.read_after(0))
    changes = tickets.TicketChanges(values={"title": "same"})
    await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)
    assert len(await feed.read_after(0)) == before


async def test_access_and_catalogue_changes_are_published(app):
    boss, agent = await make_admin(), await make_agent()
    await users.create_token(user=agent, name="t", actor=None)
    token = await ApiToken.get(user_id=agent.id)
    await admin.revoke_token(user_id=agent.id, token_id=token.id, actor=boss)
    await admin.create_group(name="Night shift", actor=boss)
    await admin.save_state(
        description="Parked", position=9, closes=False, actor=boss, kind=StateKind.STATE, state_id=None
    )
    await users.deactivate_user(user_id=agent.id, actor=boss)
    kinds = [kind for kind, _, _ in await _kinds()]
    assert kinds == ["token.revoked", "catalogue.changed", "catalogue.changed", "user.deactivated"]
    assert all(staff_only for _, _, staff_only in await _kinds())


async def test_ending_sessions_publishes_and_ending_none_does_not(app):
    customer = await make_customer()
    assert await sessions.end_sessions_of(customer.id) == 0
    assert await _kinds() == []
    moment = datetime.now(UTC)
    await WebSession.create(
        digest="d" * 64, user=customer, expires_at=moment + timedelta(days=1), last_seen_at=moment
    )
    assert await sessions.end_sessions_of(customer.id) == 1
    assert [kind for kind, _, _ in await _kinds()] == ["session.ended"]


async def test_a_failed_change_publishes_nothing(app):
    agent = await make_agent()
    ticket = await make_ticket(agent)
    before = await feed.read_after(0)
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await feed.publish_ticket("ticket.updated", ticket, agent)
            raise RuntimeError("the change fails after its feed row")
    assert await feed.read_after(0) == before


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown feed kind"):
        feed.row("ticket.exploded")


async def _writer(number: int, written: list[int]) -> None:
    """A change whose transaction holds its feed id a while before it commits (or rolls back)."""
    try:
        async with in_transaction():
            await feed.publish("catalogue.changed", data={"writer": number})
            await asyncio.sleep(random.uniform(0, 0.02))  # noqa: S311 - a jitter, not a secret
            if number % 7 == 0:
                raise LookupError("rolled back: its id is a gap nobody waits for")
        written.append(number)
    except LookupError:
        pass


async def test_concurrent_writers_are_read_exactly_once_in_id_order(app):
    """Writers commit in a different order than they took ids unless ids follow commits: a reader
    polling meanwhile must still see every committed change once, in id order."""
    written: list[int] = []
    seen: list[feed.Change] = []
    done = asyncio.Event()

    async def reader() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            changes = await feed.read_after(cursor)
            seen.extend(changes)
            cursor = changes[-1].id if changes else cursor
            if finished and not changes:
                return
            await asyncio.sleep(0.001)

    polling = asyncio.create_task(reader())
    await asyncio.gather(*(_writer(n, written) for n in range(1, 121)))
    done.set()
    await polling
    ids = [change.id for change in seen]
    assert ids == sorted(set(ids))  # in id order, each once
    assert sorted(change.data["writer"] for change in seen) == sorted(written)
    assert len(written) == 120 - 120 // 7


async def test_retained_says_whether_a_client_can_resume(app):
    assert await feed.retained(0)  # an empty feed: nothing missed
    for _ in range(3):
        await feed.publish("catalogue.changed")
    lowest, highest = await feed.bounds()
    assert await feed.retained(lowest - 1) and await feed.retained(highest)
    assert not await feed.retained(highest + 1)  # past the feed: another database
    await FeedEvent.filter(id=lowest).delete()  # pruned
    assert not await feed.retained(lowest - 1) and await feed.retained(lowest)


async def test_the_bounds_are_read_from_the_primary_key_without_scanning_the_feed(app):
    """The dispatcher reads them on every idle poll; SQLite scanned the whole feed for MIN and MAX
    asked in one SELECT (25 ms at 137,000 rows, holding the process's one connection)."""
    for _ in range(3):
        await feed.publish("catalogue.changed")
    if sql.is_postgres():
        async with in_transaction() as connection:
            await connection.execute_script("SET LOCAL enable_seqscan = off")  # a tiny table: plan as if big
            _, rows = await connection.execute_query(f"EXPLAIN {feed.BOUNDS}")
        plan = "\n".join(row["QUERY PLAN"] for row in rows)
        assert "feed_event_pkey" in plan and "Seq Scan" not in plan, plan
    else:
        plan = "\n".join(row[3] for row in await sql.select_rows(f"EXPLAIN QUERY PLAN {feed.BOUNDS}"))
        assert "SCAN feed_event" not in plan and plan.count("SEARCH feed_event") == 2, plan
    ids = await FeedEvent.all().order_by("id").values_list("id", flat=True)
    assert await feed.bounds() == (ids[0], ids[-1])


async def test_prune_drops_old_rows_but_never_the_newest(app):
    old = datetime.now(UTC) - timedelta(hours=48)
    for _ in range(3):
        await feed.save(feed.row("catalogue.changed", moment=old))
    assert await feed.prune(hours=24) == 2
    assert len(await feed.read_after(0)) == 1  # the newest stays: ids never start again
    await feed.publish("catalogue.changed")
    assert await feed.prune(hours=24) == 1
    assert [c.created_at > old for c in await feed.read_after(0)] == [True]


async def test_replies_and_updates_of_one_ticket_at_once_all_commit(app):
    """A reply writes its feed row in the same statement as it touches the ticket, an update after
    it wrote the ticket: neither may wait for the other in a cycle (a deadlock would fail one)."""
    agent = await make_agent()
    ticket = await make_ticket(agent)

    async def reply(n: int) -> None:
        await tickets.post_comment(human_id=ticket.human_id, body=f"reply {n}", actor=agent)

    async def rename(n: int) -> None:
        changes = tickets.TicketChanges(values={"title": f"title {n}"})
        with contextlib.suppress(Conflict):  # two renames of one version: one is told to reload
            await tickets.update_ticket(human_id=ticket.human_id, changes=changes, actor=agent)

    await asyncio.gather(*(work(n) for n in range(30) for work in (reply, rename)))
    kinds = [kind for kind, _, _ in await _kinds()]
    assert kinds.count("comment.created") == 30 and kinds.count("ticket.updated") >= 1
