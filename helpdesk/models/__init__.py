"""The ORM models, one module per aggregate."""

from helpdesk.models.catalog import State, StateKind
from helpdesk.models.events import ConsumedToken, Event, OutboxEmail, OutboxStatus
from helpdesk.models.people import ApiToken, Group, GroupMember, Organisation, User, WebSession
from helpdesk.models.tickets import Comment, IdempotencyKey, Ticket, TicketAttribute, TicketHistory

__all__ = [
    "ApiToken",
    "Comment",
    "ConsumedToken",
    "Event",
    "Group",
    "GroupMember",
    "IdempotencyKey",
    "Organisation",
    "OutboxEmail",
    "OutboxStatus",
    "State",
    "StateKind",
    "Ticket",
    "TicketAttribute",
    "TicketHistory",
    "User",
    "WebSession",
]
