"""The live ticket page (services/presence.py): who has a ticket open and is typing, and each
person's reply being written, kept server-side until it is posted.

`(ticket_id, seen_at)` lists who is on a ticket now; `(seen_at)` prunes who left long ago.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0015_attachments")]

    initial = False

    operations = [
        ops.CreateModel(
            name="TicketPresence",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("ticket", fields.ForeignKeyField(
                    "helpdesk.Ticket", source_field="ticket_id", db_constraint=True, to_field="id",
                    related_name="presence", on_delete=OnDelete.CASCADE,
                )),
                ("user", fields.ForeignKeyField(
                    "helpdesk.User", source_field="user_id", db_constraint=True, to_field="id",
                    related_name="presence", on_delete=OnDelete.CASCADE,
                )),
                ("typing", fields.BooleanField(default=False)),
                ("seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "ticket_presence",
                "app": "helpdesk",
                "unique_together": (("ticket", "user"),),
                "indexes": [Index(fields=["ticket_id", "seen_at"]), Index(fields=["seen_at"])],
                "pk_attr": "id",
                "table_description": "One person with a ticket page open, as of their page's last heartbeat.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReplyDraft",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("ticket", fields.ForeignKeyField(
                    "helpdesk.Ticket", source_field="ticket_id", db_constraint=True, to_field="id",
                    related_name="drafts", on_delete=OnDelete.CASCADE,
                )),
                ("user", fields.ForeignKeyField(
                    "helpdesk.User", source_field="user_id", db_constraint=True, to_field="id",
                    related_name="drafts", on_delete=OnDelete.CASCADE,
                )),
                ("body", fields.TextField()),
                ("internal", fields.BooleanField(default=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "reply_draft",
                "app": "helpdesk",
                "unique_together": (("ticket", "user"),),
                "pk_attr": "id",
                "table_description": "The reply a person is writing on a ticket.",
            },
            bases=["Model"],
        ),
    ]  # fmt: skip
