"""System events, the email outbox and consumed one-time tokens."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from helpdesk.models.tickets import Ticket


class Event(Model):
    """Something the system did or saw, e.g. `notification.ticket.confirm-contacts`."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=100)
    value = fields.CharField(max_length=1000)
    target = fields.CharField(max_length=64)
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="events", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "event"
        indexes = (("target", "key", "id"), ("ticket_id", "id"))


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # over an hourly cap on notifications: never sent, the reason in last_error


class OutboxEmail(Model):
    """An email waiting to leave, written in the same transaction as its cause."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="emails", null=True, on_delete=fields.SET_NULL
    )
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=500)
    body_text = fields.TextField()
    body_html = fields.TextField()
    message_id = fields.CharField(max_length=255, unique=True)
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=32, default="")  # the worker whose heartbeat renews the claim
    # Set while the SMTP server has the message: a worker that dies then may leave it accepted.
    send_started_at = fields.DatetimeField(null=True)
    maybe_duplicate = fields.BooleanField(default=False)  # resent after a send was cut off
    last_error = fields.CharField(max_length=1000, default="")
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    comment_id = fields.IntField(null=True)  # a public reply's email carries the comment's attachments

    class Meta:
        table = "outbox_email"
        # (status, sent_at): the hourly caps count what was sent in the last hour.
        indexes = (("status", "next_attempt_at"), ("ticket_id", "id"), ("status", "sent_at"))


class ConsumedToken(Model):
    """A one-time link that has been used: the unique digest makes reuse impossible."""

    digest = fields.CharField(max_length=64, primary_key=True)
    purpose = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "consumed_token"


class FeedEvent(Model):
    """One change other screens and processes must learn of (services/feed.py), written in the
    same transaction as the change. Ids grow in commit order: SQLite has one writer at a time, and
    on PostgreSQL a trigger takes the id under a transaction lock (migration 0011)."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=40)
    ticket_id = fields.IntField(null=True)  # no foreign key: the feed outlives nothing, locks nothing
    organisation_hid = fields.CharField(max_length=64, null=True)
    staff_only = fields.BooleanField(default=False)  # internal notes and agents-only events
    actor_id = fields.IntField(null=True)
    actor_label = fields.CharField(max_length=255, default="")
    data = fields.TextField(default="{}")
    created_at = fields.DatetimeField()

    class Meta:
        table = "feed_event"
        indexes = (("created_at",), ("ticket_id", "id"))
