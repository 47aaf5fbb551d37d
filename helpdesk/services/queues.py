"""The queues agents work from: named ticket filters with their counts."""

from dataclasses import dataclass, replace
from datetime import timedelta

from tortoise.functions import Count

from helpdesk.errors import NotFound
from helpdesk.models import Group, Ticket, User
from helpdesk.services.tickets import DEFAULT_SORT, TicketFilters, count_tickets, now

RESOLVED_WINDOW = timedelta(days=7)


@dataclass
class Queue:
    name: str
    label: str
    filters: TicketFilters
    sort: str = DEFAULT_SORT
    count: int | None = None


def _resolved() -> Queue:
    filters = TicketFilters(open=False, resolved_since=now() - RESOLVED_WINDOW)
    return Queue("resolved", "Recently resolved", filters, sort="-dateResolved")


async def list_queues(*, actor: User) -> list[Queue]:
    """The actor's queues in menu order; customers get their organisation's open and resolved."""
    open_ = Queue("open", "All open", TicketFilters(open=True))
    if not actor.is_staff:
        return [replace(open_, label="Open tickets"), _resolved()]
    groups = await Group.all().order_by("name")
    return [
        Queue("mine", "My open tickets", TicketFilters(assignee=actor.id, open=True)),
        Queue("unassigned", "Unassigned", TicketFilters(unassigned=True, open=True)),
        *[Queue(f"group-{g.id}", g.name, TicketFilters(group=g.id, open=True)) for g in groups],
        open_,
        _resolved(),
    ]


def default_queue(actor: User) -> str:
    return "mine" if actor.is_staff else "open"


def pick_queue(queues: list[Queue], name: str) -> Queue:
    """The queue called `name` among the actor's, or NotFound."""
    for queue in queues:
        if queue.name == name:
            return queue
    raise NotFound(f"No queue {name}.")


async def count_queues(*, actor: User, queues: list[Queue]) -> list[Queue]:
    """Fill in each queue's count: one query per fixed queue, one for all group queues together."""
    per_group: dict[int, int] = {}
    if actor.is_staff:
        rows = (
            await Ticket.filter(deleted_at=None, resolved_at__isnull=True, group_id__isnull=False)
            .annotate(n=Count("id"))
            .group_by("group_id")
            .values("group_id", "n")
        )
        per_group = {row["group_id"]: row["n"] for row in rows}
    for queue in queues:
        if queue.name.startswith("group-"):
            queue.count = per_group.get(queue.filters.group or 0, 0)
        else:
            queue.count = await count_tickets(actor=actor, filters=queue.filters)
    return queues
