"""Incoming email: each raw message as it arrived, before and after it is processed, and the
addresses whose mail bounced."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from helpdesk.models.tickets import Comment, Ticket


class InboundStatus(StrEnum):
    RECEIVED = "received"  # stored, waiting for a worker
    PROCESSING = "processing"  # claimed by a worker (claimed_until says until when)
    DONE = "done"  # became a comment, a ticket, or a bounce on record (outcome says which)
    REFUSED = (
        "refused"  # deliberately not acted on (an auto-reply, own mail, unknown sender): reason in outcome
    )
    FAILED = "failed"  # processing broke every attempt: reason in last_error, an admin may retry


class InboundEmail(Model):
    """One incoming message, stored raw before anything else happens to it.

    `message_key` is its Message-ID, or `sha256:<digest>` of the bytes when it has none: unique, so
    the same message delivered twice (a redelivery, LMTP and IMAP both) is stored once."""

    id = fields.IntField(primary_key=True)
    message_key = fields.CharField(max_length=255, unique=True)
    raw_message = fields.BinaryField()
    received_via = fields.CharField(max_length=8)  # lmtp or imap
    envelope_recipients = fields.TextField(default="")  # one a line, as the mail server gave them
    sender = fields.CharField(max_length=254, default="")  # the From address, lowercased
    subject = fields.CharField(max_length=500, default="")
    status = fields.CharEnumField(InboundStatus, max_length=16, default=InboundStatus.RECEIVED)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=32, default="")
    last_error = fields.CharField(max_length=1000, default="")
    outcome = fields.CharField(max_length=1000, default="")
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="inbound_emails", null=True, on_delete=fields.SET_NULL
    )
    comment: fields.ForeignKeyNullableRelation[Comment] = fields.ForeignKeyField(
        "helpdesk.Comment", related_name="inbound_emails", null=True, on_delete=fields.SET_NULL
    )
    body_text = fields.TextField(
        default=""
    )  # the whole text as sent, quotes and all (the comment is trimmed)
    attachments = fields.TextField(default="[]")  # JSON: filename, type, size of each MIME attachment
    created_at = fields.DatetimeField()
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbound_email"
        # (status, next_attempt_at): the worker's claim; (sender, created_at): the per-sender cap.
        indexes = (("status", "next_attempt_at"), ("ticket_id", "id"), ("sender", "created_at"))


class BouncingAddress(Model):
    """An address a delivery-status notification said cannot be delivered to: the outbox holds its
    emails until an agent clears it."""

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=254, unique=True)  # lowercased
    reason = fields.CharField(max_length=1000, default="")
    outbox_email_id = fields.IntField(null=True)  # the email that bounced
    inbound_email_id = fields.IntField(null=True)  # the notification that said so
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bouncing_address"
