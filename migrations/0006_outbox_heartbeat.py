"""The outbox's claims are short and renewed by a heartbeat, so a dead worker's emails move on in seconds.

`claimed_by` names the worker that holds a row (its heartbeat renews only its own claims);
`send_started_at` is set while the SMTP server has the message, so a worker that takes over a row
of a dead worker knows the server may have accepted it already; `maybe_duplicate` tells the emails
panel that such a row was sent again (with the same Message-ID).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0005_bounded_search_documents")]

    initial = False

    operations = [
        ops.AddField(
            model_name="OutboxEmail",
            name="claimed_by",
            field=fields.CharField(max_length=32, default=""),
        ),
        ops.AddField(
            model_name="OutboxEmail",
            name="send_started_at",
            field=fields.DatetimeField(null=True),
        ),
        ops.AddField(
            model_name="OutboxEmail",
            name="maybe_duplicate",
            field=fields.BooleanField(default=False),
        ),
    ]
