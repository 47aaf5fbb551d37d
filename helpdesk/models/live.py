"""The live ticket page's own state: who has a ticket open (and is typing), and each person's reply
being written (services/presence.py)."""

from tortoise import fields
from tortoise.models import Model

from helpdesk.models.people import User
from helpdesk.models.tickets import Ticket


class TicketPresence(Model):
    """One person with a ticket page open, as of their page's last heartbeat; older than
    `presence.EXPIRES_SECONDS`, they left."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="presence", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="presence", on_delete=fields.CASCADE
    )
    typing = fields.BooleanField(default=False)
    seen_at = fields.DatetimeField()

    class Meta:
        table = "ticket_presence"
        unique_together = (("ticket", "user"),)
        # (ticket_id, seen_at): who is on a ticket now; (seen_at): pruning who left long ago.
        indexes = (("ticket_id", "seen_at"), ("seen_at",))


class ReplyDraft(Model):
    """The reply a person is writing on a ticket, kept until they post it (or empty it)."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="drafts", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="drafts", on_delete=fields.CASCADE
    )
    body = fields.TextField()
    internal = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "reply_draft"
        unique_together = (("ticket", "user"),)
