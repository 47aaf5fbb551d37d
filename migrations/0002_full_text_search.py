"""Full-text search over ticket titles, descriptions and comments.

SQLite: an FTS5 table kept in step by triggers. PostgreSQL: GIN indexes over tsvector
expressions, so nothing needs keeping in step. helpdesk/services/search.py queries both.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

SQLITE = """
CREATE VIRTUAL TABLE search_doc USING fts5(
    body, ticket_id UNINDEXED, kind UNINDEXED, ref UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER search_ticket_insert AFTER INSERT ON ticket BEGIN
    INSERT INTO search_doc (body, ticket_id, kind, ref)
    VALUES (new.title || ' ' || new.description, new.id, 't', new.id);
END;
CREATE TRIGGER search_ticket_update AFTER UPDATE OF title, description ON ticket BEGIN
    DELETE FROM search_doc WHERE kind = 't' AND ref = old.id;
    INSERT INTO search_doc (body, ticket_id, kind, ref)
    VALUES (new.title || ' ' || new.description, new.id, 't', new.id);
END;
CREATE TRIGGER search_comment_insert AFTER INSERT ON comment BEGIN
    INSERT INTO search_doc (body, ticket_id, kind, ref)
    VALUES (new.body, new.ticket_id, CASE WHEN new.internal THEN 'i' ELSE 'c' END, new.id);
END;
INSERT INTO search_doc (body, ticket_id, kind, ref) SELECT title || ' ' || description, id, 't', id FROM ticket;
INSERT INTO search_doc (body, ticket_id, kind, ref)
    SELECT body, ticket_id, CASE WHEN internal THEN 'i' ELSE 'c' END, id FROM comment;
"""

POSTGRES = """
CREATE INDEX idx_ticket_search ON ticket
    USING GIN (to_tsvector('simple', title || ' ' || description));
CREATE INDEX idx_comment_search ON comment USING GIN (to_tsvector('simple', body));
"""


async def create_search(apps, schema_editor) -> None:
    dialect = schema_editor.client.capabilities.dialect
    await schema_editor.client.execute_script(POSTGRES if dialect == "postgres" else SQLITE)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]

    operations = [ops.RunPython(create_search)]
