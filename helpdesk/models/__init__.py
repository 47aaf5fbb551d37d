"""The ORM models, one module per aggregate."""

from helpdesk.models.attachments import Attachment
from helpdesk.models.catalog import State, StateKind
from helpdesk.models.desk_tools import CannedReply, SavedView, Tag, TicketLink, TicketTag
from helpdesk.models.events import ConsumedToken, Event, FeedEvent, OutboxEmail, OutboxStatus
from helpdesk.models.live import ReplyDraft, TicketPresence
from helpdesk.models.mail import BouncingAddress, InboundEmail, InboundStatus
from helpdesk.models.notifications import Notification, NotificationSetting
from helpdesk.models.people import (
    ApiToken,
    AssignmentMode,
    Attempt,
    Group,
    GroupMember,
    Organisation,
    RateBucket,
    User,
    WebSession,
)
from helpdesk.models.sla import SlaCalendar, SlaEvent, SlaHoliday, SlaPolicy
from helpdesk.models.tickets import (
    Comment,
    ContactProposal,
    IdempotencyKey,
    Ticket,
    TicketAttribute,
    TicketHistory,
)

MAX_ID = 2**31 - 1  # ids are 32-bit integers in both databases: larger ones name nothing


def ids_in_range(*ids: int | None) -> bool:
    """Whether every given id could name a row (a larger number would overflow the database driver)."""
    return all(value is None or 0 < value <= MAX_ID for value in ids)


__all__ = [
    "MAX_ID",
    "ids_in_range",
    "ApiToken",
    "Attachment",
    "Attempt",
    "BouncingAddress",
    "CannedReply",
    "Comment",
    "ConsumedToken",
    "ContactProposal",
    "Event",
    "FeedEvent",
    "AssignmentMode",
    "Group",
    "GroupMember",
    "IdempotencyKey",
    "InboundEmail",
    "InboundStatus",
    "Notification",
    "NotificationSetting",
    "Organisation",
    "OutboxEmail",
    "OutboxStatus",
    "RateBucket",
    "SlaCalendar",
    "SlaEvent",
    "SlaHoliday",
    "SlaPolicy",
    "ReplyDraft",
    "SavedView",
    "State",
    "StateKind",
    "Tag",
    "Ticket",
    "TicketAttribute",
    "TicketHistory",
    "TicketPresence",
    "TicketLink",
    "TicketTag",
    "User",
    "WebSession",
]
