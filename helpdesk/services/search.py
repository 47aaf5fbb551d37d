"""Full-text search: FTS5 on SQLite, tsvector GIN indexes on PostgreSQL (migration 0002)."""

import re

from tortoise.expressions import RawSQL

from helpdesk.db import dialect

MAX_TERMS = 8


def search_terms(text: str) -> list[str]:
    """The words of a search box, letters and digits only, so they are safe inside SQL literals."""
    return re.findall(r"\w+", text)[:MAX_TERMS]


def matching_tickets(text: str, *, include_internal: bool) -> RawSQL:
    """A boolean SQL expression: the ticket's title, description or comments contain every term."""
    terms = search_terms(text)
    if not terms:
        return RawSQL("(1 = 0)")
    if dialect() == "postgres":
        return RawSQL(_postgres(terms, include_internal))
    return RawSQL(_sqlite(terms, include_internal))


def _sqlite(terms: list[str], include_internal: bool) -> str:
    query = " AND ".join(f'"{term}"*' for term in terms)
    kinds = "" if include_internal else " AND kind != 'i'"
    # Terms are letters and digits only (search_terms), so they cannot leave the SQL literal.
    # The unary + keeps SQLite walking the live tickets in id order and stopping at the page's
    # end, checking each against the matches; probing by id would sort every match (all 125,000
    # tickets that mention "router" in a million) for each page.
    return f'(+"ticket"."id" IN (SELECT ticket_id FROM search_doc WHERE search_doc MATCH \'{query}\'{kinds}))'  # noqa: E501


def _postgres(terms: list[str], include_internal: bool) -> str:
    query = f"to_tsquery('simple', '{' & '.join(f'{term}:*' for term in terms)}')"
    internal = "" if include_internal else " AND NOT internal"
    tickets = f"SELECT id FROM ticket WHERE to_tsvector('simple', title || ' ' || description) @@ {query}"
    comments = f"SELECT ticket_id FROM comment WHERE to_tsvector('simple', body) @@ {query}{internal}"
    return f'("ticket"."id" IN ({tickets} UNION {comments}))'
