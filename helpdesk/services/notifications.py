"""Agents' notifications: who is told what when a ticket changes, in the app and by email, and a
customer's reply reopening a ticket that waited on them.

The ticket, comment and contacts services ask this module once per change, at the end of their
transaction: `for_*` works out a `Plan` (reads only), and the plan's rows are written with the
change (`statements` in a one-trip write, `write` in an ORM transaction), so a notification, its
email (services/outbox.py) and its feed event commit or fail with the change. Never for the
actor's own change; customers are never told (they have their own emails, services/contacts.py).

Each notification is one `notification` row; the agent's open pages learn of it from a
`notification.created` feed event that only its recipients' streams carry.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F, Q

from helpdesk.errors import Forbidden, NotFound
from helpdesk.models import (
    GroupMember,
    Notification,
    NotificationSetting,
    OutboxEmail,
    State,
    StateKind,
    Ticket,
    User,
    ids_in_range,
)
from helpdesk.models.tickets import TICKET_PREFIX
from helpdesk.services import cache, feed, history, ticket_writes
from helpdesk.services.outbox import email_columns, render_email

ASSIGNED, REPLIED, CONFIRMED, NEW_IN_GROUP, MENTIONED = (
    "assigned", "replied", "confirmed", "new_in_group", "mentioned",
)  # fmt: skip
SLA_WARNING, SLA_BREACH = "sla_warning", "sla_breach"  # services/sla.py's timer
# What the menu and the email say after the actor's name.
SENTENCES = {
    ASSIGNED: "assigned {ticket} to you",
    REPLIED: "replied on {ticket}",
    CONFIRMED: "confirmed the contact details of {ticket}",
    NEW_IN_GROUP: "opened {ticket} in your group",
    MENTIONED: "mentioned you in a note on {ticket}",
    SLA_WARNING: "warn that {ticket} is nearly due",
    SLA_BREACH: "report that {ticket} is overdue",
}
SUBJECTS = {
    ASSIGNED: "assigned to you",
    REPLIED: "the customer replied",
    CONFIRMED: "contacts confirmed",
    NEW_IN_GROUP: "new ticket in your group",
    MENTIONED: "you were mentioned",
    SLA_WARNING: "service level nearly due",
    SLA_BREACH: "service level breached",
}
# The email switches on the Account page, each covering one or more kinds.
SWITCHES = {ASSIGNED: ASSIGNED, REPLIED: "customer", CONFIRMED: "customer", NEW_IN_GROUP: NEW_IN_GROUP,
            MENTIONED: MENTIONED, SLA_WARNING: "sla", SLA_BREACH: "sla"}  # fmt: skip
SWITCH_LABELS = {
    ASSIGNED: "A ticket is assigned to me",
    "customer": "A customer replies or confirms their contacts on a ticket assigned to me",
    NEW_IN_GROUP: "A new ticket arrives unassigned in a group I belong to",
    MENTIONED: "Someone mentions me (@name) in an internal note",
    "sla": "A ticket assigned to me (or unassigned in my group) nears or passes its service level due time",
}
# `@` then an agent's email local part or name without spaces: "@tom.baker", "@TomBaker".
MENTION = re.compile(r"(?<![\w@.+-])@([\w][\w.+-]*[\w]|[\w])")
MENU_SIZE = 20

settings: dict[str, Any] = {"reopen_state": "Open", "reopen_from": ("Pending", "Resolved"), "base_url": ""}


def configure(config: Mapping[str, Any]) -> None:
    """Take the reopening states and the link's base from the app's configuration."""
    settings.update(
        reopen_state=str(config.get("REOPEN_STATE", "Open")),
        reopen_from=_names(config.get("REOPEN_FROM", ("Pending", "Resolved"))),
        base_url=str(config.get("BASE_URL", "")).rstrip("/"),
    )


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    """State names from a list (config.toml) or a comma-separated string (HELPDESK_REOPEN_FROM)."""
    names = value.split(",") if isinstance(value, str) else value
    return tuple(name.strip() for name in names if name.strip())


@dataclass
class Plan:
    """Who is told what about one change to a ticket, and the state a customer's reply reopens it to."""

    actor: User | None = None
    actor_label: str = ""
    told: list[tuple[User, str]] = field(default_factory=list)  # (recipient, kind)
    emailed: set[int] = field(default_factory=set)  # recipients who want this kind by email
    detail: str = ""  # the note or reply, quoted in the email
    reopen: tuple[State, State] | None = None  # (from, to)

    def ticket_values(self, ticket: Ticket) -> dict[str, Any]:
        """The ticket's columns a reopening changes (for the caller's one update of the ticket)."""
        if self.reopen is None:
            return {}
        return {"state_id": self.reopen[1].id, "resolved_at": None, "version": ticket.version + 1}

    def rows(self, ticket: Any, moment: datetime) -> dict[str, list[dict[str, Any]]]:
        """The rows the plan writes, by table (feed rows last, in order)."""
        notifications = [
            {"user_id": user.id, "ticket_id": ticket.id, "kind": kind, "actor_label": self.actor_label,
             "created_at": moment, "read_at": None}
            for user, kind in self.told
        ]  # fmt: skip
        emails = [
            self._email(ticket, user, kind, moment) for user, kind in self.told if user.id in self.emailed
        ]
        changes, feed_rows = [], []
        if self.reopen:
            old, new = self.reopen
            changes.append(history.change_row(
                ticket_id=ticket.id, actor=self.actor, actor_label=self.actor_label, field="state",
                old=old.description, new=new.description, moment=moment,
            ))  # fmt: skip
            feed_rows.append(feed.row(
                "ticket.updated", ticket_id=ticket.id, organisation_hid=ticket.organisation_hid,
                actor=self.actor, moment=moment,
                data={"reopened": new.description, "version": ticket.version + 1},
            ))  # fmt: skip
        if self.told:
            users = sorted({user.id for user, _ in self.told})
            feed_rows.append(feed.row(
                "notification.created", ticket_id=ticket.id, organisation_hid=ticket.organisation_hid,
                actor=self.actor, moment=moment, data={"users": users},
            ))  # fmt: skip
        return {"notification": notifications, "outbox_email": emails, "ticket_history": changes,
                "feed_event": feed_rows}  # fmt: skip

    def statements(self, ticket: Any, moment: datetime) -> list[ticket_writes.Statement]:
        """The plan's rows for a one-trip write (services/ticket_writes.py), to go just before the
        change's own feed row (the ticket's update is the caller's: see `ticket_values`)."""
        tables = self.rows(ticket, moment)
        feed_rows = tables.pop("feed_event")
        written = [ticket_writes.Rows.of(table, rows) for table, rows in tables.items()]
        return written + [ticket_writes.Rows.of("feed_event", [row], last=True) for row in feed_rows]

    async def write(self, ticket: Ticket) -> None:
        """Write the plan inside the caller's ORM transaction, before the change's own feed row."""
        tables = self.rows(ticket, datetime.now(UTC))
        if self.reopen:
            new = self.reopen[1]
            await Ticket.filter(id=ticket.id).update(
                state_id=new.id, resolved_at=None, version=F("version") + 1, updated_at=datetime.now(UTC)
            )
        await Notification.bulk_create([Notification(**row) for row in tables["notification"]])
        await OutboxEmail.bulk_create([OutboxEmail(**row) for row in tables["outbox_email"]])
        for row in tables["ticket_history"]:
            await history.record_change(
                ticket=ticket, actor=self.actor, field=row["field"], old=row["old_value"],
                new=row["new_value"], actor_label=self.actor_label,
            )  # fmt: skip
        for row in tables["feed_event"]:
            await feed.save(row)

    def _email(self, ticket: Any, user: User, kind: str, moment: datetime) -> dict[str, Any]:
        human_id = f"{TICKET_PREFIX}{ticket.id}"
        text, html = render_email(
            "agent_notification", ticket=ticket, human_id=human_id, actor=self.actor_label or "Someone",
            sentence=SENTENCES[kind].format(ticket=human_id), detail=self.detail,
            link=f"{settings['base_url']}/tickets/{human_id}", account=f"{settings['base_url']}/account",
        )  # fmt: skip
        subject = f"[{human_id}] {ticket.title or 'Ticket'}: {SUBJECTS[kind]}"
        return email_columns(
            recipient=user.email, subject=subject, body_text=text, body_html=html, ticket_id=ticket.id,
            moment=moment,
        )  # fmt: skip


# --- Who is told --------------------------------------------------------------------------


async def _plan(actor: User | None, wanted: Mapping[int, str], *, label: str = "", detail: str = "") -> Plan:
    """A plan telling each active agent in `wanted` (user id -> kind) but the actor."""
    ids = {user_id for user_id in wanted if user_id and (actor is None or user_id != actor.id)}
    users = await cache.users.many(ids) if ids else {}
    told = [(user, wanted[user.id]) for user in users.values() if user.active and user.is_staff]
    told.sort(key=lambda pair: pair[0].id)
    plan = Plan(actor, label or (actor.name if actor else ""), told, detail=detail)
    plan.emailed = await _wanting_email(told)
    return plan


async def _wanting_email(told: list[tuple[User, str]]) -> set[int]:
    """The recipients whose switch for their kind is on (no setting row: on)."""
    if not told:
        return set()
    off = set(
        await NotificationSetting.filter(user_id__in=[user.id for user, _ in told], email=False).values_list(
            "user_id", "kind"
        )
    )
    return {user.id for user, kind in told if (user.id, SWITCHES[kind]) not in off}


async def for_new_ticket(*, assignee_id: int | None, group_id: int | None, actor: User) -> Plan:
    """A new ticket: its assignee is told; unassigned, the agents of its group are."""
    if assignee_id:
        return await _plan(actor, {assignee_id: ASSIGNED})
    if group_id:
        members = await GroupMember.filter(group_id=group_id).values_list("user_id", flat=True)
        return await _plan(actor, dict.fromkeys(members, NEW_IN_GROUP))
    return Plan()


async def for_update(*, ticket: Ticket, assignee_before: int | None, actor: User) -> Plan:
    """A changed ticket: a new assignee is told."""
    if ticket.assignee_id and ticket.assignee_id != assignee_before:
        return await _plan(actor, {ticket.assignee_id: ASSIGNED})
    return Plan()


async def for_service_level(*, ticket: Any, kind: str, detail: str) -> Plan:
    """A warning or breach of the ticket's service level (`kind` "warning" or "breach"): its
    assignee is told; unassigned, the agents of its group are."""
    told = SLA_WARNING if kind == "warning" else SLA_BREACH
    if ticket.assignee_id:
        return await _plan(None, {ticket.assignee_id: told}, label="Service levels", detail=detail)
    if ticket.group_id:
        members = await GroupMember.filter(group_id=ticket.group_id).values_list("user_id", flat=True)
        return await _plan(None, dict.fromkeys(members, told), label="Service levels", detail=detail)
    return Plan(actor_label="Service levels")


async def for_comment(*, ticket: Ticket, body: str, internal: bool, actor: User) -> Plan:
    """A comment: a customer's reply tells the assignee (and may reopen the ticket); an internal
    note tells the agents it mentions."""
    if not actor.is_staff:
        return await for_customer_reply(ticket=ticket, actor=actor, body=body)
    if internal and "@" in body:
        return await _plan(actor, dict.fromkeys(await mentioned(body), MENTIONED), detail=body)
    return Plan()


async def for_customer_reply(*, ticket: Ticket, actor: User | None, body: str = "", label: str = "") -> Plan:
    """A customer's reply (on the web, the API or by email; `actor` None and `label` their address
    when no user sent it): the assignee is told, and a ticket waiting in one of REOPEN_FROM moves
    to REOPEN_STATE."""
    wanted = {ticket.assignee_id: REPLIED} if ticket.assignee_id else {}
    plan = await _plan(actor, wanted, label=label, detail=body)
    plan.reopen = await _reopening(ticket)
    return plan


async def customer_replied(*, ticket: Ticket, actor: User | None, body: str = "", label: str = "") -> None:
    """For a reply written outside `tickets.post_comment` (email intake): tell the assignee and
    reopen the ticket, inside the reply's transaction and before its feed row."""
    await (await for_customer_reply(ticket=ticket, actor=actor, body=body, label=label)).write(ticket)


async def after_contacts_confirmed(*, ticket: Ticket, label: str) -> None:
    """A contact confirmed their details from their link: the assignee is told (inside the
    confirmation's transaction)."""
    if ticket.assignee_id:
        await (await _plan(None, {ticket.assignee_id: CONFIRMED}, label=label)).write(ticket)


async def _reopening(ticket: Ticket) -> tuple[State, State] | None:
    """(current state, REOPEN_STATE) when the ticket waits in one of REOPEN_FROM; else None."""
    target = settings["reopen_state"]
    current = await cache.states.one(ticket.state_id) if ticket.state_id else None
    if not target or current is None or current.description not in settings["reopen_from"]:
        return None
    new = await State.get_or_none(kind=StateKind.STATE, description=target)
    return (current, new) if new is not None and new.id != current.id else None


async def mentioned(body: str) -> set[int]:
    """The active agents an `@name` in the text names: by their email's local part or their name
    written without spaces, in any case."""
    names = {name.lower() for name in MENTION.findall(body)}
    if not names:
        return set()
    agents = await User.filter(Q(agent=True) | Q(admin=True), active=True).values_list("id", "email", "name")
    return {pk for pk, email, name in agents if _handles(email, name) & names}


def _handles(email: str, name: str) -> set[str]:
    return {email.split("@", 1)[0].lower(), "".join(name.split()).lower()}


# --- Reading and marking read ---------------------------------------------------------------


@dataclass
class Entry:
    """One line of the notifications menu."""

    id: int
    kind: str
    actor_label: str
    human_id: str
    title: str
    created_at: datetime
    read: bool

    @property
    def sentence(self) -> str:
        return SENTENCES.get(self.kind, "changed {ticket}").format(ticket=self.human_id)


def _own(actor: User) -> None:
    if not actor.is_staff:
        raise Forbidden("Notifications are for agents.")


async def unread_count(*, actor: User) -> int:
    """How many of the actor's notifications are unread (0 for customers: they get none)."""
    if not actor.is_staff:
        return 0
    return await Notification.filter(user_id=actor.id, read_at__isnull=True).count()


async def latest(*, actor: User, limit: int = MENU_SIZE) -> list[Entry]:
    """The actor's newest notifications about tickets that still exist, newest first."""
    _own(actor)
    rows = (
        await Notification.filter(user_id=actor.id, ticket__deleted_at__isnull=True)
        .order_by("-id")
        .limit(limit)
        .values_list("id", "kind", "actor_label", "ticket_id", "ticket__title", "created_at", "read_at")
    )
    return [
        Entry(pk, kind, label, f"{TICKET_PREFIX}{ticket_id}", title or "", created, read is not None)
        for pk, kind, label, ticket_id, title, created, read in rows
    ]


async def mark_read(*, actor: User, notification_id: int) -> None:
    """Mark one of the actor's own notifications read; anyone else's is missing."""
    _own(actor)
    mine = Notification.filter(id=notification_id, user_id=actor.id)
    if not ids_in_range(notification_id) or not await mine.update(read_at=datetime.now(UTC)):
        raise NotFound("No such notification.")


async def mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; how many there were."""
    _own(actor)
    return await Notification.filter(user_id=actor.id, read_at__isnull=True).update(read_at=datetime.now(UTC))


async def email_switches(*, actor: User) -> dict[str, bool]:
    """Which kinds the actor gets by email (every switch on unless they turned it off)."""
    _own(actor)
    off = set(await NotificationSetting.filter(user_id=actor.id, email=False).values_list("kind", flat=True))
    return {switch: switch not in off for switch in SWITCH_LABELS}


async def set_email_switches(*, actor: User, enabled: Iterable[str]) -> None:
    """Turn the named switches on and every other off, for the actor alone."""
    _own(actor)
    wanted = set(enabled)
    for switch in SWITCH_LABELS:
        await NotificationSetting.update_or_create(
            defaults={"email": switch in wanted}, user_id=actor.id, kind=switch
        )
