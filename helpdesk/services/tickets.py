"""Tickets: creating, reading and changing them. Every write records who did it."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from helpdesk.errors import Forbidden, Invalid, NotFound
from helpdesk.models import State, StateKind, Ticket, TicketAttribute, TicketHistory, User

CLASSIFICATIONS: dict[str, StateKind] = {
    "state": StateKind.STATE,
    "type": StateKind.TYPE,
    "priority": StateKind.PRIORITY,
    "stage": StateKind.STAGE,
    "outcome": StateKind.OUTCOME,
}
CONTACT = "Contact"


@dataclass
class Contacts:
    """The blueprint's `Ticket Attributes Create`: the people to keep informed."""

    main_email: str | None = None
    phone_number: str | None = None
    preferred_contact_method: str | None = None
    additional_emails: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        """(key, value) pairs, one attribute row each (DECISIONS 23)."""
        pairs = [
            ("mainEmail", self.main_email),
            ("phoneNumber", self.phone_number),
            ("preferredContactMethod", self.preferred_contact_method),
        ]
        pairs += [("additionalEmail", email) for email in self.additional_emails]
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


def ensure_can_see(ticket: Ticket, actor: User) -> None:
    """Customers see only their organisation's tickets; anything else reads as missing."""
    if not actor.is_staff and ticket.organisation_hid != actor.organisation_hid:
        raise NotFound(f"No ticket {ticket.human_id}.")


async def get_ticket(*, human_id: str, actor: User) -> Ticket:
    """The live ticket with this human ID, as far as the actor may see it."""
    pk = Ticket.parse_human_id(human_id)
    ticket = await Ticket.get_or_none(id=pk, deleted_at=None) if pk else None
    if ticket is None:
        raise NotFound(f"No ticket {human_id}.")
    ensure_can_see(ticket, actor)
    return ticket


async def _resolve_classification(values: dict[str, int]) -> dict[str, State]:
    """Map {"state": id, ...} to catalogue entries of the right kind, or raise Invalid."""
    found = {s.id: s for s in await State.filter(id__in=list(values.values()))}
    errors: dict[str, list[str]] = {}
    resolved: dict[str, State] = {}
    for name, state_id in values.items():
        state = found.get(state_id)
        if state is None or state.kind != CLASSIFICATIONS[name]:
            errors[name] = [f"{state_id} is not a {name} in the catalogue"]
        else:
            resolved[name] = state
    if errors:
        raise Invalid("Unknown classification.", errors)
    return resolved


async def _default_state() -> State | None:
    return await State.filter(kind=StateKind.STATE).order_by("position", "id").first()


async def create_ticket(*, data: NewTicket, actor: User) -> Ticket:
    """Open a ticket with its contacts; customers only for their own organisation."""
    if not actor.is_staff:
        if data.organisation_hid != actor.organisation_hid:
            raise Forbidden("Customers open tickets for their own organisation only.")
        data.classification, data.group_id, data.assignee_id = {}, None, None
    states = await _resolve_classification(data.classification)
    if "state" not in states and (default := await _default_state()):
        states["state"] = default
    now = datetime.now(UTC)
    async with in_transaction():
        ticket = await Ticket.create(
            organisation_hid=data.organisation_hid,
            contract_hid=data.contract_hid,
            tenant_hid=data.tenant_hid,
            reporter_hid=data.reporter_hid,
            title=data.title,
            description=data.description,
            group_id=data.group_id,
            assignee_id=data.assignee_id,
            first_assigned_at=now if data.assignee_id else None,
            resolved_at=now if "state" in states and states["state"].closes else None,
            **states,
        )
        if data.contacts:
            await TicketAttribute.bulk_create(
                TicketAttribute(ticket=ticket, key=key, value=value, type=CONTACT)
                for key, value in data.contacts.rows()
            )
        await TicketHistory.create(
            ticket=ticket,
            actor=actor,
            actor_label=actor.name,
            field="created",
            new_value=ticket.human_id,
        )
    return ticket
