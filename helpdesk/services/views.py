"""Saved views: a queue's filters and sort under a name, an agent's own or shared with a group's
members, shown in the queue menu with their counts. Customers have none."""

import json
from dataclasses import dataclass, replace
from typing import Any

from tortoise.expressions import Q

from helpdesk.errors import Forbidden, Invalid, NotFound
from helpdesk.models import Group, GroupMember, SavedView, User, ids_in_range
from helpdesk.services import access, organisations, queues, tags
from helpdesk.services.ticket_fields import SORTS

FILTERS = ("state", "priority", "type", "group", "assignee", "organisation", "q", "tag")
IDS = ("state", "priority", "type", "group", "assignee")
NAME_MAX = 100
MOST = 30  # views a menu lists (and counts): a bounded number of count queries per menu


@dataclass
class View:
    id: int
    name: str
    queue: str
    filters: dict[str, Any]
    sort: str
    group_id: int | None
    mine: bool  # the actor owns it (may edit and delete it)
    count: int | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The queue page's query parameters that show the view."""
        return self.filters | {"sort": self.sort}


def _view(row: SavedView, actor: User) -> View:
    filters = json.loads(row.filters)
    return View(row.id, row.name, row.queue, filters, row.sort, row.group_id, row.owner_id == actor.id)


async def _member_groups(actor: User) -> list[int]:
    return list(await GroupMember.filter(user_id=actor.id).values_list("group_id", flat=True))


async def list_views(*, actor: User) -> list[View]:
    """The actor's own views and those shared with a group they belong to, by name (at most MOST)."""
    if not actor.is_staff:
        return []
    groups = await _member_groups(actor)
    rows = await SavedView.filter(Q(owner_id=actor.id) | Q(group_id__in=groups or [0])).order_by("name", "id")
    return [_view(row, actor) for row in rows[:MOST]]


async def _clean(name: str, queue: str, filters: dict[str, Any], sort: str, actor: User) -> tuple:
    """The view's name, queue, filters (ids as numbers, the organisation as its ID, the tag as
    stored) and sort, checked; Invalid names what is wrong."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid("The view needs a name.", {"name": [f"must be 1 to {NAME_MAX} characters"]})
    await _queue(queue, actor)
    kept: dict[str, Any] = {}
    for key in FILTERS:
        value = filters.get(key)
        if value in (None, ""):
            continue
        if key in IDS:
            number = int(value) if str(value).isdigit() else 0
            if not ids_in_range(number) or not number:
                raise Invalid("A filter is not valid.", {key: ["is not an id"]})
            kept[key] = number
        else:
            kept[key] = str(value).strip()[:200]
    if "organisation" in kept:
        kept["organisation"] = await organisations.organisation_filter(text=kept["organisation"], actor=actor)
    if "tag" in kept:
        kept["tag"] = tags.filter_name(kept["tag"])
    return name, queue, kept, sort if sort in SORTS else ""


async def _queue(name: str, actor: User) -> queues.Queue:
    try:
        return queues.pick_queue(await queues.list_queues(actor=actor), name)
    except NotFound as error:
        raise Invalid("No such queue.", {"queue": [f"no queue {name}"]}) from error


async def _share(group_id: int | None, actor: User) -> int | None:
    """The group a view is shared with: one the actor belongs to (admins: any)."""
    if group_id is None:
        return None
    if not ids_in_range(group_id) or not await Group.exists(id=group_id):
        raise Invalid("No such group.", {"group": [f"no group {group_id}"]})
    if not actor.admin and group_id not in await _member_groups(actor):
        raise Forbidden("You share views only with groups you belong to.")
    return group_id


async def save_view(
    *, name: str, queue: str, filters: dict[str, Any], sort: str, actor: User, group_id: int | None = None
) -> View:
    """Save the queue's filters and sort as a named view (agents only)."""
    if not actor.is_staff:
        raise Forbidden("Only agents save views.")
    name, queue, kept, sort = await _clean(name, queue, filters, sort, actor)
    base = await _queue(queue, actor)
    row = await SavedView.create(
        name=name, owner_id=actor.id, group_id=await _share(group_id, actor), queue=queue,
        filters=json.dumps(kept, sort_keys=True), sort=sort or base.sort,
    )  # fmt: skip
    return _view(row, actor)


async def _own(view_id: int, actor: User) -> SavedView:
    """A view the actor owns; any other reads as missing."""
    access.staff_only(actor, "No such view.")
    row = await SavedView.get_or_none(id=view_id, owner_id=actor.id) if ids_in_range(view_id) else None
    if row is None:
        raise NotFound(f"No view {view_id}.")
    return row


async def get_view(*, view_id: int, actor: User) -> View:
    """One of the actor's own views (for its edit form)."""
    return _view(await _own(view_id, actor), actor)


async def update_view(*, view_id: int, name: str, group_id: int | None, actor: User) -> View:
    """Rename a view and choose whom it is shared with (its owner only)."""
    row = await _own(view_id, actor)
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid("The view needs a name.", {"name": [f"must be 1 to {NAME_MAX} characters"]})
    row.name, row.group_id = name, await _share(group_id, actor)
    await row.save(update_fields=["name", "group_id", "updated_at"])
    return _view(row, actor)


async def delete_view(*, view_id: int, actor: User) -> None:
    """Delete a view (its owner only)."""
    await (await _own(view_id, actor)).delete()


async def count_views(*, actor: User, views: list[View]) -> list[View]:
    """Each view's count, as the queue menu counts (capped): one bounded query per view, and the
    menu lists at most MOST views."""
    if not views:
        return views
    by_name = {queue.name: queue for queue in await queues.list_queues(actor=actor)}
    for view in views:
        base = by_name.get(view.queue)
        if base is None:
            continue
        own = {k: v for k, v in view.filters.items() if getattr(base.filters, k) is None}
        counted = replace(base, filters=replace(base.filters, **own), count=None)
        view.count = (await queues.count_queues(actor=actor, queues=[counted]))[0].count
    return views


async def share_choices(*, actor: User) -> list[Group]:
    """The groups the actor may share a view with: their own (admins: every group)."""
    access.staff_only(actor, "No such view.")
    if actor.admin:
        return list(await Group.all().order_by("name"))
    return list(await Group.filter(id__in=await _member_groups(actor) or [0]).order_by("name"))
