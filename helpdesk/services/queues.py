"""The queues agents work from: named ticket filters with their counts."""

from dataclasses import dataclass, replace
from datetime import timedelta

from helpdesk.errors import NotFound
from helpdesk.models import Group, User
from helpdesk.services import catalog
from helpdesk.services.tickets import DEFAULT_SORT, TicketFilters, count_tickets, now

RESOLVED_WINDOW = timedelta(days=7)
COUNT_CAP = 1000  # a queue count reads at most this many index entries, however big the queue


class AtLeast(int):
    """A count that stopped at the cap: compares as the number, shows as "1000+"."""

    def __str__(self) -> str:
        return f"{int(self)}+"


@dataclass
class Queue:
    name: str
    label: str
    filters: TicketFilters
    sort: str = DEFAULT_SORT
    count: int | None = None


def _due_soon() -> Queue:
    """Open tickets whose SLA warning time has passed (overdue ones too), most urgent first."""
    filters = TicketFilters(open=True, sla_warned_by=now())
    return Queue("due", "Due soon / breached", filters, sort="due")


def _resolved() -> Queue:
    filters = TicketFilters(open=False, resolved_since=now() - RESOLVED_WINDOW)
    return Queue("resolved", "Recently resolved", filters, sort="-dateResolved")


async def list_queues(*, actor: User, groups: list[Group] | None = None) -> list[Queue]:
    """The actor's queues in menu order, one per agent group (`groups`, when the caller already has
    catalog.list_groups); customers get their organisation's open and resolved."""
    open_ = Queue("open", "All open", TicketFilters(open=True))
    if not actor.is_staff:
        return [replace(open_, label="Open tickets"), _resolved()]
    groups = await catalog.list_groups(actor=actor) if groups is None else groups
    return [
        Queue("mine", "My open tickets", TicketFilters(assignee=actor.id, open=True)),
        Queue("unassigned", "Unassigned", TicketFilters(unassigned=True, open=True)),
        _due_soon(),
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
    """Fill in each queue's count, one bounded query per queue: past COUNT_CAP it shows "1000+",
    so a page never counts a million open tickets."""
    for queue in queues:
        found = await count_tickets(actor=actor, filters=queue.filters, cap=COUNT_CAP)
        queue.count = AtLeast(found) if found >= COUNT_CAP else found
    return queues
