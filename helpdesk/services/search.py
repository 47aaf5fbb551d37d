"""Full-text search: FTS5 on SQLite, tsvector GIN indexes on PostgreSQL (migration 0002)."""

import re

from tortoise.expressions import RawSQL
from tortoise.queryset import QuerySet

from helpdesk.db import dialect

MAX_TERMS = 8


def search_terms(text: str) -> list[str]:
    """The words of a search box, letters and digits only, so they are safe inside SQL literals."""
    return re.findall(r"\w+", text)[:MAX_TERMS]


def narrow(query: QuerySet, text: str, *, include_internal: bool) -> QuerySet:
    """The ticket query narrowed to tickets whose title, description or comments hold every term.

    The test is `<key> IN (matching ids)` in WHERE only: as a boolean annotation the subquery was
    also in the SELECT list, and SQLite built the whole list of matches twice per page."""
    terms = search_terms(text)
    if not terms:
        return query.filter(id__in=[])
    postgres = dialect() == "postgres"
    matches = _postgres(terms, include_internal) if postgres else _sqlite(terms, include_internal)
    # On SQLite the unary + keeps the planner walking the live tickets in id order and stopping
    # at the page's end, checking each against the matches; probing by id instead would sort
    # every match (125,000 tickets mention "router" in a million) for each page.
    key = RawSQL('"ticket"."id"' if postgres else '+"ticket"."id"')
    return query.annotate(search_key=key).filter(search_key__in=RawSQL(f"({matches})"))


def _sqlite(terms: list[str], include_internal: bool) -> str:
    query = " AND ".join(f'"{term}"*' for term in terms)
    kinds = "" if include_internal else " AND kind != 'i'"
    # Terms are letters and digits only (search_terms), so they cannot leave the SQL literal.
    return f"SELECT ticket_id FROM search_doc WHERE search_doc MATCH '{query}'{kinds}"


def _postgres(terms: list[str], include_internal: bool) -> str:
    query = f"to_tsquery('simple', '{' & '.join(f'{term}:*' for term in terms)}')"
    internal = "" if include_internal else " AND NOT internal"
    tickets = f"SELECT id FROM ticket WHERE to_tsvector('simple', title || ' ' || description) @@ {query}"
    comments = f"SELECT ticket_id FROM comment WHERE to_tsvector('simple', body) @@ {query}{internal}"
    return f"{tickets} UNION {comments}"
