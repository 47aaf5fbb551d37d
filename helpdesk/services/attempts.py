"""Attempts counted in the database, so every app process sees the same counts: failed sign-ins
per account and per address, emailed links per account. One row per attempt, pruned as rows arrive."""

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from tortoise.functions import Count

from helpdesk.models import Attempt

KEEP = timedelta(hours=1)  # rows younger than the longest window counted (configure() may raise it)
settings = {"keep": KEEP}


def key(kind: str, value: str) -> str:
    """The digest an attempt is counted under: no email or address is stored in clear."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def now() -> datetime:
    """The time attempts are counted by (tests move it)."""
    return datetime.now(UTC)


async def counts(keys: Iterable[str], *, window: timedelta) -> dict[str, int]:
    """How many attempts each key has within the window (keys with none are absent)."""
    recent = Attempt.filter(key__in=list(keys), created_at__gt=now() - window)
    rows = await recent.group_by("key").annotate(n=Count("id")).values_list("key", "n")
    return dict(rows)


async def over(limits: dict[str, int], *, window: timedelta) -> bool:
    """Whether any key has reached its limit within the window (a limit of 0 counts nothing)."""
    found = await counts([k for k, limit in limits.items() if limit > 0], window=window)
    return any(found.get(k, 0) >= limit for k, limit in limits.items() if limit > 0)


async def add(keys: Iterable[str]) -> None:
    """Count one attempt against each key, and drop rows too old to count anymore."""
    moment = now()
    await Attempt.bulk_create([Attempt(key=k, created_at=moment) for k in keys])
    await Attempt.filter(created_at__lt=moment - settings["keep"]).delete()


async def forget(attempt_key: str) -> None:
    """Stop counting a key's attempts (a right password clears the account's failures)."""
    await Attempt.filter(key=attempt_key).delete()
