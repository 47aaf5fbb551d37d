"""Who may see what: the one access check of a ticket already in hand, and of the agents-only
screens. tickets.load fetches a ticket and calls it; services handed a ticket call it again."""

from datetime import datetime
from typing import Protocol

from helpdesk.errors import Forbidden, NotFound
from helpdesk.models import User


class Visible(Protocol):
    """What the check reads of a ticket: a Ticket model or a ticket_queries.TicketRow."""

    human_id: str
    organisation_hid: str
    deleted_at: datetime | None


def authorise(ticket: Visible, actor: User, *, staff_only: bool = False, agents_only: str = "") -> None:
    """Deleted tickets and other organisations' tickets read as missing; with `staff_only`, so does
    every ticket to a customer (its internal panels do not exist for them, DECISIONS 10). With
    `agents_only` (an intent: "change tickets"), a customer who may see the ticket is refused it."""
    visible = actor.is_staff or (not staff_only and ticket.organisation_hid == actor.organisation_hid)
    if ticket.deleted_at is not None or not visible:
        raise NotFound(f"No ticket {ticket.human_id}.")
    if agents_only and not actor.is_staff:
        raise Forbidden(f"Only agents {agents_only}.")


def staff_only(actor: User, missing: str) -> None:
    """What only agents see (reports, the dashboard) reads as missing to anyone else."""
    if not actor.is_staff:
        raise NotFound(missing)
