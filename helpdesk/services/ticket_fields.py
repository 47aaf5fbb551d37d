"""The names several modules share about a ticket: what it links to, how a list of tickets is
filtered, and the sorts a list offers. Plain data, importing nothing of the services, so the
services that write tickets, the SQL that reads them and both faces can all use it."""

from dataclasses import dataclass
from datetime import datetime

CLASSIFIED = ("state", "type", "priority", "stage", "outcome")  # each a catalogue entry of its kind
LINKS = (*CLASSIFIED, "group", "assignee")  # a ticket's `<name>_id` columns


@dataclass
class TicketFilters:
    """The filters of a ticket list (DECISIONS 16); None means "any"."""

    state: int | None = None
    type: int | None = None
    priority: int | None = None
    stage: int | None = None
    outcome: int | None = None
    group: int | None = None
    assignee: int | None = None
    unassigned: bool = False
    open: bool | None = None
    organisation: str | None = None
    reporter: str | None = None
    q: str | None = None
    tag: str | None = None  # a tag's name (services/tags.py): agents only, customers match nothing
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_since: datetime | None = None
    resolved_since: datetime | None = None
    # The "Due soon / breached" queue: open tickets whose SLA warning time (services/sla.py) came by then
    sla_warned_by: datetime | None = None

    @property
    def searched(self) -> bool:
        """Whether the list is a search (a search box with something in it)."""
        return bool(self.q and self.q.strip())


# What a list sorts by: the API's sort names (the contract's) and the queue's columns, which sort
# state and priority in catalogue order, assignee by user id, unassigned last both ways.
SORTABLE = {
    "id": "id",
    "dateCreated": "created_at",
    "dateUpdated": "updated_at",
    "dateResolved": "resolved_at",
    "priority": "priority_id",
    "state": "state_id",
    "assignee": "assignee_id",
    "due": "sla_due_at",  # the earliest due of the running SLA clocks; tickets without one last
}
ONE_WAY = {"dateResolved"}  # newest first only
# sort name ("-" first: descending) -> (column, descending)
SORTS: dict[str, tuple[str, bool]] = {f"-{name}": (column, True) for name, column in SORTABLE.items()} | {
    name: (column, False) for name, column in SORTABLE.items() if name not in ONE_WAY
}
DEFAULT_SORT = "-id"
AGENT_SORTS = {"due", "-due"}  # service levels are the desk's own: customers never see them
