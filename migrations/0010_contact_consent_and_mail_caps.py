"""Contacts a customer names receive nothing until they opt in: each contact row records its consent
(the rows already stored were all trusted, as every contact was until now). Proposals a contact sends
from their link about the other contacts wait for an agent in `contact_proposal`. Emails over an
hourly cap are held (a new outbox status); the caps count what was sent lately by (status, sent_at).

The new status needs no new column (status is VARCHAR(16)), but Tortoise alters the field for the
enum's description, and on SQLite that rebuilds outbox_email without its two indexes: they come
back here under the names 0001 and 0006 gave them.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from helpdesk.models.events import OutboxStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


async def outbox_indexes_after_rebuild(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        await client.execute_script(
            'CREATE INDEX IF NOT EXISTS "idx_outbox_emai_status_97759f" ON "outbox_email" ("status", "next_attempt_at");'
            'CREATE INDEX IF NOT EXISTS "idx_outbox_emai_ticket__cb275b" ON "outbox_email" ("ticket_id", "id");'
        )


class Migration(migrations.Migration):
    dependencies = [('helpdesk', '0009_search_joined_words')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactProposal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('helpdesk.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='contact_proposals', on_delete=OnDelete.CASCADE)),
                ('address', fields.CharField(max_length=254)),
                ('note', fields.TextField(unique=False)),
                ('status', fields.CharField(default='open', max_length=16)),
                ('decided_by', fields.ForeignKeyField('helpdesk.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='contact_proposals_decided', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contact_proposal', 'app': 'helpdesk', 'indexes': [Index(fields=['ticket_id', 'id'])], 'pk_attr': 'id', 'table_description': "What a contact, from their link, says is wrong with the ticket's other contacts: agents"},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='OutboxEmail',
            name='status',
            field=fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed\nHELD: held', enum_type=OutboxStatus, max_length=16),
        ),
        ops.RunPython(outbox_indexes_after_rebuild),
        ops.AddIndex(
            model_name='OutboxEmail',
            index=Index(fields=['status', 'sent_at']),
        ),
        ops.AddField(
            model_name='TicketAttribute',
            name='consent',
            field=fields.CharField(default='trusted', db_default='trusted', max_length=16),
        ),
    ]
