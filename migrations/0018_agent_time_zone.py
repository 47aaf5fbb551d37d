"""Each user's time zone: the desk shows their times in it (empty: UTC)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('helpdesk', '0017_tags_views_canned_links')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='time_zone',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
    ]
