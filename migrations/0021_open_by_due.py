"""The open queues sorted by SLA due read an index in order: with only (deleted_at, sla_due_at, id)
the planner took the open tickets' index and sorted every open ticket (SQLite, 1M tickets: 390 ms a
page; 0.9 ms with this one). PostgreSQL cannot read that one in order (it orders by an index's
later columns only after equalities, and IS NULL is not one; 7 requests a second against 61 for
the id sort at 1M): it walks (sla_due_at, id), where open tickets' dues come first."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('helpdesk', '0020_service_levels')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['deleted_at', 'resolved_at', 'sla_due_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['sla_due_at', 'id']),
        ),
    ]
