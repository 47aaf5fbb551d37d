"""Full-text search: one document per ticket, keyed by its id (migration 0004).

SQLite: the FTS5 table ticket_search (rowid = ticket id; columns doc, comments, notes).
PostgreSQL: ticket.search_vector (title and description at weight A, public replies at B,
internal notes at D). A customer's search never looks at internal notes.

A hyphenated word matches its parts in a row or the word joined ("wi-fi" finds "wifi"); the
document holds hyphenated words joined too (migration 0009), so "wifi" finds "Wi-Fi". A search
that is a ticket number (INC-1972, 1972) or part of an organisation's name also finds that
ticket or that organisation's tickets: see `also_matching`.
"""

import re
from dataclasses import dataclass, field

from helpdesk.services.sql import select_rows

MAX_TERMS = 8
# The FTS5 columns a customer may search, and the tsvector weights of the same text.
PUBLIC_COLUMNS = "{doc comments}"
PUBLIC_WEIGHTS = "AB"
MIN_NAME = 3  # shorter searches name too many organisations to mean one
MAX_ORGANISATIONS = 50  # a search names at most this many organisations' tickets


def search_terms(text: str) -> list[list[str]]:
    """The words of a search box, each as its hyphen-separated parts; letters and digits only,
    so they are safe inside SQL literals."""
    return [word.split("-") for word in re.findall(r"\w+(?:-\w+)*", text)[:MAX_TERMS]]


def _fts5_term(parts: list[str]) -> str:
    if len(parts) == 1:
        return f'"{parts[0]}"*'
    return f'("{" ".join(parts)}"* OR "{"".join(parts)}"*)'


def fts5_match(text: str, *, include_internal: bool) -> str | None:
    """The FTS5 MATCH expression for every term as a prefix; None when the text has no terms."""
    terms = search_terms(text)
    if not terms:
        return None
    query = " AND ".join(_fts5_term(parts) for parts in terms)
    return query if include_internal else f"{PUBLIC_COLUMNS} : ({query})"


def _ts_term(parts: list[str], weights: str) -> str:
    """One word of the box as tsquery text. PostgreSQL's parser reads "INC-1972" as "inc" and the
    signed number "-1972": a number after a hyphen is looked up with its sign, a bare one both ways."""
    words = [part.lower() for part in parts]
    if len(words) == 1:
        word = words[0]
        return f"({word}:*{weights} | -{word}:*{weights})" if word.isdigit() else f"{word}:*{weights}"
    signed = [words[0]] + [f"-{word}" if word.isdigit() else word for word in words[1:]]
    in_a_row = [f"{word}:{weights}" if weights else word for word in signed[:-1]] + [
        f"{signed[-1]}:*{weights}"
    ]
    return f"(({' <-> '.join(in_a_row)}) | {''.join(words)}:*{weights})"


def tsquery(text: str, *, include_internal: bool) -> str | None:
    """The to_tsquery('simple', ...) text for every term as a prefix; None when there are no terms."""
    terms = search_terms(text)
    if not terms:
        return None
    weights = "" if include_internal else PUBLIC_WEIGHTS
    return " & ".join(_ts_term(parts, weights) for parts in terms)


@dataclass
class AlsoMatching:
    """What a search finds besides its words: the ticket it names, the organisations it names."""

    ticket_id: int | None = None
    organisations: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ticket_id is not None or bool(self.organisations)


async def also_matching(text: str) -> AlsoMatching:
    """The ticket a search that is a ticket number names, and the organisations (up to
    MAX_ORGANISATIONS) whose name or legal name contains the search, by their human IDs."""
    wanted = text.strip()
    number = re.fullmatch(r"(?:INC-?)?(\d{1,9})", wanted, flags=re.IGNORECASE)
    ticket_id = (int(number.group(1)) or None) if number else None
    if len(wanted) < MIN_NAME or number:
        return AlsoMatching(ticket_id)
    pattern = "%" + re.sub(r"([%_\\])", r"\\\1", wanted.lower()) + "%"
    rows = await select_rows(
        "SELECT human_id FROM organisation WHERE lower(name) LIKE ? ESCAPE '\\'"
        " OR lower(legal_name) LIKE ? ESCAPE '\\' ORDER BY human_id LIMIT ?",
        pattern,
        pattern,
        MAX_ORGANISATIONS,
    )
    return AlsoMatching(ticket_id, [row[0] for row in rows])
