"""Catalogue positions count within each kind; organisations gain a default contract and tenant.

Positions ran across every kind (0-22), so a new entry given 0 tied with "New". They are numbered
again from 0 within each kind, in the order they had (position, then id).

A customer cannot know their contract and tenant IDs: their web tickets take their organisation's
defaults (Admin -> Organisations sets them). An organisation that already has tickets starts with
the contract and tenant of its latest ticket, so its customers can file at once; one without
tickets starts with none until an admin sets them.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

LATEST = "(SELECT {column} FROM ticket WHERE ticket.organisation_hid = organisation.human_id ORDER BY id DESC LIMIT 1)"


async def number_positions_within_kinds(apps, schema_editor) -> None:
    client = schema_editor.client
    rows = await client.execute_query_dict("SELECT id, kind FROM state ORDER BY kind, position, id")
    update = (
        "UPDATE state SET position = $1 WHERE id = $2"
        if client.capabilities.dialect == "postgres"
        else "UPDATE state SET position = ? WHERE id = ?"
    )
    counts: dict[int, int] = {}
    # One statement per entry: the catalogue is a few dozen rows, and one UPDATE counting over the
    # table it changes would read rows it had already renumbered on SQLite.
    for row in rows:
        position = counts.get(row["kind"], 0)
        counts[row["kind"]] = position + 1
        await client.execute_query(update, [position, row["id"]])


async def defaults_from_latest_tickets(apps, schema_editor) -> None:
    await schema_editor.client.execute_query(
        f"UPDATE organisation SET default_contract_hid = {LATEST.format(column='contract_hid')}, "  # noqa: S608
        f"default_tenant_hid = {LATEST.format(column='tenant_hid')}"
    )


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0011_change_feed")]

    initial = False

    operations = [
        ops.RunPython(number_positions_within_kinds),
        ops.AddField(
            model_name="Organisation",
            name="default_contract_hid",
            field=fields.CharField(max_length=64, null=True),
        ),
        ops.AddField(
            model_name="Organisation",
            name="default_tenant_hid",
            field=fields.CharField(max_length=64, null=True),
        ),
        ops.RunPython(defaults_from_latest_tickets),
    ]
