"""The change feed (services/feed.py) and request limits counted in the database (api/limits.py).

`feed_event` ids must grow in commit order, so that a reader that has seen id N has seen every
committed id below N. SQLite has one writer at a time, so it holds already. On PostgreSQL a
sequence gives ids in the order transactions ask, not the order they commit: a trigger takes a
transaction-level advisory lock before it takes the id, so feed writers take their ids one at a
time and the lock is held until commit (services/feed.py says what that costs); the column has no
default, so only the trigger takes ids. The same trigger
wakes every listening dispatcher with a NOTIFY, delivered when the transaction commits.

`created_at` is indexed for pruning, `(ticket_id, id)` for a ticket's changes since a point.
"""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

FEED_LOCK = 7_462_001  # the advisory lock key of feed writers (services/feed.py FEED_LOCK)
POSTGRES = f"""
CREATE FUNCTION feed_event_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({FEED_LOCK});
    NEW.id := nextval(pg_get_serial_sequence('feed_event', 'id'));
    PERFORM pg_notify('helpdesk_feed', '');
    RETURN NEW;
END $$;

CREATE TRIGGER feed_event_in_commit_order BEFORE INSERT ON feed_event
FOR EACH ROW EXECUTE FUNCTION feed_event_in_commit_order();

-- Only the trigger takes ids (a default would take one more each time, outside the lock).
ALTER TABLE feed_event ALTER COLUMN id DROP DEFAULT;
"""


async def ids_in_commit_order(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(POSTGRES)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0010_contact_consent_and_mail_caps")]

    initial = False

    operations = [
        ops.CreateModel(
            name="FeedEvent",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("kind", fields.CharField(max_length=40)),
                ("ticket_id", fields.IntField(null=True)),
                ("organisation_hid", fields.CharField(null=True, max_length=64)),
                ("staff_only", fields.BooleanField(default=False)),
                ("actor_id", fields.IntField(null=True)),
                ("actor_label", fields.CharField(default="", max_length=255)),
                ("data", fields.TextField(default="{}", unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "feed_event",
                "app": "helpdesk",
                "indexes": [Index(fields=["created_at"]), Index(fields=["ticket_id", "id"])],
                "pk_attr": "id",
                "table_description": "One change other screens and processes must learn of.",
            },
            bases=["Model"],
        ),
        ops.RunPython(ids_in_commit_order),
        ops.CreateModel(
            name="RateBucket",
            fields=[
                ("key", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("tokens", fields.FloatField()),
                ("stamp", fields.FloatField()),
                ("refused", fields.BooleanField(default=False)),
            ],
            options={
                "table": "rate_bucket",
                "app": "helpdesk",
                "pk_attr": "key",
                "table_description": "A request limit's token bucket under the digest of what it limits.",
            },
            bases=["Model"],
        ),
    ]
