"""Bound each ticket's search document, so a ticket with a huge thread keeps taking comments.

With migration 0004's one document per ticket, every comment grew it without end: on PostgreSQL
a tsvector cannot pass 1 MB, so after a few pasted logs every further comment on that ticket (and
any title edit) failed with a 500; on SQLite each comment re-indexed the whole thread (0.8 s a
comment after 300 comments of 10,000 characters), holding the one connection all that time.

Now search reads at most CAP characters of a ticket's title and description, of its public
replies and of its internal notes; on PostgreSQL replies stop being added once the document holds
MAX_WORDS distinct words, and a document that would still pass the limit keeps what it had.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

CAP = 32768
MAX_WORDS = 20000

_REPLIES = (
    "(SELECT substr(group_concat(body, ' '), 1, {cap}) FROM comment WHERE ticket_id = {id} AND NOT internal)"
)
_NOTES = "(SELECT substr(group_concat(body, ' '), 1, {cap}) FROM comment WHERE ticket_id = {id} AND internal)"


def _sqlite() -> tuple[str, ...]:
    replies = _REPLIES.format(cap=CAP, id="new.id")
    notes = _NOTES.format(cap=CAP, id="new.id")
    return (
        "DROP TRIGGER ticket_search_ticket_insert",
        "DROP TRIGGER ticket_search_ticket_update",
        "DROP TRIGGER ticket_search_reply_insert",
        "DROP TRIGGER ticket_search_note_insert",
        "DROP TRIGGER ticket_search_comment_delete",
        "DROP TRIGGER ticket_search_comment_update",
        f"""UPDATE ticket_search SET doc = substr(doc, 1, {CAP}), comments = substr(comments, 1, {CAP}),
            notes = substr(notes, 1, {CAP})
        WHERE length(doc) > {CAP} OR length(comments) > {CAP} OR length(notes) > {CAP}""",
        f"""CREATE TRIGGER ticket_search_ticket_insert AFTER INSERT ON ticket BEGIN
            INSERT INTO ticket_search (rowid, doc, comments, notes)
            VALUES (new.id, substr(new.title || ' ' || new.description, 1, {CAP}), {replies}, {notes});
        END""",
        f"""CREATE TRIGGER ticket_search_ticket_update AFTER UPDATE OF title, description ON ticket
        WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
            UPDATE ticket_search SET doc = substr(new.title || ' ' || new.description, 1, {CAP})
            WHERE rowid = new.id;
        END""",
        # A full column is left alone: no re-indexing of the thread for a comment it cannot hold.
        f"""CREATE TRIGGER ticket_search_reply_insert AFTER INSERT ON comment WHEN NOT new.internal BEGIN
            UPDATE ticket_search SET comments = substr(coalesce(comments || ' ', '') || new.body, 1, {CAP})
            WHERE rowid = new.ticket_id AND coalesce(length(comments), 0) < {CAP};
        END""",
        f"""CREATE TRIGGER ticket_search_note_insert AFTER INSERT ON comment WHEN new.internal BEGIN
            UPDATE ticket_search SET notes = substr(coalesce(notes || ' ', '') || new.body, 1, {CAP})
            WHERE rowid = new.ticket_id AND coalesce(length(notes), 0) < {CAP};
        END""",
        f"""CREATE TRIGGER ticket_search_comment_delete AFTER DELETE ON comment BEGIN
            UPDATE ticket_search SET comments = {_REPLIES.format(cap=CAP, id="old.ticket_id")},
                notes = {_NOTES.format(cap=CAP, id="old.ticket_id")}
            WHERE rowid = old.ticket_id;
        END""",
        f"""CREATE TRIGGER ticket_search_comment_update AFTER UPDATE OF body, internal, ticket_id ON comment BEGIN
            UPDATE ticket_search SET comments = {_REPLIES.format(cap=CAP, id="ticket_search.rowid")},
                notes = {_NOTES.format(cap=CAP, id="ticket_search.rowid")}
            WHERE rowid IN (old.ticket_id, new.ticket_id);
        END""",
    )


POSTGRES = f"""
CREATE OR REPLACE FUNCTION ticket_search_comments(bodies text, internal boolean) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(setweight(to_tsvector('simple', left(bodies, {CAP})),
        CASE WHEN internal THEN 'D' ELSE 'B' END::"char"), '')
$$;

CREATE OR REPLACE FUNCTION ticket_search_document(ticket_id integer, title text, description text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('simple', left(title || ' ' || description, {CAP})), 'A')
        || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE NOT internal), false)
        || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE internal), true)
    FROM comment WHERE comment.ticket_id = ticket_search_document.ticket_id
$$;

CREATE OR REPLACE FUNCTION ticket_search_ticket_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.search_vector := setweight(to_tsvector('simple', left(NEW.title || ' ' || NEW.description, {CAP})), 'A');
    ELSE
        BEGIN
            NEW.search_vector := ticket_search_document(NEW.id, NEW.title, NEW.description);
        EXCEPTION WHEN program_limit_exceeded THEN  -- too big whole: the ticket's own text only
            NEW.search_vector := setweight(to_tsvector('simple', left(NEW.title || ' ' || NEW.description, {CAP})), 'A');
        END;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION ticket_search_comment_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ticket SET search_vector = coalesce(ticket.search_vector, '') || added.vector
    FROM (
        SELECT ticket_id,
            ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE NOT internal), false)
            || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE internal), true) AS vector
        FROM new_comments GROUP BY ticket_id
    ) AS added
    WHERE ticket.id = added.ticket_id AND length(coalesce(ticket.search_vector, '')) < {MAX_WORDS};
    RETURN NULL;
EXCEPTION WHEN program_limit_exceeded THEN  -- the document is full: the comment goes unindexed
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION ticket_search_comment_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ticket SET search_vector = ticket_search_document(id, title, description)
    WHERE id = OLD.ticket_id OR (TG_OP = 'UPDATE' AND id = NEW.ticket_id);
    RETURN NULL;
EXCEPTION WHEN program_limit_exceeded THEN
    RETURN NULL;
END $$;
"""


async def bound_search_documents(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(POSTGRES)
        return
    for statement in _sqlite():  # one at a time: executescript() would commit half-way
        await client.execute_query(statement)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0004_ticket_search")]

    initial = False

    operations = [ops.RunPython(bound_search_documents)]
