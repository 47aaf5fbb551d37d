"""Indexes that serve the ticket lists' sorts among live tickets (deleted_at IS NULL).

Without them SQLite drove `WHERE deleted_at IS NULL ORDER BY id DESC LIMIT 101` by the
(deleted_at, resolved_at, id) index and sorted every live ticket for each page, and the report
walked every ticket ever created.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0002_full_text_search")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["deleted_at", "id"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["deleted_at", "created_at"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["deleted_at", "updated_at"]),
        ),
    ]
