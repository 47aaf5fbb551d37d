"""Attempts counted in the database (every app process sees them): failed sign-ins and emailed
links; and what a session's owner needs to recognise and end it: when it was last seen, from
which address and browser. The new web_session columns may be empty (sessions already open).

`user_id` gets an index: a user's sessions are listed and ended together.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('helpdesk', '0007_idempotency_for_every_create')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attempt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attempt', 'app': 'helpdesk', 'indexes': [Index(fields=['key', 'created_at']), Index(fields=['created_at'])], 'pk_attr': 'id', 'table_description': 'One counted attempt (a failed sign-in, an emailed link) under the digest of what it counts'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='WebSession',
            name='address',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='WebSession',
            name='browser',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='WebSession',
            name='last_seen_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='WebSession',
            index=Index(fields=['user_id']),
        ),
    ]
