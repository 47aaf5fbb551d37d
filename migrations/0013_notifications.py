"""Agents' notifications (services/notifications.py): one row per thing an agent was told, read or
not, and each agent's choice of which kinds are also emailed.

`(user_id, id)` lists a user's newest; `(user_id, read_at)` counts their unread.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0012_positions_per_kind_and_organisation_defaults")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Notification",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("user", fields.ForeignKeyField(
                    "helpdesk.User", source_field="user_id", db_constraint=True, to_field="id",
                    related_name="notifications", on_delete=OnDelete.CASCADE,
                )),
                ("ticket", fields.ForeignKeyField(
                    "helpdesk.Ticket", source_field="ticket_id", db_constraint=True, to_field="id",
                    related_name="notifications", on_delete=OnDelete.CASCADE,
                )),
                ("kind", fields.CharField(max_length=32)),
                ("actor_label", fields.CharField(default="", max_length=255)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("read_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "notification",
                "app": "helpdesk",
                "indexes": [Index(fields=["user_id", "id"]), Index(fields=["user_id", "read_at"])],
                "pk_attr": "id",
                "table_description": "One thing an agent was told about a ticket.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NotificationSetting",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("user", fields.ForeignKeyField(
                    "helpdesk.User", source_field="user_id", db_constraint=True, to_field="id",
                    related_name="notification_settings", on_delete=OnDelete.CASCADE,
                )),
                ("kind", fields.CharField(max_length=32)),
                ("email", fields.BooleanField(default=True)),
            ],
            options={
                "table": "notification_setting",
                "app": "helpdesk",
                "unique_together": (("user", "kind"),),
                "pk_attr": "id",
                "table_description": "An agent's choice for one kind of notification.",
            },
            bases=["Model"],
        ),
    ]  # fmt: skip
