"""A believable demo helpdesk: partners and their customers, agents, and tickets with threads."""

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from tortoise import Tortoise
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from helpdesk.db import dialect
from helpdesk.models import (
    Group,
    GroupMember,
    Organisation,
    SlaCalendar,
    SlaHoliday,
    SlaPolicy,
    State,
    StateKind,
    Ticket,
    User,
)
from helpdesk.models.tickets import CONTACT
from helpdesk.services import sla
from helpdesk.services.bulk import bulk_insert, reset_sequence
from helpdesk.services.passwords import hash_password
from helpdesk.services.reference import load_reference_data
from helpdesk.services.values import ContactKey

PARTNERS = [
    ("ORG-1001", "Northwind Telecom Ltd", "Northwind"),
    ("ORG-1002", "Bluebell Networks plc", "Bluebell"),
]
CUSTOMERS = [
    ("ORG-2001", "Acme Widgets Ltd", "Acme", "ORG-1001"),
    ("ORG-2002", "Harbour Dental Group", "Harbour Dental", "ORG-1001"),
    ("ORG-2003", "Kestrel Logistics Ltd", "Kestrel", "ORG-1001"),
    ("ORG-2004", "Oakfield Primary School", "Oakfield School", "ORG-1002"),
    ("ORG-2005", "Riverside Veterinary Practice", "Riverside Vets", "ORG-1002"),
    ("ORG-2006", "Sable & Finch Solicitors", "Sable & Finch", "ORG-1002"),
    ("ORG-2007", "Direct Print Co", "Direct Print", None),
]
GROUPS = ["Network", "Voice", "Billing"]
AGENTS = [
    ("Priya Shah", "priya"),
    ("Tom Okafor", "tom"),
    ("Mei Lin", "mei"),
    ("Jonas Berg", "jonas"),
    ("Sara Costa", "sara"),
]
DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed by make run for the demo logins
ISSUES = [
    ("No dial tone on {n} handsets", "Since this morning {n} desk phones show 'No service'."),
    ("Internet down at {site}", "The router at {site} has a red WAN light and nothing loads."),
    ("Calls dropping after {n} minutes", "Outbound calls cut off after about {n} minutes."),
    ("Invoice {n} looks wrong", "We were charged twice for line rental on invoice {n}."),
    ("New starter needs an extension", "Please set up extension {n} for our new receptionist."),
    ("Voicemail not emailing", "Voicemails stopped arriving by email for the {site} team."),
    ("Slow Wi-Fi in {site}", "Wi-Fi in {site} is very slow since the weekend upgrade."),
    ("Port number {n} to us", "We would like to port our number ending {n} to you."),
]
SITES = ["head office", "the warehouse", "reception", "the Leeds branch", "meeting room 2"]
AGENT_REPLIES = [
    "Thanks for reporting this, we are looking into it now.",
    "Could you tell us whether this affects every handset or only some?",
    "We have restarted the service on our side, please try again.",
    "An engineer is booked for tomorrow morning.",
]
CUSTOMER_REPLIES = [
    "It is working again here, thank you!",
    "Still happening on my side, I'm afraid.",
    "It affects the whole office.",
    "Any news on this? The team is waiting.",
]
# Service levels: a UK office calendar (a few bank holidays) and round the clock; P1 tickets on 24x7,
# everything else on office hours. Office "3 days" of resolution is three 8.5-hour business days.
CALENDARS = [
    ("UK office", "Europe/London", "Mon-Fri 09:00-17:30"),
    ("24x7", "UTC", "Mon-Sun 00:00-24:00"),
]
HOLIDAYS = [
    ("2026-12-25", "Christmas Day"), ("2026-12-28", "Boxing Day (substitute)"),
    ("2027-01-01", "New Year's Day"),
    ("2027-03-26", "Good Friday"), ("2027-03-29", "Easter Monday"), ("2027-05-03", "Early May bank holiday"),
]  # fmt: skip
POLICIES = [  # (name, calendar, priority, first response, next response, resolution) in minutes
    ("P1 critical", "24x7", "P1 - Priority 1", 30, 60, 240),
    ("Standard", "UK office", None, 240, 480, 3 * 510),
]
# The newest few tickets are made to show every clock at once, whenever the demo is seeded: open P1
# tickets this many minutes old with no reply yet (30 min first response on 24x7, warning at 24 min),
# so some run, some warn and some are breached; `None` is one waiting on the customer (paused).
SHOWCASE = (5, 12, 20, 26, 28, 35, 50, 95, 180, None)
NOTES = [
    "Carrier fault ref CF-{n} raised.",
    "Customer is on the legacy tariff, check billing.",
    "Looks like the same fault as last month.",
]


async def seed_demo(*, tickets: int, skip_if_present: bool = False, seed: int = 7) -> str:
    """Create the demo directory, people and `tickets` tickets; returns a summary line."""
    if skip_if_present and await Ticket.exists():
        return "demo data already present"
    await load_reference_data()
    rng = random.Random(seed)
    async with in_transaction():
        agents, customers = await _people()
        groups = await _groups(agents)
        states = await _catalogue()
        first_id = ((await Ticket.annotate(m=Max("id")).first().values_list("m", flat=True)) or 0) + 1
        await _service_levels(states)
        rows = _TicketRows(rng, first_id, tickets, agents, customers, groups, states)
        await rows.write()
    sla.policies_changed()
    clocked = await _clocks(first_id)
    return (
        f"{tickets} demo tickets ({clocked} open ones on service level clocks); "
        f"sign in as admin@example.com / {DEMO_PASSWORD}"
    )


async def _service_levels(states: dict[StateKind, list[State]]) -> None:
    """The demo's calendars, holidays and policies; Pending pauses the clocks."""
    calendars = {}
    for name, zone, hours in CALENDARS:
        calendars[name], _ = await SlaCalendar.get_or_create(
            name=name, defaults={"time_zone": zone, "hours": hours}
        )
    for day, name in HOLIDAYS:
        await SlaHoliday.get_or_create(
            calendar=calendars["UK office"], day=date.fromisoformat(day), defaults={"name": name}
        )
    priorities = {state.description: state for state in states[StateKind.PRIORITY]}
    for position, (name, calendar, priority, first, following, resolution) in enumerate(POLICIES):
        await SlaPolicy.get_or_create(name=name, defaults={
            "position": position, "calendar": calendars[calendar],
            "priority": priorities.get(priority or ""),
            "first_response_minutes": first, "next_response_minutes": following,
            "resolution_minutes": resolution,
        })  # fmt: skip
    await State.filter(kind=StateKind.STATE, description="Pending").update(pauses_sla=True)


async def _clocks(first_id: int, limit: int = 2000) -> int:
    """Work out the clocks of the newest open demo tickets (as each create would have)."""
    open_ids = Ticket.filter(id__gte=first_id, resolved_at=None, deleted_at=None).order_by("-id")
    ids = await open_ids.limit(limit).values_list("id", flat=True)
    async with in_transaction():
        for ticket_id in ids:
            await sla.recompute(ticket_id=ticket_id, actor_label=sla.TIMER_LABEL)
    return len(ids)


async def _people() -> tuple[list[User], dict[str, User]]:
    """The directory, the admin and agents (who work tickets) and one customer user per organisation."""
    for human_id, legal, name in PARTNERS:
        await Organisation.get_or_create(
            human_id=human_id, defaults={"legal_name": legal, "name": name, "role": "partner"}
        )
    for human_id, legal, name, parent_hid in CUSTOMERS:
        parent = await Organisation.get_or_none(human_id=parent_hid) if parent_hid else None
        await Organisation.get_or_create(
            human_id=human_id,
            defaults={"legal_name": legal, "name": name, "role": "customer", "parent": parent}
            | {"default_contract_hid": f"CON-{human_id.removeprefix('ORG-')}", "default_tenant_hid": "1"},
        )
    password = hash_password(DEMO_PASSWORD)
    admin, _ = await User.get_or_create(
        email="admin@example.com",
        defaults={
            "name": "Alex Admin",
            "admin": True,
            "agent": True,
            "password_hash": password,
            "human_id": "USR-1",
        },
    )
    agents = [admin]
    for index, (name, login) in enumerate(AGENTS, start=2):
        agent, _ = await User.get_or_create(
            email=f"{login}@example.com",
            defaults={"name": name, "agent": True, "password_hash": password, "human_id": f"USR-{index}"},
        )
        agents.append(agent)
    customers = {}
    for index, (org_hid, _, name, _) in enumerate(CUSTOMERS, start=100):
        slug = name.split()[0].lower().replace("&", "and")
        customers[org_hid], _ = await User.get_or_create(
            email=f"{slug}@customer.example",
            defaults={
                "name": f"{name} contact",
                "password_hash": password,
                "human_id": f"USR-{index}",
                "organisation_hid": org_hid,
                "phone": "+44 113 496 0" + str(index),
            },
        )
    return agents, customers


async def _groups(agents: list[User]) -> list[Group]:
    groups = [(await Group.get_or_create(name=name))[0] for name in GROUPS]
    for index, agent in enumerate(agents):
        await GroupMember.get_or_create(group=groups[index % len(groups)], user=agent)
    return groups


async def _catalogue() -> dict[StateKind, list[State]]:
    catalogue: dict[StateKind, list[State]] = {kind: [] for kind in StateKind}
    for state in await State.all():
        catalogue[state.kind].append(state)
    return catalogue


class _TicketRows:
    """Generates ticket rows and their comments, contacts and history, then writes them."""

    def __init__(
        self,
        rng: random.Random,
        first_id: int,
        count: int,
        agents: list[User],
        customers: dict[str, User],
        groups: list[Group],
        states: dict[StateKind, list[State]],
    ) -> None:
        self.rng, self.first_id, self.count = rng, first_id, count
        self.agents, self.customers, self.groups, self.states = agents, customers, groups, states
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.comments: list[tuple] = []
        self.attributes: list[tuple] = []
        self.history: list[tuple] = []

    async def write(self, chunk: int = 20000) -> None:
        """Write in chunks so memory stays flat however many tickets are asked for."""
        tickets = self._tickets()
        write_chunk = _write_tickets_postgres if dialect() == "postgres" else _write_tickets_sqlite
        while batch := [row for _, row in zip(range(chunk), tickets, strict=False)]:
            await write_chunk(batch, self.comments)
            self.comments.clear()
            for table, columns, rows in (
                ("ticket_attribute", ATTRIBUTE_COLUMNS, self.attributes),
                ("ticket_history", HISTORY_COLUMNS, self.history),
            ):
                await bulk_insert(table, columns, rows)
                rows.clear()
        await reset_sequence("ticket")

    def _tickets(self) -> Iterator[tuple]:
        span = timedelta(days=180).total_seconds()
        showcase = SHOWCASE[-self.count :] if self.count >= 2 * len(SHOWCASE) else ()
        for offset in range(self.count - len(showcase)):
            # Older tickets first, so ids grow with creation time as they do in real life.
            created = self.now - timedelta(seconds=span * (1 - offset / max(self.count, 1)))
            yield self._ticket(self.first_id + offset, created)
        for n, minutes in enumerate(showcase, start=self.count - len(showcase)):
            yield self._showcase(self.first_id + n, minutes)

    def _showcase(self, ticket_id: int, minutes: int | None) -> tuple:
        """An open P1 ticket `minutes` old with no reply (None: waiting on the customer for a day)."""
        created = self.now - timedelta(minutes=minutes if minutes is not None else 24 * 60)
        row = list(self._ticket(ticket_id, created, thread=False))
        by_name = {s.description: s for s in self.states[StateKind.STATE] + self.states[StateKind.PRIORITY]}
        for column, name in (
            ("state_id", "Open" if minutes is not None else "Pending"),
            ("priority_id", "P1 - Priority 1"),
        ):
            if name in by_name:
                row[TICKET_COLUMNS.index(column)] = by_name[name].id
        row[TICKET_COLUMNS.index("resolved_at")] = None
        return tuple(row)

    def _ticket(self, ticket_id: int, created: datetime, *, thread: bool = True) -> tuple:
        rng = self.rng
        org_hid, _, org_name, _ = rng.choice(CUSTOMERS)
        title, body = rng.choice(ISSUES)
        words = {"n": rng.randint(2, 9999), "site": rng.choice(SITES)}
        age = (self.now - created).total_seconds()
        state = self._state_for(age)
        assignee = rng.choice(self.agents) if rng.random() < 0.8 else None
        assigned_at = created + timedelta(minutes=rng.randint(2, 240)) if assignee else None
        resolved_at = (created + timedelta(hours=rng.randint(1, 120))) if state.closes else None
        if resolved_at and resolved_at > self.now:
            resolved_at = self.now
        updated = resolved_at or assigned_at or created
        reporter = self.customers[org_hid]
        if thread:
            self._thread(ticket_id, created, reporter, assignee)
        self._contacts(ticket_id, created, org_name)
        if assignee:
            self.history.append(
                (ticket_id, assignee.id, assignee.name, "assignee", None, assignee.name, assigned_at)
            )
        return (
            ticket_id,
            org_hid,
            f"CON-{rng.randint(100000, 999999)}",
            str(rng.randint(1, 400)),
            reporter.human_id,
            title.format(**words),
            body.format(**words),
            state.id,
            self._pick(StateKind.TYPE).id,
            self._pick(StateKind.PRIORITY).id,
            self._pick(StateKind.STAGE).id,
            self._pick(StateKind.OUTCOME).id,
            rng.choice(self.groups).id,
            assignee.id if assignee else None,
            created,
            updated,
            assigned_at,
            resolved_at,
            None,
            1,
        )

    def _state_for(self, age_seconds: float) -> State:
        by_name = {s.description: s for s in self.states[StateKind.STATE]}
        weights = [("New", 1), ("Open", 2), ("Pending", 1), ("Resolved", 3), ("Closed", 3)]
        if age_seconds > 14 * 86400:
            weights = [("Open", 1), ("Pending", 1), ("Resolved", 4), ("Closed", 12)]
        names = [name for name, _ in weights if name in by_name] or list(by_name)
        chosen = self.rng.choices(names, [w for n, w in weights if n in names] or None)[0]
        return by_name[chosen]

    def _pick(self, kind: StateKind) -> State:
        return self.rng.choice(self.states[kind])

    def _thread(self, ticket_id: int, created: datetime, customer: User, agent: User | None) -> None:
        """Turns between the customer and the assigned agent; some of the agent's are internal notes."""
        when = created
        for turn in range(self.rng.randint(0, 4)):
            when = min(when + timedelta(minutes=self.rng.randint(5, 600)), self.now)
            author = agent if (agent and turn % 2 == 0) else customer
            internal = author is agent and self.rng.random() < 0.3
            body = self.rng.choice(NOTES).format(n=self.rng.randint(1000, 9999)) if internal else None
            body = body or self.rng.choice(AGENT_REPLIES if author is agent else CUSTOMER_REPLIES)
            self.comments.append((ticket_id, author.id, author.human_id, body, internal, when, when))

    def _contacts(self, ticket_id: int, created: datetime, org: str) -> None:
        slug = org.split()[0].lower().replace("&", "and")
        contacts = [
            (ContactKey.MAIN_EMAIL, f"it@{slug}.example"),
            (ContactKey.PHONE_NUMBER, "+44 113 496 0000"),
            (ContactKey.PREFERRED_CONTACT_METHOD, "email"),
        ]
        if self.rng.random() < 0.3:
            contacts.append((ContactKey.ADDITIONAL_EMAIL, f"office@{slug}.example"))
        for key, value in contacts:
            self.attributes.append((ticket_id, key, value, CONTACT, True, created, created))


async def _write_tickets_sqlite(tickets: list[tuple], comments: list[tuple]) -> None:
    """Comments first, their foreign keys checked at commit: the search trigger (migration 0004)
    then indexes each ticket once, with its thread, instead of rewriting it for every comment."""
    await Tortoise.get_connection("default").execute_query("PRAGMA defer_foreign_keys = ON")
    await bulk_insert("comment", COMMENT_COLUMNS, comments)
    await bulk_insert("ticket", TICKET_COLUMNS, tickets)


async def _write_tickets_postgres(tickets: list[tuple], comments: list[tuple]) -> None:
    """The comments in one statement: the search trigger (migration 0004) runs once per statement,
    so it rewrites each ticket's search_vector once, not once per comment."""
    await bulk_insert("ticket", TICKET_COLUMNS, tickets)
    if not comments:
        return
    columns = ", ".join(f'"{c}"' for c in COMMENT_COLUMNS)
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(COMMENT_TYPES, start=1))
    sql = f"INSERT INTO comment ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608 - names are ours
    await Tortoise.get_connection("default").execute_query(
        sql, [list(c) for c in zip(*comments, strict=True)]
    )


TICKET_COLUMNS = (
    "id",
    "organisation_hid",
    "contract_hid",
    "tenant_hid",
    "reporter_hid",
    "title",
    "description",
    "state_id",
    "type_id",
    "priority_id",
    "stage_id",
    "outcome_id",
    "group_id",
    "assignee_id",
    "created_at",
    "updated_at",
    "first_assigned_at",
    "resolved_at",
    "deleted_at",
    "version",
)
COMMENT_COLUMNS = ("ticket_id", "author_id", "author_hid", "body", "internal", "created_at", "updated_at")
COMMENT_TYPES = ("integer", "integer", "text", "text", "boolean", "timestamptz", "timestamptz")
ATTRIBUTE_COLUMNS = ("ticket_id", "key", "value", "type", "enabled", "created_at", "updated_at")
HISTORY_COLUMNS = ("ticket_id", "actor_id", "actor_label", "field", "old_value", "new_value", "created_at")
