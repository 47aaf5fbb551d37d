"""Service levels: business-hours calendars with holidays, ordered SLA policies, the events their
timer fired (once each), states that pause the clock, and each ticket's stored clocks."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('helpdesk', '0019_assignment')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SlaCalendar',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('time_zone', fields.CharField(default='UTC', max_length=64)),
                ('hours', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'sla_calendar', 'app': 'helpdesk', 'pk_attr': 'id', 'table_description': 'When the clock runs: business hours per weekday in a time zone, less its holidays.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('helpdesk.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='sla_events', on_delete=OnDelete.CASCADE)),
                ('target', fields.CharField(max_length=16)),
                ('kind', fields.CharField(max_length=8)),
                ('cycle', fields.IntField(default=0)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sla_event', 'app': 'helpdesk', 'unique_together': (('ticket', 'target', 'kind', 'cycle'),), 'pk_attr': 'id', 'table_description': 'A warning or breach the timer announced. Unique per (ticket, target, kind, cycle), inserted'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaHoliday',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('calendar', fields.ForeignKeyField('helpdesk.SlaCalendar', source_field='calendar_id', db_constraint=True, to_field='id', related_name='holidays', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('name', fields.CharField(default='', max_length=100)),
            ],
            options={'table': 'sla_holiday', 'app': 'helpdesk', 'unique_together': (('calendar', 'day'),), 'pk_attr': 'id', 'table_description': "A day the calendar's clock does not run."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaPolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('position', fields.IntField(default=0)),
                ('priority', fields.ForeignKeyField('helpdesk.State', source_field='priority_id', null=True, db_constraint=True, to_field='id', related_name='sla_by_priority', on_delete=OnDelete.CASCADE)),
                ('type', fields.ForeignKeyField('helpdesk.State', source_field='type_id', null=True, db_constraint=True, to_field='id', related_name='sla_by_type', on_delete=OnDelete.CASCADE)),
                ('organisation_hid', fields.CharField(null=True, max_length=64)),
                ('group', fields.ForeignKeyField('helpdesk.Group', source_field='group_id', null=True, db_constraint=True, to_field='id', related_name='sla_policies', on_delete=OnDelete.CASCADE)),
                ('calendar', fields.ForeignKeyField('helpdesk.SlaCalendar', source_field='calendar_id', db_constraint=True, to_field='id', related_name='policies', on_delete=OnDelete.RESTRICT)),
                ('first_response_minutes', fields.IntField(null=True)),
                ('next_response_minutes', fields.IntField(null=True)),
                ('resolution_minutes', fields.IntField(null=True)),
                ('warn_percent', fields.IntField(default=80)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'sla_policy', 'app': 'helpdesk', 'pk_attr': 'id', 'table_description': 'Targets in business minutes for the tickets its conditions match (a null condition matches'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='State',
            name='pauses_sla',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='first_response_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='first_response_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='next_response_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='resolution_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_breached',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_warn_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_next_event_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_policy',
            field=fields.ForeignKeyField('helpdesk.SlaPolicy', source_field='sla_policy_id', null=True, db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['deleted_at', 'sla_due_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['deleted_at', 'sla_warn_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['deleted_at', 'sla_breached', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['sla_next_event_at']),
        ),
    ]
