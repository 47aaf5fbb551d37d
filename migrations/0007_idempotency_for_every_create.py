"""Idempotency-Key on every POST that creates: comments, confirm-contacts events and users as well
as tickets. A key now records what it created (`scope`) and which one (`resource_id`); a user's
key names no ticket. The keys already stored were all for tickets.

On SQLite, Tortoise rebuilds the table to let `ticket_id` be empty and leaves out the unique
(user_id, key) constraint 0001 made: it comes back here as a unique index of the same name.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


async def keys_so_far_made_tickets(apps, schema_editor) -> None:
    client = schema_editor.client
    await client.execute_query("UPDATE idempotency_key SET resource_id = ticket_id")
    if client.capabilities.dialect == "sqlite":
        await client.execute_query(
            'CREATE UNIQUE INDEX IF NOT EXISTS "uid_idempotency_user_id_1b8b8d" ON idempotency_key (user_id, key)'
        )


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0006_outbox_heartbeat")]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='IdempotencyKey',
            options={'table': 'idempotency_key', 'app': 'helpdesk', 'unique_together': (('user', 'key'),), 'pk_attr': 'id', 'table_description': "A client's Idempotency-Key on a POST that creates, so a retry returns what the first made."},
        ),
        ops.AlterField(
            model_name='IdempotencyKey',
            name='ticket',
            field=fields.ForeignKeyField('helpdesk.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='idempotency_keys', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='IdempotencyKey',
            name='resource_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='IdempotencyKey',
            name='scope',
            field=fields.CharField(db_default='ticket', max_length=16),
        ),
        ops.RunPython(keys_so_far_made_tickets),
    ]  # fmt: skip
