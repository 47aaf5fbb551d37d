"""Hand-written SQL: `?` placeholders on both databases, a `?` in a string left alone."""

from datetime import UTC, datetime

from helpdesk.services import sql


def test_placeholders_are_numbered_outside_strings_quoted_names_and_comments():
    query = """SELECT 'why?', 'it''s ?', "odd?name" FROM t WHERE a = ? /* or ? */ AND b = ? -- ?"""
    expected = """SELECT 'why?', 'it''s ?', "odd?name" FROM t WHERE a = $1 /* or ? */ AND b = $2 -- ?"""
    assert sql.numbered(query) == expected


async def test_a_question_mark_in_a_string_is_not_a_placeholder(app):
    """select_rows split the query on every `?`: on PostgreSQL a `?` inside a string became `$1`
    and every value after it moved one place along."""
    rows = await sql.select_rows("SELECT 'why?' || CAST(? AS TEXT), CAST(? AS INTEGER) + 1 -- done?", "!", 2)
    assert [tuple(row) for row in rows] == [("why?!", 3)]


async def test_a_timestamp_compares_alike_on_both_databases(app):
    """SQLite compares the stored text: a bound datetime is written as Tortoise writes it, in UTC."""
    from tests.factories import make_ticket

    ticket = await make_ticket()
    later = datetime(2999, 1, 1, tzinfo=UTC)
    found = await sql.select_rows("SELECT id FROM ticket WHERE created_at < ? AND id = ?", later, ticket.id)
    assert [row[0] for row in found] == [ticket.id]
