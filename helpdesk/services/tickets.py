"""Tickets: creating, listing, reading and changing them. Every change records who made it."""

import base64
import binascii
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from helpdesk.errors import BadRequest, Conflict, Forbidden, Invalid, NewReplies, NotFound
from helpdesk.models import (
    Attachment,
    Comment,
    Group,
    Organisation,
    State,
    StateKind,
    Ticket,
    TicketAttribute,
    User,
    ids_in_range,
)
from helpdesk.models.tickets import CONTACT, TRUSTED
from helpdesk.services import (
    access,
    assignment,
    attachments,
    cache,
    contacts,
    feed,
    history,
    idempotency,
    notifications,
    sla,
    ticket_queries,
    ticket_writes,
    timeline,
)
from helpdesk.services.contacts import queue_main_email_changed
from helpdesk.services.ticket_fields import (
    AGENT_SORTS,
    CLASSIFIED,
    DEFAULT_SORT,
    LINKS,
    SORTS,
    TicketFilters,
)
from helpdesk.services.ticket_queries import Holdings, TicketRow
from helpdesk.services.values import SINGLE_KEYS, ContactKey

KINDS = (StateKind.STATE, StateKind.TYPE, StateKind.PRIORITY, StateKind.STAGE, StateKind.OUTCOME)
CLASSIFICATIONS: dict[str, StateKind] = dict(zip(CLASSIFIED, KINDS, strict=True))
TEXT_FIELDS = ("organisation_hid", "contract_hid", "tenant_hid", "reporter_hid", "title", "description")


@dataclass
class Contacts:
    """The blueprint's `Ticket Attributes Create`: the people to keep informed."""

    main_email: str | None = None
    phone_number: str | None = None
    preferred_contact_method: str | None = None
    additional_emails: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        """(key, value) pairs, one attribute row each (DECISIONS 23)."""
        pairs = [(key, getattr(self, key.field)) for key in SINGLE_KEYS]
        pairs += [(ContactKey.ADDITIONAL_EMAIL, email) for email in self.additional_emails]
        return [(key, value) for key, value in pairs if value]


@dataclass
class NewTicket:
    """What a client may say about a ticket it creates."""

    organisation_hid: str
    contract_hid: str
    tenant_hid: str
    reporter_hid: str
    description: str
    title: str = ""
    contacts: Contacts | None = None
    classification: dict[str, int] = field(default_factory=dict)
    group_id: int | None = None
    assignee_id: int | None = None


CUSTOMER_PAGE_LIMIT = 100  # the API default page; agents may ask for up to 1000


@dataclass
class TicketPage:
    tickets: list[TicketRow]
    next_cursor: str | None
    related: "Related"

    @property
    def organisations(self) -> dict[str, Organisation]:
        return self.related.organisations


def now() -> datetime:
    return datetime.now(UTC)


async def load(
    *, human_id: str, actor: User, staff_only: bool = False, agents_only: str = "", related: bool = False
) -> Ticket:
    """The live ticket with this human ID, fetched and authorised in one call: missing to whoever may
    not see it (to every customer with `staff_only`), refused to customers for an `agents_only`
    intent (access.authorise).

    `related`: with its states, group and assignee (from the per-process cache)."""
    pk = Ticket.parse_human_id(human_id)
    row = await ticket_queries.select_one(pk) if pk else None
    if row is None:
        raise NotFound(f"No ticket {human_id}.")
    access.authorise(row, actor, staff_only=staff_only, agents_only=agents_only)
    values = row.columns()
    if related:
        values |= _links(row, await related_for([row]))
    # The services change it through the ORM: the model of the row just read, as loading it would give.
    return Ticket.construct(_saved_in_db=True, **values)


async def read_detail(*, human_id: str, actor: User, page: bool = False) -> tuple[TicketRow, Holdings]:
    """The ticket's row as the actor may read it, with what it holds besides (ticket_queries.Holdings)
    read with it: for the API's ticket (the row as read: making a model of it was ~4% of that
    request), and with `page` all the ticket page shows (the actor's draft among it). Customers get
    no tags (they have none)."""
    pk = Ticket.parse_human_id(human_id)
    found = await ticket_queries.select_detail(pk, actor.id if page else None) if pk else None
    if found is None:
        raise NotFound(f"No ticket {human_id}.")
    row, holds = found
    access.authorise(row, actor)
    return row, holds if actor.is_staff else replace(holds, tags=[])


async def load_detail(
    *, human_id: str, actor: User, related: bool = False, page: bool = False
) -> tuple[Ticket, Holdings]:
    """`read_detail` as `load` gives the ticket: a model, which the ticket page's services change."""
    row, holds = await read_detail(human_id=human_id, actor=actor, page=page)
    values = row.columns()
    if related:
        values |= _links(row, await related_for([row]))
    return Ticket.construct(_saved_in_db=True, **values), holds


@dataclass
class Related:
    """What tickets point at: states, groups and users by id, organisations by human ID."""

    states: dict[int, State]
    groups: dict[int, Group]
    users: dict[int, User]
    organisations: dict[str, Organisation]


async def related_for(tickets: list[Ticket] | list[TicketRow]) -> Related:
    """The states, groups, assignees and organisations (with their partner) the tickets name,
    from the per-process cache: a query only for what it has not seen lately."""
    state_ids = {i for t in tickets for i in (t.state_id, t.type_id, t.priority_id, t.stage_id, t.outcome_id)}
    return Related(
        states=await cache.states.many(state_ids),
        groups=await cache.groups.many({t.group_id for t in tickets}),
        users=await cache.users.many({t.assignee_id for t in tickets}),
        organisations=await cache.organisations.many({t.organisation_hid for t in tickets}),
    )


async def organisations_for(tickets: list[TicketRow]) -> dict[str, Organisation]:
    """The directory entries (with their parent partner) the tickets name."""
    return await cache.organisations.many({t.organisation_hid for t in tickets})


def _links(row: TicketRow, related: Related) -> dict[str, Any]:
    """The states, group and assignee the row names, as the model's relations (templates read
    `ticket.state.description`); one the cache did not find stays unset rather than clear its id."""
    links: dict[str, Any] = {name: related.states.get(getattr(row, f"{name}_id")) for name in CLASSIFIED}
    links |= {"group": related.groups.get(row.group_id), "assignee": related.users.get(row.assignee_id)}
    return {
        name: link for name, link in links.items() if link is not None or getattr(row, f"{name}_id") is None
    }


# --- Listing -------------------------------------------------------------------------------


def encode_cursor(ticket: TicketRow, sort: str) -> str:
    column = SORTS[sort][0]
    value = getattr(ticket, column)
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, ticket.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """The (sort value, id) a cursor points after; BadRequest (a bad query value) when we did not make it."""
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or not ids_in_range(pk):
            raise ValueError
        if SORTS[sort][0].endswith("_at") and value is not None:
            value = datetime.fromisoformat(value).astimezone(UTC)
        return value, pk
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("Bad cursor.", {"cursor": ["is not a cursor this list gave out"]}) from exc


async def list_tickets(
    *,
    actor: User,
    filters: TicketFilters,
    limit: int = 100,
    cursor: str | None = None,
    sort: str = DEFAULT_SORT,
) -> TicketPage:
    """One page of the tickets the actor may see, newest first by default, with a keyset cursor.

    A customer's page holds at most CUSTOMER_PAGE_LIMIT tickets; a larger `limit` is clamped, and
    one sorted by SLA due (AGENT_SORTS) comes in the default order."""
    if not actor.is_staff:
        limit = min(limit, CUSTOMER_PAGE_LIMIT)
        sort = DEFAULT_SORT if sort in AGENT_SORTS else sort
    column, descending = SORTS[sort]
    after = ticket_queries.Keyset(*decode_cursor(cursor, sort)) if cursor else None
    query = ticket_queries.ListQuery(
        filters=filters, actor=actor, column=column, descending=descending, limit=limit + 1, after=after
    )
    rows = await ticket_queries.select_page(query)
    tickets, more = rows[:limit], len(rows) > limit
    related = await related_for(tickets)
    next_cursor = encode_cursor(tickets[-1], sort) if more else None
    return TicketPage(tickets, next_cursor, related)


async def count_tickets(*, actor: User, filters: TicketFilters, cap: int | None = None) -> int:
    """How many tickets match; with a cap, counting stops there (reads at most `cap` index entries)."""
    return await ticket_queries.count(filters=filters, actor=actor, cap=cap)


# --- Creating ------------------------------------------------------------------------------


async def _resolve_classification(values: dict[str, int | None]) -> dict[str, State | None]:
    """Map {"state": id, ...} to catalogue entries of the right kind, or raise Invalid."""
    ids = [v for v in values.values() if v is not None and ids_in_range(v)]
    found = await cache.states.many(ids) if ids else {}
    errors: dict[str, list[str]] = {}
    resolved: dict[str, State | None] = {}
    for name, state_id in values.items():
        state = found.get(state_id) if state_id is not None else None
        if state_id is not None and (state is None or state.kind != CLASSIFICATIONS[name]):
            errors[name] = [f"{state_id} is not a {name} in the catalogue"]
        resolved[name] = state
    if errors:
        raise Invalid("Unknown classification.", errors)
    return resolved


async def _assignment(group_id: int | None, assignee_id: int | None) -> tuple[Group | None, User | None]:
    """The group and the active agent the ids name (None stays None); Invalid names what is unknown."""
    group = await cache.groups.one(group_id) if ids_in_range(group_id) and group_id else None
    user = await cache.users.one(assignee_id) if ids_in_range(assignee_id) and assignee_id else None
    assignee = user if user is not None and user.is_staff and user.active else None
    errors: dict[str, list[str]] = {}
    if group_id is not None and group is None:
        errors["group"] = [f"no group {group_id}"]
    if assignee_id is not None and assignee is None:
        errors["assignee"] = [f"{assignee_id} is not an active agent"]
    if errors:
        raise Invalid("Unknown group or assignee.", errors)
    return group, assignee


async def _first_states(kinds: list[StateKind]) -> dict[StateKind, State]:
    return {kind: state for kind in kinds if (state := await _first_state(kind))}


async def _first_state(kind: StateKind) -> State | None:
    return await State.filter(kind=kind).order_by("position", "id").first()


# The first state of each kind, kept and forgotten with the rest of the per-process cache.
_first_state_cache = cache.TimedCache(_first_states)


async def _default_state() -> State | None:
    return await _first_state_cache.one(StateKind.STATE)


async def create_ticket(*, data: NewTicket, actor: User, idempotency_key: str | None = None) -> Ticket:
    """Open a ticket with its contacts; customers only for their own organisation.

    With an idempotency key, a retried create returns the ticket the first call made."""
    retry = idempotency.request(actor, idempotency_key, idempotency.TICKET)
    return await idempotency.once(retry, lambda: _create_ticket(data, actor, retry), _ticket_by_id)


async def _create_ticket(data: NewTicket, actor: User, retry: idempotency.Request | None) -> Ticket:
    contacts.check_contacts(data.contacts.rows() if data.contacts else [])
    if not actor.is_staff:
        _as_customer(data, actor)
    states = await _resolve_classification(data.classification)
    group, _ = await _assignment(data.group_id, data.assignee_id)
    if states.get("state") is None:
        states["state"] = await _default_state()
    rule = None
    if data.assignee_id is None and assignment.rule_applies(group):
        rule = await assignment.pick(data.group_id)  # the cursor moves now, before the ticket is written
        data.assignee_id = rule.agent_id if rule else None
    return await _insert_ticket(data, states, actor, retry, rule)


def _as_customer(data: NewTicket, actor: User) -> None:
    """A customer reports for their own organisation, as themselves, and classifies nothing."""
    if data.organisation_hid != actor.organisation_hid:
        raise Forbidden("Customers open tickets for their own organisation only.")
    if not actor.human_id:
        raise Forbidden("Your account has no user ID to name you as the reporter; ask an agent to add one.")
    contacts.limit_customer_contacts(data.contacts.rows() if data.contacts else [])
    data.reporter_hid = actor.human_id
    data.classification, data.group_id, data.assignee_id = {}, None, None


async def _ticket_by_id(ticket_id: int) -> Ticket:
    return await Ticket.get(id=ticket_id)


async def _insert_ticket(
    data: NewTicket,
    states: dict[str, State | None],
    actor: User,
    retry: idempotency.Request | None,
    rule: assignment.Pick | None = None,
) -> Ticket:
    """Write the ticket with its contacts, history, notification and idempotency key at once;
    with the assignment `rule` that chose its assignee, the history says so."""
    moment = now()
    state = states.get("state")
    ticket = Ticket(
        **{name: getattr(data, name) for name in TEXT_FIELDS},
        group_id=data.group_id,
        assignee_id=data.assignee_id,
        first_assigned_at=moment if data.assignee_id else None,
        resolved_at=moment if state and state.closes else None,
        created_at=moment,
        updated_at=moment,
        **states,
    )
    given = contacts.with_consent(data.contacts.rows() if data.contacts else [], actor)
    told = await notifications.for_new_ticket(
        assignee_id=data.assignee_id, group_id=data.group_id, actor=actor
    )

    def dependents(ticket_id: int) -> list[ticket_writes.Statement]:
        ticket.id = ticket_id
        attributes = [
            {"key": key, "value": value, "type": CONTACT, "enabled": True, "consent": consent,
             "created_at": moment, "updated_at": moment, "ticket_id": ticket_id}
            for key, value, consent in given
        ]  # fmt: skip
        opened = [
            history.change_row(
                ticket_id=ticket_id, actor=actor, field=history.CREATED, new=ticket.human_id, moment=moment
            )
        ]
        if rule:
            opened.append(
                history.change_row(
                    ticket_id=ticket_id,
                    actor=None,
                    field="assignee",
                    new=rule.agent_name,
                    actor_label=rule.actor_label,
                    moment=moment,
                )
            )
        keys = [retry.row(ticket_id) | {"created_at": moment}] if retry else []
        created, invited = contacts.new_ticket_notifications(ticket, given)
        return [
            ticket_writes.Rows.of("ticket_attribute", attributes),
            ticket_writes.Rows.of("ticket_history", opened),
            *_notification_rows(created),
            *_notification_rows(invited),
            ticket_writes.Rows.of("idempotency_key", keys),
            *told.statements(ticket, moment),
            ticket_writes.Rows.of(
                "feed_event", [feed.ticket_row("ticket.created", ticket, actor, moment=moment)], last=True
            ),
        ]

    columns = _ticket_columns(ticket) | await sla.columns_for_new_ticket(
        ticket=ticket, state=state, moment=moment
    )
    ticket_id = await ticket_writes.insert_row("ticket", columns, dependents)
    return Ticket.construct(_saved_in_db=True, **columns, id=ticket_id, **states)


def _ticket_columns(ticket: Ticket) -> dict[str, Any]:
    """The row of a new ticket, as the ORM would insert it."""
    columns = {name: getattr(ticket, name) for name in TEXT_FIELDS}
    columns |= {f"{name}_id": getattr(ticket, f"{name}_id") for name in LINKS}
    dates = ("created_at", "updated_at", "first_assigned_at", "resolved_at", "deleted_at")
    return columns | {name: getattr(ticket, name) for name in dates} | {"version": ticket.version}


def _notification_rows(notification: contacts.Notification | None) -> list[ticket_writes.Statement]:
    """The outbox and event rows of a notification, written with the change that causes it."""
    if notification is None:
        return []
    return [
        ticket_writes.Rows.of("outbox_email", notification.emails),
        ticket_writes.Rows.of("event", [notification.event]),
    ]


# --- Changing ------------------------------------------------------------------------------


@dataclass
class TicketChanges:
    """A partial update: only the fields named in `fields` change (None may clear a link)."""

    values: dict[str, Any]
    contacts: Contacts | None = None
    contact_keys: set[str] = field(default_factory=set)


def _label(value: Any) -> Any:
    if isinstance(value, State):
        return value.description
    if isinstance(value, Group | User):
        return value.name
    return value


async def _resolve_changes(values: dict[str, Any]) -> dict[str, Any]:
    """Turn ids into catalogue entries, groups and agents; raise Invalid for unknown ones."""
    wanted = {k: v for k, v in values.items() if k in CLASSIFICATIONS}
    resolved: dict[str, Any] = dict(await _resolve_classification(wanted))
    group, assignee = await _assignment(values.get("group"), values.get("assignee"))
    resolved |= {k: v for k, v in (("group", group), ("assignee", assignee)) if k in values}
    return resolved | {k: v for k, v in values.items() if k in TEXT_FIELDS}


async def update_ticket(
    *, human_id: str, changes: TicketChanges, actor: User, expected_version: int | None = None
) -> Ticket:
    """Apply a partial update (agents only), recording each changed field in the history.

    A stale `expected_version` (someone else changed the ticket first) is a Conflict."""
    ticket = await load(human_id=human_id, actor=actor, agents_only="change tickets", related=True)
    if expected_version is not None and expected_version != ticket.version:
        raise Conflict(f"{ticket.human_id} was changed by someone else; reload it and try again.")
    new_values = await _resolve_changes(changes.values)
    contacts.check_contacts(changes.contacts.rows() if changes.contacts else [])
    async with in_transaction():
        assignee_before = ticket.assignee_id
        fields = await _apply(ticket, new_values, actor)
        if changes.contacts is not None and await _replace_contacts(
            ticket, changes.contacts, changes.contact_keys, actor
        ):
            fields["contacts"] = None
        if fields:
            await _save_versioned(ticket)
            told = await notifications.for_update(ticket=ticket, assignee_before=assignee_before, actor=actor)
            await told.write(ticket)
            if sla.RELEVANT & fields.keys():
                await sla.recompute(ticket_id=ticket.id, actor=actor)
            # `fields`: what changed, to what, so live pages refresh those panels and say so
            await feed.publish_ticket(
                "ticket.updated", ticket, actor, version=ticket.version, fields=fields, said=_said(fields)
            )
    return ticket


def _said(fields: dict[str, Any]) -> str:
    """What a change did, as a person reads it: "set State to Pending and cleared Assignee"."""
    parts = [_one_said(name, value) for name, value in fields.items()]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def _one_said(name: str, value: Any) -> str:
    if name == "contacts":
        return "changed the contacts"
    return f"set {history.label(name)} to {value}" if value is not None else f"cleared {history.label(name)}"


async def _apply(ticket: Ticket, values: dict[str, Any], actor: User) -> dict[str, Any]:
    """Set the values that differ, each recorded in the history; what changed, as its new label."""
    changed: dict[str, Any] = {}
    for name, new in values.items():
        old = getattr(ticket, name)
        if (old.id if hasattr(old, "id") else old) == (new.id if hasattr(new, "id") else new):
            continue
        setattr(ticket, name, new)
        await history.record_change(ticket=ticket, actor=actor, field=name, old=_label(old), new=_label(new))
        changed[name] = None if new is None else str(_label(new))
    moment = now()
    if "state" in values and ticket.state is not None:
        ticket.resolved_at = (ticket.resolved_at or moment) if ticket.state.closes else None
    if ticket.assignee_id and ticket.first_assigned_at is None:
        ticket.first_assigned_at = moment
    return changed


async def _save_versioned(ticket: Ticket) -> None:
    """Write the ticket only if nobody else wrote it since we read it."""
    fields = {name: getattr(ticket, name) for name in TEXT_FIELDS}
    fields |= {f"{name}_id": getattr(ticket, f"{name}_id") for name in LINKS}
    fields |= {"resolved_at": ticket.resolved_at, "first_assigned_at": ticket.first_assigned_at}
    updated = await Ticket.filter(id=ticket.id, version=ticket.version).update(
        **fields, version=F("version") + 1, updated_at=now()
    )
    if not updated:
        raise Conflict(f"{ticket.human_id} was changed by someone else; reload it and try again.")
    ticket.version += 1


async def _replace_contacts(ticket: Ticket, contacts: Contacts, keys: set[str], actor: User) -> bool:
    """Set the named contact keys to the given values (additional emails as a whole list)."""
    changed = False
    for key in (key for key in SINGLE_KEYS if key.field in keys):
        value = getattr(contacts, key.field)
        row = await TicketAttribute.filter(ticket=ticket, type=CONTACT, key=key).first()
        if (row.value if row else None) == value:
            continue
        if row and value:  # an agent's value is trusted
            await TicketAttribute.filter(id=row.id).update(value=value, consent=TRUSTED, updated_at=now())
        elif row:
            await row.delete()
        else:
            await TicketAttribute.create(ticket=ticket, key=key, value=value, type=CONTACT)
        if key == ContactKey.MAIN_EMAIL:
            await queue_main_email_changed(ticket, row, value)
        await history.record_change(
            ticket=ticket,
            actor=actor,
            field=history.contact_field(key),
            old=row.value if row else None,
            new=value,
        )
        changed = True
    if "additional_emails" in keys:
        changed |= await _replace_additional(ticket, contacts.additional_emails, actor)
    return changed


async def _replace_additional(ticket: Ticket, emails: list[str], actor: User) -> bool:
    """Make the additional emails `emails`: rows that stay keep their id and enabled flag."""
    rows = await TicketAttribute.filter(
        ticket=ticket, type=CONTACT, key=ContactKey.ADDITIONAL_EMAIL
    ).order_by("id")
    old = [row.value for row in rows]
    if old == emails:
        return False
    wanted = set(emails)
    await TicketAttribute.filter(id__in=[row.id for row in rows if row.value not in wanted]).delete()
    await TicketAttribute.bulk_create(
        TicketAttribute(ticket=ticket, key=ContactKey.ADDITIONAL_EMAIL, value=email, type=CONTACT)
        for email in dict.fromkeys(emails)
        if email not in old
    )
    await history.record_change(
        ticket=ticket, actor=actor, field=history.ADDITIONAL_EMAILS, old=", ".join(old), new=", ".join(emails)
    )
    return True


async def delete_ticket(*, human_id: str, actor: User) -> None:
    """Soft-delete: the ticket leaves every list and reads as missing, its rows stay for audit."""
    ticket = await load(human_id=human_id, actor=actor, agents_only="delete tickets")
    async with in_transaction():
        await Ticket.filter(id=ticket.id).update(deleted_at=now(), version=F("version") + 1)
        await history.record_change(ticket=ticket, actor=actor, field=history.DELETED, new=ticket.human_id)
        await feed.publish_ticket("ticket.deleted", ticket, actor)


# --- Comments and attributes ---------------------------------------------------------------


async def post_comment(
    *, human_id: str, body: str, actor: User, internal: bool = False, on_behalf_of: str | None = None,
    idempotency_key: str | None = None, channel: str = "web", attachment_ids: list[int] | None = None,
    seen_through: int | None = None, send_anyway: bool = False,
) -> Comment:  # fmt: skip
    """Add a public reply or (agents only) an internal note; agents may post for another user.
    `channel` says where it came from (web or api; email comes through services/mail_routing.py).
    `attachment_ids`: the actor's files uploaded to the ticket and on no comment yet, which it carries.

    `seen_through`: the newest comment id of the thread the reply was written against; when others
    replied since, NewReplies (with their replies) unless `send_anyway`. Posting clears the
    author's draft (services/presence.py). With an idempotency key, a retried post returns the
    comment the first call made."""
    ticket = await load(human_id=human_id, actor=actor)
    if not body.strip():
        raise Invalid("The comment is empty.", {"description": ["must not be empty"]})
    if internal and not actor.is_staff:
        raise Forbidden("Only agents write internal notes.")
    if seen_through is not None and not send_anyway:
        await _refuse_stale_reply(ticket, actor, seen_through)
    author, author_hid = actor, actor.human_id or ""
    if actor.is_staff and on_behalf_of and on_behalf_of != actor.human_id:
        author, author_hid = await User.get_or_none(human_id=on_behalf_of), on_behalf_of
    moment = now()
    comment = Comment(
        ticket=ticket, author=author, author_hid=author_hid, body=body, internal=internal,
        created_at=moment, updated_at=moment, channel=channel,
    )  # fmt: skip
    retry = idempotency.request(actor, idempotency_key, idempotency.COMMENT, ticket.id)

    async def insert() -> Comment:  # a retry answers with the first comment: its files are on it by then
        files = await attachments.attachable(ticket_id=ticket.id, ids=attachment_ids or [], actor=actor)
        return await _insert_comment(comment, actor, retry, files)

    return await idempotency.once(retry, insert, _comment_by_id)


async def _refuse_stale_reply(ticket: Ticket, actor: User, seen_through: int) -> None:
    """NewReplies when others commented after `seen_through` (the optimistic check of the thread)."""
    replies = await timeline.replies_since(ticket=ticket, actor=actor, after=seen_through)
    if replies:
        count = f"{len(replies)} new replies" if len(replies) > 1 else "a new reply"
        raise NewReplies(f"{ticket.human_id} has {count} since you started writing.", replies)


async def _insert_comment(
    comment: Comment, actor: User, retry: idempotency.Request | None, files: list[Attachment] | None = None
) -> Comment:
    """Write the comment with the ticket's new time, its notification, idempotency key and the files
    it carries at once."""
    ticket, moment, files = comment.ticket, comment.created_at, files or []
    notification = None
    if actor.is_staff and not comment.internal:
        addresses = await contacts.email_contacts(ticket)
        notification = contacts.public_reply(ticket, comment, addresses, attachments=files)
    told = await notifications.for_comment(
        ticket=ticket, body=comment.body, internal=comment.internal, actor=actor
    )
    clocks = await sla.columns_after_comment(
        ticket=ticket, moment=moment, internal=comment.internal,
        by_agent=comment.author is not None and comment.author.is_staff,
        reopened_to=told.reopen[1] if told.reopen else None,
    )  # fmt: skip
    row = {
        "author_hid": comment.author_hid, "body": comment.body, "internal": comment.internal,
        "channel": comment.channel, "created_at": moment, "updated_at": moment,
        "author_id": comment.author_id, "ticket_id": ticket.id,
    }  # fmt: skip

    def dependents(comment_id: int) -> list[ticket_writes.Statement]:
        keys = [retry.row(comment_id) | {"created_at": moment}] if retry else []
        touch = ticket_writes.Update(
            "ticket", ticket.id, {"updated_at": moment} | told.ticket_values(ticket) | clocks
        )
        new = {"comment": comment_id, "internal": comment.internal}
        published = feed.ticket_row("comment.created", ticket, actor, moment=moment, **new)
        carried = [ticket_writes.Update("attachment", file.id, {"comment_id": comment_id}) for file in files]
        if notification and files:
            for email in notification.emails:
                email["comment_id"] = comment_id  # the outbox attaches the comment's files
        # Posted: the author's reply is no longer a draft (services/presence.py), in the same write
        drafted = ticket_writes.Delete("reply_draft", {"ticket_id": ticket.id, "user_id": actor.id})
        return [
            touch, *carried, *_notification_rows(notification), drafted,
            ticket_writes.Rows.of("idempotency_key", keys),
            *told.statements(ticket, moment), ticket_writes.Rows.of("feed_event", [published], last=True),
        ]  # fmt: skip

    comment_id = await ticket_writes.insert_row("comment", row, dependents)
    return Comment.construct(_saved_in_db=True, **row, id=comment_id, ticket=ticket, author=comment.author)


async def _comment_by_id(comment_id: int) -> Comment:
    return await Comment.get(id=comment_id)


async def list_attributes(*, human_id: str, actor: User) -> list[TicketAttribute]:
    """The ticket's attribute rows (contacts among them), oldest first."""
    ticket = await load(human_id=human_id, actor=actor)
    return await TicketAttribute.filter(ticket=ticket).order_by("id")
