"""Email intake: incoming messages stored raw before they are processed, addresses that bounced,
and each comment's channel (web, api, email) with an email's sender and whether it was verified."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from helpdesk.models.mail import InboundStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('helpdesk', '0013_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BouncingAddress',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('address', fields.CharField(unique=True, max_length=254)),
                ('reason', fields.CharField(default='', max_length=1000)),
                ('outbox_email_id', fields.IntField(null=True)),
                ('inbound_email_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'bouncing_address', 'app': 'helpdesk', 'pk_attr': 'id', 'table_description': 'An address a delivery-status notification said cannot be delivered to: the outbox holds its'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboundEmail',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_key', fields.CharField(unique=True, max_length=255)),
                ('raw_message', fields.BinaryField()),
                ('received_via', fields.CharField(max_length=8)),
                ('envelope_recipients', fields.TextField(default='', unique=False)),
                ('sender', fields.CharField(default='', max_length=254)),
                ('subject', fields.CharField(default='', max_length=500)),
                ('status', fields.CharEnumField(default=InboundStatus.RECEIVED, description='RECEIVED: received\nPROCESSING: processing\nDONE: done\nREFUSED: refused\nFAILED: failed', enum_type=InboundStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(default='', max_length=32)),
                ('last_error', fields.CharField(default='', max_length=1000)),
                ('outcome', fields.CharField(default='', max_length=1000)),
                ('ticket', fields.ForeignKeyField('helpdesk.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='inbound_emails', on_delete=OnDelete.SET_NULL)),
                ('comment', fields.ForeignKeyField('helpdesk.Comment', source_field='comment_id', null=True, db_constraint=True, to_field='id', related_name='inbound_emails', on_delete=OnDelete.SET_NULL)),
                ('body_text', fields.TextField(default='', unique=False)),
                ('attachments', fields.TextField(default='[]', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbound_email', 'app': 'helpdesk', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['ticket_id', 'id']), Index(fields=['sender', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One incoming message, stored raw before anything else happens to it.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Comment',
            name='channel',
            field=fields.CharField(default='web', db_default='web', max_length=8),
        ),
        ops.AddField(
            model_name='Comment',
            name='email_from',
            field=fields.CharField(default='', db_default='', max_length=254),
        ),
        ops.AddField(
            model_name='Comment',
            name='unverified',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
