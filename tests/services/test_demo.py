"""The demo data: believable, consistent with the rules the app enforces."""

from datetime import UTC, datetime

from helpdesk.models import (
    Comment,
    Organisation,
    SlaCalendar,
    SlaPolicy,
    State,
    Ticket,
    TicketAttribute,
    User,
)
from helpdesk.services.demo import seed_demo


async def test_demo_tickets_are_consistent(app):
    await seed_demo(tickets=300)
    assert await Ticket.all().count() == 300
    customers = {u.human_id: u for u in await User.filter(agent=False, admin=False)}
    tickets = await Ticket.all()
    assert all(customers[t.reporter_hid].organisation_hid == t.organisation_hid for t in tickets)
    assert await Organisation.filter(human_id__in={t.organisation_hid for t in tickets}).count() > 1
    notes = await Comment.filter(internal=True).select_related("author")
    assert notes and all(note.author.is_staff for note in notes)
    assert not await Comment.filter(author_id=None).exists()
    assert await Ticket.filter(assignee__admin=True).exists()  # the demo admin has a queue of their own
    assert await TicketAttribute.filter(key="mainEmail").count() == 300
    assert (
        await Ticket.filter(resolved_at__isnull=False).exists()
        and await Ticket.filter(resolved_at=None).exists()
    )


async def test_seeding_again_adds_tickets_after_the_existing_ones(app):
    await seed_demo(tickets=20)
    await seed_demo(tickets=20)
    assert await Ticket.all().count() == 40
    assert len(set(await Ticket.all().values_list("id", flat=True))) == 40


async def test_demo_service_levels_show_every_clock_state_right_after_seeding(app):
    summary = await seed_demo(tickets=400)
    assert "service level clocks" in summary
    assert {c.name for c in await SlaCalendar.all()} == {"UK office", "24x7"}
    assert await SlaPolicy.all().count() >= 2
    assert (await State.get(kind=1, description="Pending")).pauses_sla
    now = datetime.now(UTC)
    live = Ticket.filter(resolved_at=None, sla_policy_id__isnull=False)
    assert await live.filter(sla_due_at__lte=now).exists()  # breached
    assert await live.filter(sla_warn_at__lte=now, sla_due_at__gt=now).exists()  # warned only
    assert await live.filter(sla_warn_at__gt=now).exists()  # running fine
    assert await live.filter(sla_due_at=None, state__pauses_sla=True).exists()  # paused
