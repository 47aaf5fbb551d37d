"""Reading tickets with hand-written SQL: the queries every queue, list and ticket page runs.

Built with the ORM's query builder, and with a model per joined row, these reads spent ten times
longer in Python than in the database. Here each query is a short string with bound parameters,
rows become plain TicketRows, and the states, groups, assignees and organisations they point at
come from the per-process cache (services/cache.py).
"""

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from helpdesk.models import User
from helpdesk.models.tickets import TICKET_PREFIX
from helpdesk.services import search
from helpdesk.services.sql import Params, is_postgres, select_rows
from helpdesk.services.ticket_fields import LINKS, TicketFilters


@dataclass(slots=True)
class TicketRow:
    """A ticket's stored row, as the lists and the API read it. What it links to (states, group,
    assignee, organisation) the caller looks up by id in the per-process cache (tickets.Related)."""

    id: int
    organisation_hid: str
    contract_hid: str
    tenant_hid: str
    reporter_hid: str
    title: str
    description: str
    state_id: int | None
    type_id: int | None
    priority_id: int | None
    stage_id: int | None
    outcome_id: int | None
    group_id: int | None
    assignee_id: int | None
    created_at: datetime
    updated_at: datetime
    first_assigned_at: datetime | None
    resolved_at: datetime | None
    deleted_at: datetime | None
    version: int
    # Service levels (services/sla.py): the stored clocks the queues show and sort by
    sla_policy_id: int | None
    first_response_at: datetime | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_due_at: datetime | None
    sla_warn_at: datetime | None
    sla_breached: bool
    # An agent's list reads each ticket's tag names with it (`_listed`); not a column
    tags: list[str] | None = None

    @property
    def human_id(self) -> str:
        return f"{TICKET_PREFIX}{self.id}"

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}


COLUMNS = tuple(f.name for f in fields(TicketRow) if f.name != "tags")
SELECT = ", ".join(f"t.{column}" for column in COLUMNS)
DATETIMES = tuple(i for i, column in enumerate(COLUMNS) if column.endswith("_at"))
NULLABLE = ("assignee_id", "sla_due_at")  # sortable columns that may hold NULL besides resolved_at
BREACHED = COLUMNS.index("sla_breached")  # SQLite gives 0 or 1


def _rows(rows: list[Any], tagged: bool = False) -> list[TicketRow]:
    """Rows as TicketRows: SQLite gives a timestamp as the ISO text Tortoise wrote (sql.as_datetime,
    written out here: a page of 100 tickets converts a thousand of them, most of the SLA's NULL).
    `tagged`: each row ends with its tag names, one a line (`_listed`)."""
    tickets, parse = [], datetime.fromisoformat
    for row in rows:
        values = list(row)
        for i in DATETIMES:
            if values[i].__class__ is str:
                values[i] = parse(values[i])
        values[BREACHED] = bool(values[BREACHED])
        if tagged:
            names = values.pop()
            values.append(sorted(names.split("\n")) if names else [])  # code point order, as tags_for
        tickets.append(TicketRow(*values))
    return tickets


async def _listed(query: "ListQuery", page: str, order: str, values: list[Any]) -> list[TicketRow]:
    """The rows of a page query (`page`: SELECT {SELECT} ... ORDER BY ... LIMIT). For agents each
    row comes with its tags in the same statement: the page is a derived table and the tags a
    subquery of each of its rows only (in the select list of the page itself, SQLite would run it
    for every row it sorts), ordered again by `order` (its columns as `p.<column>`)."""
    if not query.actor.is_staff:
        return _rows(await select_rows(page, *values))
    tags = TAG_NAMES[is_postgres()].format("p")
    return _rows(await select_rows(f"SELECT p.*, ({tags}) FROM ({page}) p ORDER BY {order}", *values), True)


@dataclass
class Keyset:
    """Where a page starts: after the row with this sort value and id."""

    value: Any
    pk: int


@dataclass(frozen=True, kw_only=True)
class ListQuery:
    """One page of a ticket list: which tickets, in which order, after which, how many."""

    filters: TicketFilters
    actor: User
    column: str = "id"
    descending: bool = True
    limit: int
    after: Keyset | None = None
    also: search.AlsoMatching | None = None  # what the search names besides its words

    @property
    def direction(self) -> str:
        return "DESC" if self.descending else "ASC"

    def nulls_last(self, postgres: bool) -> bool:
        """Whether NULLs must be told to sort last. Nulls (an unresolved ticket's resolved_at, an
        unassigned ticket's assignee) sort last both ways, as the keyset expects: PostgreSQL puts
        them first going down, SQLite going up. Only there: on a NOT NULL column NULLS LAST would
        keep PostgreSQL off the index (a full sort)."""
        column = self.column
        nullable = (column == "resolved_at" and self.filters.open is not False) or column in NULLABLE
        return nullable and postgres == self.descending


@dataclass
class _Where:
    """FROM clause, WHERE conditions and the id expression to order by."""

    source: str
    conditions: list[str]
    key: str = "t.id"

    def sql(self) -> str:
        return f"FROM {self.source} WHERE {' AND '.join(self.conditions)}"


def _filtered(filters: TicketFilters, actor: User, p: Params) -> list[str]:
    """The conditions of every filter but the search, and of what the actor may see."""
    conditions = ["t.deleted_at IS NULL"]
    if not actor.is_staff:
        conditions.append(f"t.organisation_hid = {p(actor.organisation_hid or '')}")
    for name in LINKS:
        if (value := getattr(filters, name)) is not None:
            conditions.append(f"t.{name}_id = {p(value)}")
    simple = (
        ("organisation_hid", "=", filters.organisation),
        ("reporter_hid", "=", filters.reporter),
        ("created_at", ">=", filters.created_from),
        ("created_at", "<", filters.created_to),
        ("updated_at", ">=", filters.updated_since),
        ("resolved_at", ">=", filters.resolved_since),
        ("sla_warn_at", "<=", filters.sla_warned_by),
    )
    conditions += [f"t.{column} {op} {p(value)}" for column, op, value in simple if value is not None]
    if filters.unassigned:
        conditions.append("t.assignee_id IS NULL")
    if filters.open is not None:
        conditions.append(f"t.resolved_at IS {'' if filters.open else 'NOT '}NULL")
    if filters.tag is not None:
        conditions.append(_tagged(filters.tag, actor, p))
    return conditions


def _tagged(tag: str, actor: User, p: Params) -> str:
    """The tickets carrying the tag (by the (tag_id, ticket_id) index); tags do not exist for customers."""
    if not actor.is_staff:
        return "1 = 0"
    return (
        "t.id IN (SELECT tt.ticket_id FROM ticket_tag tt JOIN tag g ON g.id = tt.tag_id"
        f" WHERE g.name = {p(tag)})"
    )


def _source(query: ListQuery, p: Params, postgres: bool) -> _Where:
    """The tickets the query's filters and search select. A search on SQLite walks the text index
    in ticket id order (unless the search also names tickets), so a page stops after `limit` rows
    instead of collecting every ticket that mentions a common word."""
    where = _Where("ticket t", _filtered(query.filters, query.actor, p))
    if not query.filters.searched:
        return where
    q, staff = query.filters.q or "", query.actor.is_staff
    match = None if postgres else search.fts5_match(q, include_internal=staff)
    if match and not query.also:
        where.source = "ticket_search JOIN ticket t ON t.id = ticket_search.rowid"
        where.conditions.append(f"ticket_search MATCH {p(match)}")
        where.key = "ticket_search.rowid"
        return where
    where.conditions.append(_matches(query, p, postgres))
    return where


def _matches(query: ListQuery, p: Params, postgres: bool) -> str:
    """The search as a condition on one ticket `t`: its words, or what it also names."""
    q, staff = query.filters.q or "", query.actor.is_staff
    if postgres:
        text = search.tsquery(q, include_internal=staff)
        words = f"t.search_vector @@ to_tsquery('simple', {p(text)})" if text else "1 = 0"
    else:
        match = search.fts5_match(q, include_internal=staff)
        words = (
            f"t.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH {p(match)})"
            if match
            else "1 = 0"
        )
    alternatives = [words]
    also = query.also or search.AlsoMatching()
    if also.ticket_id is not None:
        alternatives.append(f"t.id = {p(also.ticket_id)}")
    if also.organisations:
        alternatives.append(f"t.organisation_hid IN ({', '.join(p(hid) for hid in also.organisations)})")
    return f"({' OR '.join(alternatives)})"


async def select_page(query: ListQuery) -> list[TicketRow]:
    """Up to `limit` tickets in (column, id) order after the keyset, using the matching index."""
    if query.filters.searched:
        query = replace(query, also=await search.also_matching(query.filters.q or ""))
        if query.column != "id":
            return await _sorted_search(query)
        if query.descending and is_postgres():
            return await _newest_matches(query)
    return await _page(query)


async def _page(
    query: ListQuery, *, ids_from: int | None = None, ids_below: int | None = None, part: str | None = None
) -> list[TicketRow]:
    postgres = is_postgres()
    if part is None and query.column in NULLABLE and query.nulls_last(postgres):
        return await _valued_first(query)
    p = Params()
    where = _source(query, p, postgres)
    column, direction, key = query.column, query.direction, where.key
    if query.after is not None:
        where.conditions.append(_after(query, key, p))
    if part is not None:  # one side of a nullable column's walk (`_valued_first`)
        where.conditions.append(f"t.{column} {part}")
    nulls = " NULLS LAST" if part is None and query.nulls_last(postgres) else ""
    by_id = column == "id" or part == WITHOUT
    order = f"{key} {direction}" if by_id else f"t.{column} {direction}{nulls}, {key} {direction}"
    if ids_from is not None:
        where.conditions.append(f"t.id >= {p(ids_from)}")
    if ids_below is not None:
        where.conditions.append(f"t.id < {p(ids_below)}")
        order = f"t.id + 0 {direction}"  # not the id index: the planner must use the text index
    again = f"p.id {direction}" if by_id else f"p.{column} {direction}{nulls}, p.id {direction}"
    page = f"SELECT {SELECT} {where.sql()} ORDER BY {order} LIMIT {p(query.limit)}"
    return await _listed(query, page, again, p.values)


async def _valued_first(query: ListQuery) -> list[TicketRow]:
    """A page sorted by a column that may hold NULL, where NULLs must be told to sort last: `NULLS
    LAST` keeps the database off the column's index and sorts every match (the due sort of the open
    queue at 1M tickets: 6 requests a second on SQLite against 84 for the id sort). The tickets
    with a value come first in the index's order, then the ones without, by id."""
    if query.after is not None and query.after.value is None:  # the page starts among the NULLs
        return await _page(query, part=WITHOUT)
    valued = await _page(query, part=VALUED)
    if len(valued) == query.limit:
        return valued
    return valued + await _page(replace(query, limit=query.limit - len(valued), after=None), part=WITHOUT)


SORTED_SEARCH_CANDIDATES = 1000  # the index rows a search sorted by a date (or state...) walks


VALUED, WITHOUT = "IS NOT NULL", "IS NULL"  # the two walks where NULLs must be told to sort last


async def _sorted_search(query: ListQuery) -> list[TicketRow]:
    """A search sorted by anything but id walks that sort's index in order, at most
    SORTED_SEARCH_CANDIDATES rows, and keeps the tickets that match: the page is the start of the
    sorted result (perhaps shorter), without sorting every match of a common word.

    Where NULLs must be told to sort last, no index gives that order in one walk: the tickets with
    a value come first, then (when those ran out within the bound) the ones without, by id."""
    bound = SORTED_SEARCH_CANDIDATES
    if not query.nulls_last(is_postgres()):
        return await _walk(query, None, bound)
    if query.after is not None and query.after.value is None:  # the page starts among the NULLs
        return await _walk(query, WITHOUT, bound)
    valued = await _walk(query, VALUED, bound)
    left = bound - await _walked(query, VALUED)
    if len(valued) == query.limit or left <= 0:
        return valued
    rest = replace(query, limit=query.limit - len(valued), after=None)
    return valued + await _walk(rest, WITHOUT, left)


def _walk_sql(query: ListQuery, part: str | None, p: Params) -> tuple[str, str]:
    """The walk (ticket ids in the sort's order after the keyset, within `part`) and that order."""
    where = _Where("ticket t", _filtered(query.filters, query.actor, p))
    if query.after is not None:
        where.conditions.append(_after(query, "t.id", p))
    if part is not None:
        where.conditions.append(f"t.{query.column} {part}")
    direction = query.direction
    order = f"t.id {direction}" if part == WITHOUT else f"t.{query.column} {direction}, t.id {direction}"
    return f"SELECT t.id {where.sql()} ORDER BY {order}", order


async def _walk(query: ListQuery, part: str | None, bound: int) -> list[TicketRow]:
    """The matches among the first `bound` tickets in the sort's order (within `part`)."""
    postgres, p = is_postgres(), Params()
    walk, order = _walk_sql(query, part, p)
    sql = (
        f"SELECT {SELECT} FROM ({walk} LIMIT {p(bound)}) walked JOIN ticket t ON t.id = walked.id"
        f" WHERE {_matches(query, p, postgres)} ORDER BY {order} LIMIT {p(query.limit)}"
    )
    return await _listed(query, sql, order.replace("t.", "p."), p.values)


async def _walked(query: ListQuery, part: str) -> int:
    """How many index rows the walk within `part` reads (at most the bound)."""
    p = Params()
    walk, _ = _walk_sql(query, part, p)
    sql = f"SELECT COUNT(*) FROM ({walk} LIMIT {p(SORTED_SEARCH_CANDIDATES)}) walked"
    return int((await select_rows(sql, *p.values))[0][0])


RECENT = 20_000  # ids a PostgreSQL search walks newest first before it asks the text index


async def _newest_matches(query: ListQuery) -> list[TicketRow]:
    """A PostgreSQL search page, newest first, in at most two bounded steps.

    The planner estimates a search's matches from each word alone: when it expects many, it walks
    the id index newest first and checks each ticket, which is fast for a common word but reads
    the whole table when the words never meet (550 ms at 1M tickets for no result). So the walk
    covers the newest RECENT ids only; what it leaves of the page comes from the text index."""
    if query.after is None:
        rows = await select_rows("SELECT MAX(id) FROM ticket")
        upper = (rows[0][0] or 0) + 1
    else:
        upper = query.after.pk
    floor = upper - RECENT
    found = await _page(query, ids_from=floor)
    if len(found) == query.limit or floor <= 1:
        return found
    return found + await _page(replace(query, limit=query.limit - len(found)), ids_below=floor)


def _after(query: ListQuery, key: str, p: Params) -> str:
    """The condition for the rows that follow the keyset in the query's order."""
    column, after = query.column, query.after
    assert after is not None
    op = "<" if query.descending else ">"
    if column == "id":
        return f"{key} {op} {p(after.pk)}"
    if after.value is None:  # among the tickets without the value, which sort last
        return f"(t.{column} IS NULL AND {key} {op} {p(after.pk)})"
    value = p(after.value)
    following = f"t.{column} {op} {value} OR (t.{column} = {p(after.value)} AND {key} {op} {p(after.pk)})"
    return (
        f"({following} OR t.{column} IS NULL)" if query.descending or column in NULLABLE else f"({following})"
    )


async def count(*, filters: TicketFilters, actor: User, cap: int | None) -> int:
    """How many tickets match; with a cap, the database stops after `cap` rows."""
    also = await search.also_matching(filters.q or "") if filters.searched else None
    query = ListQuery(filters=filters, actor=actor, limit=0, also=also)
    p = Params()
    inner = f"SELECT 1 {_source(query, p, is_postgres()).sql()}"
    limit = f" LIMIT {p(cap)}" if cap else ""
    rows = await select_rows(f"SELECT COUNT(*) FROM ({inner}{limit}) matching", *p.values)
    return int(rows[0][0])


async def select_one(pk: int) -> TicketRow | None:
    """The live ticket with this id, or None."""
    rows = await select_rows(f"SELECT {SELECT} FROM ticket t WHERE t.id = ? AND t.deleted_at IS NULL", pk)
    return _rows(rows)[0] if rows else None


@dataclass(frozen=True, slots=True)
class Holdings:
    """What a ticket holds besides its row, read with it: its tag names (in name order), and whether
    it has files, links, received emails and the reader's draft. The ticket page and the API's
    ticket skip the reads of what it has none of (most tickets have no tags, links or draft)."""

    tags: list[str]
    files: bool
    links: bool
    incoming: bool
    draft: bool


# A ticket's tag names, one a line (a name holds no whitespace: services/tags.normalise).
_TAG_NAMES = "SELECT {} FROM ticket_tag tt JOIN tag g ON g.id = tt.tag_id WHERE tt.ticket_id = {{}}.id"
TAG_NAMES = {  # of the ticket whose alias is the placeholder
    False: _TAG_NAMES.format("group_concat(g.name, char(10))"),
    True: _TAG_NAMES.format("string_agg(g.name, chr(10))"),
}
# Each an index's first rows: attachment (ticket_id, id), ticket_link (ticket, other), inbound_email
# (ticket_id, id), reply_draft (ticket, user).
HAS_FILES = "EXISTS (SELECT 1 FROM attachment a WHERE a.ticket_id = t.id)"
PAGE_HOLDS = (
    " EXISTS (SELECT 1 FROM ticket_link l WHERE l.ticket_id = t.id),"
    " EXISTS (SELECT 1 FROM inbound_email i WHERE i.ticket_id = t.id),"
    " EXISTS (SELECT 1 FROM reply_draft d WHERE d.ticket_id = t.id AND d.user_id = ?)"
)


async def select_detail(pk: int, reader_id: int | None = None) -> tuple[TicketRow, Holdings] | None:
    """The live ticket with this id and what it holds, in one statement instead of up to six (or
    None). Its links, emails received and `reader_id`'s draft only for a reader (the ticket page):
    without one (the API) they are not read, and may be there."""
    page = reader_id is not None
    tags, holds = TAG_NAMES[is_postgres()].format("t"), HAS_FILES + ("," + PAGE_HOLDS if page else "")
    rows = await select_rows(
        f"SELECT {SELECT}, ({tags}), {holds} FROM ticket t WHERE t.id = ? AND t.deleted_at IS NULL",
        *([reader_id] if page else []),
        pk,
    )
    if not rows:
        return None
    *row, names, files, links, incoming, draft = rows[0] if page else (*rows[0], True, True, True)
    tags = sorted(names.split("\n")) if names else []  # by code point, as services/tags.tags_for
    return _rows([row])[0], Holdings(tags, bool(files), bool(links), bool(incoming), bool(draft))
