"""Full-text search: one document per ticket, keyed by its id (migration 0004).

SQLite: the FTS5 table ticket_search (rowid = ticket id; columns doc, comments, notes).
PostgreSQL: ticket.search_vector (title and description at weight A, public replies at B,
internal notes at D). A customer's search never looks at internal notes.
"""

import re

MAX_TERMS = 8
# The FTS5 columns a customer may search, and the tsvector weights of the same text.
PUBLIC_COLUMNS = "{doc comments}"
PUBLIC_WEIGHTS = "AB"


def search_terms(text: str) -> list[str]:
    """The words of a search box, letters and digits only, so they are safe inside SQL literals."""
    return re.findall(r"\w+", text)[:MAX_TERMS]


def fts5_match(text: str, *, include_internal: bool) -> str | None:
    """The FTS5 MATCH expression for every term as a prefix; None when the text has no terms."""
    terms = search_terms(text)
    if not terms:
        return None
    query = " AND ".join(f'"{term}"*' for term in terms)
    return query if include_internal else f"{PUBLIC_COLUMNS} : ({query})"


def tsquery(text: str, *, include_internal: bool) -> str | None:
    """The to_tsquery('simple', ...) text for every term as a prefix; None when there are no terms."""
    terms = search_terms(text)
    if not terms:
        return None
    weights = "" if include_internal else PUBLIC_WEIGHTS
    return " & ".join(f"{term.lower()}:*{weights}" for term in terms)
