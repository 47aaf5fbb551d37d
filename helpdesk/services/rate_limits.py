"""Request limits counted in the database, so N app processes enforce one limit: a token bucket
per key (`rate_bucket`), taken from and refilled in one statement, atomic on either database."""

import math

from helpdesk.services import sql

# `refill`: what the bucket holds now, before this request; one is taken only when it holds one.
_REFILL = "{least}(?, rate_bucket.tokens + {greatest}(0, excluded.stamp - rate_bucket.stamp) * ?)"
_TAKE = """INSERT INTO rate_bucket (key, tokens, stamp, refused) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    tokens = CASE WHEN {refill} >= 1 THEN {refill} - 1 ELSE {refill} END,
    stamp = {greatest}(rate_bucket.stamp, excluded.stamp),
    refused = {refill} < 1
RETURNING tokens, refused"""
TAKE = {
    False: _TAKE.format(refill=_REFILL.format(least="MIN", greatest="MAX"), greatest="MAX"),
    # Tortoise's PostgreSQL client reads the rows of a SELECT: the insert becomes a WITH clause.
    True: "WITH taken AS ({}) SELECT tokens, refused FROM taken".format(  # noqa: S608 - our SQL
        _TAKE.format(refill=_REFILL.format(least="LEAST", greatest="GREATEST"), greatest="GREATEST")
    ),
}


async def take(key: str, *, per_minute: int, now: float) -> int:
    """Take one request from the key's bucket (`per_minute` a minute, bursts up to a minute's
    worth): 0 when it may go ahead, else the whole seconds until it may (nothing is taken then).

    `now` is Unix seconds; a process whose clock is behind never refills a bucket backwards."""
    rate = per_minute / 60
    parameters = [key, per_minute - 1.0, now, False] + [float(per_minute), rate] * 4
    rows = await sql.select_rows(TAKE[sql.is_postgres()], *parameters)
    tokens, refused = rows[0]
    return max(1, math.ceil((1 - tokens) / rate)) if refused else 0
