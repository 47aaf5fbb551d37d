"""One search document per ticket, keyed by the ticket id, replacing migration 0002's search.

0002 kept a row per ticket and per comment (SQLite) or indexed tickets and comments apart
(PostgreSQL), so a search built the whole list of matching ticket ids before taking a page.
With one document per ticket the list can walk the matches in id order and stop at the page's end.

SQLite: the FTS5 table ticket_search, whose rowid is the ticket id, with the columns doc (title
and description), comments (public replies) and notes (internal notes), so a customer's search
can leave notes out with a column filter. PostgreSQL: ticket.search_vector with title and
description at weight A, public replies at B and internal notes at D, under a GIN index.
Both are kept in step by triggers; comments are only ever added, but the delete and edit
triggers keep the document right if one is removed by a ticket's cascade or by hand.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

# Each statement alone: executescript() would commit the migration's transaction half-way.
SQLITE = (
    "DROP TRIGGER search_ticket_insert",
    "DROP TRIGGER search_ticket_update",
    "DROP TRIGGER search_comment_insert",
    "DROP TABLE search_doc",
    """CREATE VIRTUAL TABLE ticket_search USING fts5(
        doc, comments, notes, tokenize = 'unicode61 remove_diacritics 2'
    )""",
    """INSERT INTO ticket_search (rowid, doc, comments, notes)
    SELECT id, title || ' ' || description,
        (SELECT group_concat(body, ' ') FROM comment WHERE ticket_id = ticket.id AND NOT internal),
        (SELECT group_concat(body, ' ') FROM comment WHERE ticket_id = ticket.id AND internal)
    FROM ticket ORDER BY id""",
    # Comments already there are indexed with the ticket: seed-demo writes a chunk's comments
    # first (foreign keys checked at commit) so that each ticket is tokenized once.
    """CREATE TRIGGER ticket_search_ticket_insert AFTER INSERT ON ticket BEGIN
        INSERT INTO ticket_search (rowid, doc, comments, notes) VALUES (
            new.id,
            new.title || ' ' || new.description,
            (SELECT group_concat(body, ' ') FROM comment WHERE ticket_id = new.id AND NOT internal),
            (SELECT group_concat(body, ' ') FROM comment WHERE ticket_id = new.id AND internal)
        );
    END""",
    # Every ticket save writes title and description; only a real change re-indexes.
    """CREATE TRIGGER ticket_search_ticket_update AFTER UPDATE OF title, description ON ticket
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
        UPDATE ticket_search SET doc = new.title || ' ' || new.description WHERE rowid = new.id;
    END""",
    """CREATE TRIGGER ticket_search_ticket_delete AFTER DELETE ON ticket BEGIN
        DELETE FROM ticket_search WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER ticket_search_reply_insert AFTER INSERT ON comment WHEN NOT new.internal BEGIN
        UPDATE ticket_search SET comments = coalesce(comments || ' ', '') || new.body
        WHERE rowid = new.ticket_id;
    END""",
    """CREATE TRIGGER ticket_search_note_insert AFTER INSERT ON comment WHEN new.internal BEGIN
        UPDATE ticket_search SET notes = coalesce(notes || ' ', '') || new.body
        WHERE rowid = new.ticket_id;
    END""",
    """CREATE TRIGGER ticket_search_comment_delete AFTER DELETE ON comment BEGIN
        UPDATE ticket_search SET
            comments = (SELECT group_concat(body, ' ') FROM comment WHERE ticket_id = old.ticket_id AND NOT internal),
            notes = (SELECT group_concat(body, ' ') FROM comment WHERE ticket_id = old.ticket_id AND internal)
        WHERE rowid = old.ticket_id;
    END""",
    """CREATE TRIGGER ticket_search_comment_update AFTER UPDATE OF body, internal, ticket_id ON comment BEGIN
        UPDATE ticket_search SET
            comments = (SELECT group_concat(body, ' ') FROM comment
                WHERE ticket_id = ticket_search.rowid AND NOT internal),
            notes = (SELECT group_concat(body, ' ') FROM comment
                WHERE ticket_id = ticket_search.rowid AND internal)
        WHERE rowid IN (old.ticket_id, new.ticket_id);
    END""",
)

POSTGRES = """
DROP INDEX idx_ticket_search;
DROP INDEX idx_comment_search;
ALTER TABLE ticket ADD COLUMN search_vector tsvector;

-- The comments part of a ticket's document: public replies at weight B, internal notes at D.
CREATE FUNCTION ticket_search_comments(bodies text, internal boolean) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(setweight(to_tsvector('simple', bodies), CASE WHEN internal THEN 'D' ELSE 'B' END::"char"), '')
$$;

CREATE FUNCTION ticket_search_document(ticket_id integer, title text, description text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('simple', title || ' ' || description), 'A')
        || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE NOT internal), false)
        || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE internal), true)
    FROM comment WHERE comment.ticket_id = ticket_search_document.ticket_id
$$;

UPDATE ticket SET search_vector = setweight(to_tsvector('simple', t.title || ' ' || t.description), 'A')
    || coalesce(comments.vector, '')
FROM ticket AS t LEFT JOIN (
    SELECT ticket_id,
        ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE NOT internal), false)
        || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE internal), true) AS vector
    FROM comment GROUP BY ticket_id
) AS comments ON comments.ticket_id = t.id
WHERE ticket.id = t.id;

CREATE INDEX idx_ticket_search_vector ON ticket USING GIN (search_vector);

CREATE FUNCTION ticket_search_ticket_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.search_vector := setweight(to_tsvector('simple', NEW.title || ' ' || NEW.description), 'A');
    ELSE
        NEW.search_vector := ticket_search_document(NEW.id, NEW.title, NEW.description);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ticket_search_ticket_insert BEFORE INSERT ON ticket
    FOR EACH ROW EXECUTE FUNCTION ticket_search_ticket_write();
-- Every ticket save writes title and description; only a real change re-indexes.
CREATE TRIGGER ticket_search_ticket_update BEFORE UPDATE OF title, description ON ticket
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION ticket_search_ticket_write();

-- Once per INSERT statement, so a bulk insert rewrites each ticket once, not once per comment.
-- Only search_vector changes: updated_at and version belong to the services.
CREATE FUNCTION ticket_search_comment_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ticket SET search_vector = coalesce(ticket.search_vector, '') || added.vector
    FROM (
        SELECT ticket_id,
            ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE NOT internal), false)
            || ticket_search_comments(string_agg(body, ' ' ORDER BY id) FILTER (WHERE internal), true) AS vector
        FROM new_comments GROUP BY ticket_id
    ) AS added
    WHERE ticket.id = added.ticket_id;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_search_comment_insert AFTER INSERT ON comment
    REFERENCING NEW TABLE AS new_comments
    FOR EACH STATEMENT EXECUTE FUNCTION ticket_search_comment_insert();

CREATE FUNCTION ticket_search_comment_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ticket SET search_vector = ticket_search_document(id, title, description)
    WHERE id = OLD.ticket_id OR (TG_OP = 'UPDATE' AND id = NEW.ticket_id);
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_search_comment_change AFTER DELETE OR UPDATE OF body, internal, ticket_id ON comment
    FOR EACH ROW EXECUTE FUNCTION ticket_search_comment_change();
"""


async def create_ticket_search(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(POSTGRES)
        return
    for statement in SQLITE:
        await client.execute_query(statement)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0003_live_ticket_sort_indexes")]

    initial = False

    operations = [ops.RunPython(create_ticket_search)]
