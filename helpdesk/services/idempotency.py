"""Idempotency-Key on the POSTs that create: a retried create returns what the first one made.

The key is written in the same transaction as what it creates, so a client that lost the answer
(a dropped connection, a timeout) can send the request again and get one row, not two. A key is
the client's for one request: sent again with a different kind of create, or for another ticket,
it is a Conflict."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError

from helpdesk.errors import BadRequest, Conflict
from helpdesk.models import IdempotencyKey, User

T = TypeVar("T")
HEADER = "Idempotency-Key"
MAX_LENGTH = 255
PATTERN = "^[ -~]*[!-~][ -~]*$"  # printable ASCII with at least one character that is not a space
PRINTABLE = re.compile(PATTERN)
TICKET, COMMENT, EVENT, USER = "ticket", "comment", "event", "user"  # what a key created


@dataclass(frozen=True)
class Request:
    """Who sent the key, what it creates (`scope`) and on which ticket, if any."""

    actor: User
    key: str
    scope: str
    ticket_id: int | None = None

    def row(self, resource_id: int) -> dict[str, Any]:
        """The key's row (but its time), for a hand-written insert in the creating transaction."""
        ticket_id = resource_id if self.scope == TICKET else self.ticket_id
        return {
            "key": self.key, "scope": self.scope, "resource_id": resource_id, "ticket_id": ticket_id,
            "user_id": self.actor.id,
        }  # fmt: skip

    async def record(self, resource_id: int) -> None:
        """Store the key; call it inside the creating transaction."""
        await IdempotencyKey.create(**self.row(resource_id))


def request(actor: User, key: str | None, scope: str, ticket_id: int | None = None) -> Request | None:
    """The request a key names, or None when no key was sent; a malformed key is a BadRequest."""
    if key is None:
        return None
    return Request(actor, checked_key(key), scope, ticket_id)


def checked_key(key: str) -> str:
    """The key, if it is 1 to MAX_LENGTH printable ASCII characters, not all spaces; else a
    BadRequest naming the header. A longer key is refused, not cut: two keys that differ only past
    the cut would be one request. (The IETF draft makes the key a structured-field string, which
    is printable ASCII too.)"""
    if not 0 < len(key) <= MAX_LENGTH:
        why = f"must be 1 to {MAX_LENGTH} characters"
    elif not PRINTABLE.fullmatch(key):
        why = "must be printable ASCII characters (no control characters), not only spaces"
    else:
        return key
    raise BadRequest(f"The {HEADER} header {why}.", {HEADER: [why]})


async def earlier(req: Request) -> int | None:
    """The id an earlier request with this key created, or None; a key used for another request
    is a Conflict."""
    record = await IdempotencyKey.filter(user_id=req.actor.id, key=req.key).first()
    if record is None:
        return None
    if record.scope != req.scope or (req.ticket_id is not None and record.ticket_id != req.ticket_id):
        raise Conflict("This Idempotency-Key was used for another request; send a new key.")
    return record.resource_id


async def once(
    req: Request | None, create: Callable[[], Awaitable[T]], load: Callable[[int], Awaitable[T]]
) -> T:
    """`create()`, unless a request with this key already did: then `load` what it made.

    Two retries at once both find no key; the second's insert of the key fails, and it answers
    with what the first made."""
    if req is None:
        return await create()
    if (made := await earlier(req)) is not None:
        return await load(made)
    try:
        return await create()
    except (IntegrityError, Conflict):
        if (made := await earlier(req)) is not None:
            return await load(made)
        raise
