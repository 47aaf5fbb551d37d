"""Reading tickets with hand-written SQL: the queries every queue, list and ticket page runs.

Built with the ORM's query builder, and with a model per joined row, these reads spent ten times
longer in Python than in the database. Here each query is a short string with bound parameters,
rows become Ticket models directly, and the states, groups, assignees and organisations they
point at come from the per-process cache (services/cache.py).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpdesk.models import Ticket, User
from helpdesk.services import search
from helpdesk.services.sql import Params, connection, is_postgres, moment

if TYPE_CHECKING:
    from helpdesk.services.tickets import TicketFilters

COLUMNS = (
    "id", "organisation_hid", "contract_hid", "tenant_hid", "reporter_hid", "title", "description",
    "state_id", "type_id", "priority_id", "stage_id", "outcome_id", "group_id", "assignee_id",
    "created_at", "updated_at", "first_assigned_at", "resolved_at", "deleted_at", "version",
)  # fmt: skip
SELECT = ", ".join(f"t.{column}" for column in COLUMNS)
LINKS = ("state", "type", "priority", "stage", "outcome", "group", "assignee")


@dataclass
class Keyset:
    """Where a page starts: after the row with this sort value and id."""

    value: Any
    pk: int


NULLABLE = ("assignee_id",)  # sortable columns that may hold NULL besides resolved_at
DATETIMES = tuple(i for i, column in enumerate(COLUMNS) if column.endswith("_at"))


def _from_rows(rows: list[Any]) -> list[Ticket]:
    """Ticket models as the ORM would build them, at a fraction of the cost."""
    saved = {"_partial": False, "_saved_in_db": True, "_custom_generated_pk": False}
    tickets = []
    for row in rows:
        values = list(row)
        for i in DATETIMES:
            values[i] = moment(values[i])
        ticket = Ticket.__new__(Ticket)
        ticket.__dict__.update(zip(COLUMNS, values, strict=True), **saved, _await_when_save={})
        tickets.append(ticket)
    return tickets


def _source(
    filters: "TicketFilters", actor: User, p: Params, also: search.AlsoMatching | None = None
) -> tuple[str, list[str], str]:
    """FROM clause, WHERE conditions and the id expression to order by."""
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
    )
    conditions += [f"t.{column} {op} {p(value)}" for column, op, value in simple if value is not None]
    if filters.unassigned:
        conditions.append("t.assignee_id IS NULL")
    if filters.open is not None:
        conditions.append(f"t.resolved_at IS {'' if filters.open else 'NOT '}NULL")
    source, key = "ticket t", "t.id"
    if filters.q and filters.q.strip():
        source, key, condition = _text_match(filters.q, actor, p, also or search.AlsoMatching())
        conditions.append(condition)
    return source, conditions, key


def _text_match(q: str, actor: User, p: Params, also: search.AlsoMatching) -> tuple[str, str, str]:
    """FROM clause, id expression and condition of a search: its words, or what it also names."""
    include_internal = actor.is_staff
    if p.postgres:
        query = search.tsquery(q, include_internal=include_internal)
        words = f"t.search_vector @@ to_tsquery('simple', {p(query)})" if query else "1 = 0"
    else:
        match = search.fts5_match(q, include_internal=include_internal)
        if match and not also:
            # The index walks its matches in ticket id order, so a page stops after `limit` rows
            # instead of collecting every ticket that mentions a common word.
            source = "ticket_search JOIN ticket t ON t.id = ticket_search.rowid"
            return source, "ticket_search.rowid", f"ticket_search MATCH {p(match)}"
        words = (
            f"t.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH {p(match)})"
            if match
            else "1 = 0"
        )
    alternatives = [words]
    if also.ticket_id is not None:
        alternatives.append(f"t.id = {p(also.ticket_id)}")
    if also.organisations:
        alternatives.append(f"t.organisation_hid IN ({', '.join(p(hid) for hid in also.organisations)})")
    return "ticket t", "t.id", f"({' OR '.join(alternatives)})"


async def _also(filters: "TicketFilters") -> search.AlsoMatching | None:
    return await search.also_matching(filters.q) if filters.q and filters.q.strip() else None


async def select_page(
    *,
    filters: "TicketFilters",
    actor: User,
    column: str,
    descending: bool,
    limit: int,
    after: Keyset | None,
) -> list[Ticket]:
    """Up to `limit` tickets in (column, id) order after the keyset, using the matching index."""
    client = connection()
    postgres = is_postgres(client)
    also = await _also(filters)
    if postgres and column == "id" and descending and also is not None:
        return await _newest_matches(
            client, filters=filters, actor=actor, limit=limit, after=after, also=also
        )
    return await _page(client, filters, actor, column, descending, limit, after, also=also)


async def _page(
    client: Any,
    filters: "TicketFilters",
    actor: User,
    column: str,
    descending: bool,
    limit: int,
    after: Keyset | None,
    *,
    ids_from: int | None = None,
    ids_below: int | None = None,
    also: search.AlsoMatching | None = None,
) -> list[Ticket]:
    p = Params(is_postgres(client))
    source, conditions, key = _source(filters, actor, p, also)
    if column != "id" and filters.q and filters.q.strip():
        source, conditions, key = _newest_candidates(source, conditions, key, p)
    direction = "DESC" if descending else "ASC"
    # Nulls (an unresolved ticket's resolved_at, an unassigned ticket's assignee) sort last both
    # ways, as the keyset expects: PostgreSQL puts them first going down, SQLite going up. Only
    # there: on a NOT NULL column NULLS LAST would keep PostgreSQL off the index (a full sort).
    nullable = (column == "resolved_at" and filters.open is not False) or column in NULLABLE
    nulls = " NULLS LAST" if nullable and p.postgres == descending else ""
    if after is not None:
        conditions.append(_after(column, descending, after, key, p))
    order = f"{key} {direction}" if column == "id" else f"t.{column} {direction}{nulls}, {key} {direction}"
    if ids_from is not None:
        conditions.append(f"t.id >= {p(ids_from)}")
    if ids_below is not None:
        conditions.append(f"t.id < {p(ids_below)}")
        order = f"t.id + 0 {direction}"  # not the id index: the planner must use the text index
    sql = f"SELECT {SELECT} FROM {source} WHERE {' AND '.join(conditions)} ORDER BY {order} LIMIT {p(limit)}"
    _, rows = await client.execute_query(sql, p.values)
    return _from_rows(rows)


SORTED_SEARCH_CANDIDATES = 1000  # the newest matches a search sorted by a date may reorder


def _newest_candidates(source: str, conditions: list[str], key: str, p: Params) -> tuple[str, list[str], str]:
    """A search sorted by a date sorts only its newest matches: sorting every match of a common
    word read the whole result for one page."""
    newest = (
        f"SELECT {SELECT} FROM {source} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {key} DESC LIMIT {p(SORTED_SEARCH_CANDIDATES)}"
    )
    return f"({newest}) t", ["1 = 1"], "t.id"


RECENT = 20_000  # ids a PostgreSQL search walks newest first before it asks the text index


async def _newest_matches(
    client: Any,
    *,
    filters: "TicketFilters",
    actor: User,
    limit: int,
    after: Keyset | None,
    also: search.AlsoMatching,
) -> list[Ticket]:
    """A PostgreSQL search page, newest first, in at most two bounded steps.

    The planner estimates a search's matches from each word alone: when it expects many, it walks
    the id index newest first and checks each ticket, which is fast for a common word but reads
    the whole table when the words never meet (550 ms at 1M tickets for no result). So the walk
    covers the newest RECENT ids only; what it leaves of the page comes from the text index."""
    if after is None:
        _, rows = await client.execute_query("SELECT MAX(id) FROM ticket")
        upper = (rows[0][0] or 0) + 1
    else:
        upper = after.pk
    floor = upper - RECENT
    found = await _page(client, filters, actor, "id", True, limit, after, ids_from=floor, also=also)
    if len(found) == limit or floor <= 1:
        return found
    rest = limit - len(found)
    older = await _page(client, filters, actor, "id", True, rest, after, ids_below=floor, also=also)
    return found + older


def _after(column: str, descending: bool, after: Keyset, key: str, p: Params) -> str:
    op = "<" if descending else ">"
    if column == "id":
        return f"{key} {op} {p(after.pk)}"
    if after.value is None:  # among the tickets without the value, which sort last
        return f"(t.{column} IS NULL AND {key} {op} {p(after.pk)})"
    value = p(after.value)
    following = f"t.{column} {op} {value} OR (t.{column} = {p(after.value)} AND {key} {op} {p(after.pk)})"
    return f"({following} OR t.{column} IS NULL)" if descending or column in NULLABLE else f"({following})"


async def count(*, filters: "TicketFilters", actor: User, cap: int | None) -> int:
    """How many tickets match; with a cap, the database stops after `cap` rows."""
    client = connection()
    also = await _also(filters)
    p = Params(is_postgres(client))
    source, conditions, _ = _source(filters, actor, p, also)
    inner = f"SELECT 1 FROM {source} WHERE {' AND '.join(conditions)}"
    limit = f" LIMIT {p(cap)}" if cap else ""
    sql = f"SELECT COUNT(*) FROM ({inner}{limit}) matching"
    _, rows = await client.execute_query(sql, p.values)
    return int(rows[0][0])


async def select_one(pk: int) -> Ticket | None:
    """The live ticket with this id, or None."""
    client = connection()
    p = Params(is_postgres(client))
    sql = f"SELECT {SELECT} FROM ticket t WHERE t.id = {p(pk)} AND t.deleted_at IS NULL"
    _, rows = await client.execute_query(sql, p.values)
    return _from_rows(rows)[0] if rows else None
