"""Agents' notifications: what the desk told each agent in the app, and which of it they also
want by email."""

from tortoise import fields
from tortoise.models import Model

from helpdesk.models.people import User
from helpdesk.models.tickets import Ticket


class Notification(Model):
    """One thing an agent was told about a ticket (services/notifications.py), unread until they
    open it or mark it read."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="notifications", on_delete=fields.CASCADE
    )
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=32)  # services/notifications.py KINDS
    actor_label = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        # (user_id, id): a user's newest first; (user_id, read_at): their unread count.
        indexes = (("user_id", "id"), ("user_id", "read_at"))


class NotificationSetting(Model):
    """An agent's choice for one kind of notification: whether it is emailed too. No row: it is."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="notification_settings", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=32)
    email = fields.BooleanField(default=True)

    class Meta:
        table = "notification_setting"
        unique_together = (("user", "kind"),)
