"""Per-process caches of the few rows nearly every request reads: the state catalogue, groups,
the users tickets name (by id and by human ID), organisations, and the user behind a token or session.

Each app process keeps a row for at most CACHE_SECONDS. A change made through this process's
services clears its caches at once (the services call `changed()`, and saving a state, group,
user or organisation does too); a change made in another process is seen within CACHE_SECONDS. So a renamed
state, a revoked token or a deactivated user stops showing or working within that time on every
process, at once on the one that made the change. CACHE_SECONDS = 0 turns caching off.

Rows that are not found are not remembered: a row created elsewhere is seen at the next request.
"""

import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from tortoise.signals import post_delete, post_save

from helpdesk.models import ApiToken, Group, Organisation, State, User, WebSession

Loader = Callable[[list[Any]], Awaitable[dict[Any, Any]]]

settings = {"seconds": 5.0}
_all: list["TimedCache"] = []
_generation = [0]  # counts changed(): a load that spans a change must not store what it read


class TimedCache:
    """Values by key, each kept `settings["seconds"]`, loaded in batches by `load(keys)`."""

    def __init__(self, load: Loader, clock: Callable[[], float] = time.monotonic) -> None:
        self._load, self._clock = load, clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        _all.append(self)

    async def many(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        """The values of those keys that exist (one query for all the keys not cached)."""
        now, found, missing = self._clock(), {}, []
        for key in keys:
            if key is None or key in found:
                continue
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                found[key] = entry[1]
            else:
                missing.append(key)
        if missing:
            generation = _generation[0]
            loaded = await self._load(missing)
            if settings["seconds"] > 0 and generation == _generation[0]:
                expires = now + settings["seconds"]
                if len(self._entries) > 50_000:  # a bound on memory: start again rather than grow
                    self._entries.clear()
                self._entries.update((key, (expires, value)) for key, value in loaded.items())
            found.update(loaded)
        return found

    async def one(self, key: Hashable) -> Any:
        return (await self.many([key])).get(key) if key is not None else None

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


def changed() -> None:
    """Something cached changed in this process: forget everything, so the next read reloads."""
    _generation[0] += 1
    for cache in _all:
        cache.clear()


def configure(seconds: float) -> None:
    settings["seconds"] = float(seconds)
    changed()


async def _states(ids: list[int]) -> dict[int, State]:
    return {s.id: s for s in await State.filter(id__in=ids)}


async def _groups(ids: list[int]) -> dict[int, Group]:
    return {g.id: g for g in await Group.filter(id__in=ids)}


async def _users(ids: list[int]) -> dict[int, User]:
    return {u.id: u for u in await User.filter(id__in=ids)}


async def _people(hids: list[str]) -> dict[str, User]:
    return {u.human_id: u for u in await User.filter(human_id__in=hids)}


async def _organisations(hids: list[str]) -> dict[str, Organisation]:
    return {o.human_id: o for o in await Organisation.filter(human_id__in=hids).select_related("parent")}


async def _tokens(digests: list[str]) -> dict[str, ApiToken]:
    return {t.digest: t for t in await ApiToken.filter(digest__in=digests, revoked_at=None)}


async def _sessions(digests: list[str]) -> dict[str, WebSession]:
    return {s.digest: s for s in await WebSession.filter(digest__in=digests)}


states = TimedCache(_states)
groups = TimedCache(_groups)
users = TimedCache(_users)
people = TimedCache(_people)  # users by human ID: the reporters tickets name
organisations = TimedCache(_organisations)
tokens = TimedCache(_tokens)
sessions = TimedCache(_sessions)


async def _saved(*_: Any, **__: Any) -> None:
    changed()


# Saving a cached kind of row clears the caches. Tokens and sessions are only ever created by a
# save (nothing to clear: a missing row is never cached, and every sign-in would empty the caches)
# and are revoked or ended by the services, which call changed().
for _model in (State, Group, User, Organisation):
    post_save(_model)(_saved)
    post_delete(_model)(_saved)
