"""Hyphenated words found either way: "wifi" finds a ticket about "Wi-Fi"; an index for the
queue's sort by assignee.

The search document of a ticket's title and description also holds its hyphenated words joined
("wifi" beside "wi" and "fi"), so a query typed without the hyphen finds them; a query typed with
it matches the parts in a row or the joined word (services/search.py). Replies and notes are not
re-indexed: there "wi-fi" is found as typed with the hyphen only.

SQLite (no regular expressions in a trigger): when the text holds a hyphen, the doc column holds
it a second time with the hyphens taken out. PostgreSQL: only the hyphenated words, joined, at
weight A. Tickets already there are re-indexed by the migration.
"""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

CAP = 32768
_OWN = "substr({row}.title || ' ' || {row}.description, 1, {cap})"


def _doc(row: str) -> str:
    """The SQLite doc column: the ticket's own text, then (when hyphenated) again without hyphens."""
    own = _OWN.format(row=row, cap=CAP)
    return f"{own} || CASE WHEN instr({own}, '-') > 0 THEN ' ' || replace({own}, '-', '') ELSE '' END"


_REPLIES = "(SELECT substr(group_concat(body, ' '), 1, {cap}) FROM comment WHERE ticket_id = new.id AND NOT internal)"
_NOTES = "(SELECT substr(group_concat(body, ' '), 1, {cap}) FROM comment WHERE ticket_id = new.id AND internal)"


def _sqlite() -> tuple[str, ...]:
    return (
        "DROP TRIGGER ticket_search_ticket_insert",
        "DROP TRIGGER ticket_search_ticket_update",
        f"""UPDATE ticket_search SET doc = (SELECT {_doc("ticket")} FROM ticket WHERE ticket.id = ticket_search.rowid)
        WHERE rowid IN (SELECT id FROM ticket WHERE instr(title || ' ' || description, '-') > 0)""",
        f"""CREATE TRIGGER ticket_search_ticket_insert AFTER INSERT ON ticket BEGIN
            INSERT INTO ticket_search (rowid, doc, comments, notes)
            VALUES (new.id, {_doc("new")}, {_REPLIES.format(cap=CAP)}, {_NOTES.format(cap=CAP)});
        END""",
        f"""CREATE TRIGGER ticket_search_ticket_update AFTER UPDATE OF title, description ON ticket
        WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
            UPDATE ticket_search SET doc = {_doc("new")} WHERE rowid = new.id;
        END""",
    )


OWN = f"setweight(to_tsvector('simple', left({{title}} || ' ' || {{description}}, {CAP})), 'A')"
POSTGRES = f"""
CREATE OR REPLACE FUNCTION ticket_search_joined(body text) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
    SELECT setweight(to_tsvector('simple', coalesce((
        SELECT string_agg(replace(m[1], '-', ''), ' ')
        FROM regexp_matches(left(body, {CAP}), '(\\w+(?:-\\w+)+)', 'g') AS m
    ), '')), 'A')
$$;

CREATE OR REPLACE FUNCTION ticket_search_own(title text, description text) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
    SELECT {OWN.format(title="title", description="description")}
        || ticket_search_joined(title || ' ' || description)
$$;

CREATE OR REPLACE FUNCTION ticket_search_document(ticket_id integer, title text, description text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT ticket_search_own(title, description)
        || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE NOT internal), false)
        || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE internal), true)
    FROM comment WHERE comment.ticket_id = ticket_search_document.ticket_id
$$;

CREATE OR REPLACE FUNCTION ticket_search_ticket_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.search_vector := ticket_search_own(NEW.title, NEW.description);
    ELSE
        BEGIN
            NEW.search_vector := ticket_search_document(NEW.id, NEW.title, NEW.description);
        EXCEPTION WHEN program_limit_exceeded THEN  -- too big whole: the ticket's own text only
            NEW.search_vector := ticket_search_own(NEW.title, NEW.description);
        END;
    END IF;
    RETURN NEW;
END $$;

DO $$ BEGIN
    UPDATE ticket SET search_vector = coalesce(search_vector, '') || ticket_search_joined(title || ' ' || description)
    WHERE strpos(title || ' ' || description, '-') > 0;
EXCEPTION WHEN program_limit_exceeded THEN NULL;  -- a full document keeps what it had
END $$;
"""


async def join_hyphenated_words(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(POSTGRES)
        return
    for statement in _sqlite():  # one at a time: executescript() would commit half-way
        await client.execute_query(statement)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0008_sessions_and_attempts")]

    initial = False

    operations = [
        ops.RunPython(join_hyphenated_words),
        # The queue's sort by assignee (ORDER BY assignee_id, id) walks this instead of sorting.
        ops.AddIndex(model_name="Ticket", index=Index(fields=["assignee_id", "id"])),
    ]
