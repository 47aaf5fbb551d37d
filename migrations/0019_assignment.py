"""Assignment rules: each group's mode and round-robin cursor; agents' availability and capacity."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from helpdesk.models.people import AssignmentMode
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('helpdesk', '0018_agent_time_zone')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Group',
            name='assignment',
            field=fields.CharEnumField(default=AssignmentMode.MANUAL, description='MANUAL: manual\nROUND_ROBIN: roundRobin\nLEAST_OPEN: leastOpen', db_default='manual', enum_type=AssignmentMode, max_length=16),
        ),
        ops.AddField(
            model_name='Group',
            name='last_assigned_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='User',
            name='available',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='User',
            name='capacity',
            field=fields.IntField(null=True),
        ),
    ]
