"""Attachments (services/attachments.py): one row per uploaded file, its bytes in the blob store
under their SHA-256; and the comment an outgoing email is about, so a public reply's email carries
that comment's files.

`(comment_id, id)` lists a thread's files, `(ticket_id, id)` a ticket's, `(uploaded_by_id, ticket_id)`
the uploader's files a new comment may carry.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0014_mail_intake")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Attachment",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("ticket", fields.ForeignKeyField(
                    "helpdesk.Ticket", source_field="ticket_id", db_constraint=True, to_field="id",
                    related_name="attachments", on_delete=OnDelete.CASCADE,
                )),
                ("comment", fields.ForeignKeyField(
                    "helpdesk.Comment", source_field="comment_id", null=True, db_constraint=True,
                    to_field="id", related_name="attachments", on_delete=OnDelete.CASCADE,
                )),
                ("on_ticket", fields.BooleanField(default=False)),
                ("sha256", fields.CharField(max_length=64)),
                ("size", fields.BigIntField()),
                ("filename", fields.CharField(max_length=255)),
                ("content_type", fields.CharField(max_length=127)),
                ("uploaded_by", fields.ForeignKeyField(
                    "helpdesk.User", source_field="uploaded_by_id", null=True, db_constraint=True,
                    to_field="id", related_name="attachments", on_delete=OnDelete.SET_NULL,
                )),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "attachment",
                "app": "helpdesk",
                "indexes": [
                    Index(fields=["comment_id", "id"]),
                    Index(fields=["ticket_id", "id"]),
                    Index(fields=["uploaded_by_id", "ticket_id"]),
                ],
                "pk_attr": "id",
                "table_description": "One uploaded file.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="OutboxEmail",
            name="comment_id",
            field=fields.IntField(null=True),
        ),
    ]
