"""The agents' tools of issue 16: tags on tickets (`ticket_tag (tag_id, ticket_id)` serves the filter
by tag), canned replies, saved queue views and links between tickets (both directions stored)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('helpdesk', '0016_live_presence_and_drafts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CannedReply',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=100)),
                ('body', fields.TextField(unique=False)),
                ('owner', fields.ForeignKeyField('helpdesk.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='canned_replies', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'canned_reply', 'app': 'helpdesk', 'indexes': [Index(fields=['owner_id', 'title'])], 'pk_attr': 'id', 'table_description': 'A reply template, shared or an agent own.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SavedView',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('owner', fields.ForeignKeyField('helpdesk.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='saved_views', on_delete=OnDelete.CASCADE)),
                ('group', fields.ForeignKeyField('helpdesk.Group', source_field='group_id', null=True, db_constraint=True, to_field='id', related_name='saved_views', on_delete=OnDelete.CASCADE)),
                ('queue', fields.CharField(max_length=64)),
                ('filters', fields.TextField(unique=False)),
                ('sort', fields.CharField(max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'saved_view', 'app': 'helpdesk', 'indexes': [Index(fields=['owner_id', 'name']), Index(fields=['group_id', 'name'])], 'pk_attr': 'id', 'table_description': 'A queue view saved under a name.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tag', 'app': 'helpdesk', 'pk_attr': 'id', 'table_description': 'A label agents put on tickets.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('helpdesk.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='links', on_delete=OnDelete.CASCADE)),
                ('other', fields.ForeignKeyField('helpdesk.Ticket', source_field='other_id', db_constraint=True, to_field='id', related_name='linked_from', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(default='related', max_length=16)),
                ('created_by', fields.ForeignKeyField('helpdesk.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='ticket_links', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ticket_link', 'app': 'helpdesk', 'unique_together': (('ticket', 'other'),), 'pk_attr': 'id', 'table_description': 'One direction of a link between two tickets.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketTag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('helpdesk.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='ticket_tags', on_delete=OnDelete.CASCADE)),
                ('tag', fields.ForeignKeyField('helpdesk.Tag', source_field='tag_id', db_constraint=True, to_field='id', related_name='ticket_tags', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ticket_tag', 'app': 'helpdesk', 'unique_together': (('ticket', 'tag'),), 'indexes': [Index(fields=['tag_id', 'ticket_id'])], 'pk_attr': 'id', 'table_description': 'One tag on one ticket.'},
            bases=['Model'],
        ),
    ]
