"""A ticket's contacts as agents work them on the ticket page: set, add, switch, ask to confirm, and
accept or dismiss what a contact proposed from their link."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from tortoise.transactions import in_transaction

from helpdesk.errors import Conflict, Invalid, NotFound
from helpdesk.models import ContactProposal, Ticket, TicketAttribute, User, ids_in_range
from helpdesk.models.tickets import PENDING, TRUSTED
from helpdesk.services import contacts, feed, history
from helpdesk.services.access import authorise
from helpdesk.services.contacts import ContactRow
from helpdesk.services.history import record_change
from helpdesk.services.sql import as_datetime, select_rows
from helpdesk.services.tickets import (
    CONTACT,
    Contacts,
    TicketChanges,
    load,
    update_ticket,
)
from helpdesk.services.values import EMAIL_KEYS, SINGLE_KEYS, ContactKey, contact_error


class ProposalRow(NamedTuple):
    """A contact's open note to the agents about the ticket's other contacts."""

    id: int
    address: str
    note: str
    created_at: datetime


async def list_contacts(*, ticket: Ticket, actor: User) -> list[ContactRow]:
    """The contact rows, oldest first, of a ticket tickets.load gave this actor."""
    authorise(ticket, actor)
    return (await contacts.contact_rows([ticket.id]))[ticket.id]


async def open_proposals(*, ticket: Ticket, actor: User) -> list[ProposalRow]:
    """The notes contacts left from their links that no agent has accepted or dismissed (agents only)."""
    authorise(ticket, actor, staff_only=True)
    rows = await select_rows(
        "SELECT id, address, note, created_at FROM contact_proposal"
        " WHERE ticket_id = ? AND status = ? ORDER BY id",
        ticket.id,
        "open",
    )
    return [ProposalRow(pk, address, note, as_datetime(at)) for pk, address, note, at in rows]


async def decide_proposal(*, human_id: str, proposal_id: int, accept: bool, actor: User) -> None:
    """An agent accepts a contact's proposal (having made the change it asks for) or dismisses it;
    the history says who decided what."""
    ticket = await load(human_id=human_id, actor=actor, agents_only="decide on contacts' proposals")
    query = ContactProposal.filter(id=proposal_id, ticket_id=ticket.id)
    proposal = await query.first() if ids_in_range(proposal_id) else None
    if proposal is None:
        raise NotFound(f"No proposal {proposal_id} on {human_id}.")
    decision = "accepted" if accept else "dismissed"
    async with in_transaction():
        decided = await ContactProposal.filter(id=proposal.id, status="open").update(
            status=decision, decided_by_id=actor.id, decided_at=datetime.now(UTC)
        )
        if not decided:
            raise Conflict("Another agent has already decided on this proposal.")
        await record_change(
            ticket=ticket, actor=actor, field=history.PROPOSAL,
            old=f"{proposal.address}: {proposal.note}", new=decision,
        )  # fmt: skip
        await feed.publish_ticket("contacts.changed", ticket, actor)


async def set_contact(*, human_id: str, key: str, value: str, actor: User) -> None:
    """Set a main email, phone or preferred method (replacing it), or add an additional email; `key`
    is a ContactKey's field (`main_email`).

    Against the version read here: two agents adding emails at once get a 409, not a lost address."""
    ticket = await load(human_id=human_id, actor=actor)
    kind = _contact_key(key, human_id)
    if error := contact_error(kind, value):
        what = "an email address" if kind in EMAIL_KEYS else "a phone number"
        raise Invalid(f"That is not {what}.", {"value": [error]})
    if kind in SINGLE_KEYS:
        changes = TicketChanges(values={}, contacts=Contacts(**{key: value}), contact_keys={key})
    else:
        rows = TicketAttribute.filter(ticket=ticket, type=CONTACT, key=kind).order_by("id")
        emails = list(await rows.values_list("value", flat=True))
        emails += [] if value in emails else [value]
        changes = TicketChanges(
            values={}, contacts=Contacts(additional_emails=emails), contact_keys={"additional_emails"}
        )
    await update_ticket(human_id=human_id, changes=changes, actor=actor, expected_version=ticket.version)
    if kind in EMAIL_KEYS:
        await _vouch_for(ticket, value, actor)


def _contact_key(field: str, human_id: str) -> ContactKey:
    """The contact key a form's field names (`main_email`); NotFound for any other."""
    try:
        return ContactKey.of_field(field)
    except KeyError:
        raise NotFound(f"No contact kind {field} on {human_id}.") from None


async def _vouch_for(ticket: Ticket, address: str, actor: User) -> None:
    """An agent who gives an address a customer named, still waiting to opt in, makes it trusted
    (one that declined stays declined)."""
    rows = await TicketAttribute.filter(ticket=ticket, type=CONTACT, key__in=EMAIL_KEYS, consent=PENDING)
    ids = [row.id for row in rows if row.value.lower() == address.lower()]
    if not ids:
        return
    async with in_transaction():
        await TicketAttribute.filter(id__in=ids).update(consent=TRUSTED, updated_at=datetime.now(UTC))
        await record_change(
            ticket=ticket,
            actor=actor,
            field=history.CONSENT,
            old=f"{address}: {PENDING}",
            new=f"{address}: {TRUSTED}",
        )


async def set_contact_enabled(*, human_id: str, attribute_id: int, enabled: bool, actor: User) -> None:
    """Agents switch one contact on or off (disabled contacts get no email); the history says who."""
    ticket = await load(human_id=human_id, actor=actor, agents_only="switch contacts on or off")
    query = TicketAttribute.filter(id=attribute_id, ticket_id=ticket.id, type=CONTACT)
    row = await query.first() if ids_in_range(attribute_id) else None
    if row is None:
        raise NotFound(f"No contact {attribute_id} on {human_id}.")
    if row.enabled == enabled:
        return
    async with in_transaction():
        await TicketAttribute.filter(id=row.id).update(enabled=enabled, updated_at=datetime.now(UTC))
        await record_change(
            ticket=ticket, actor=actor, field=history.contact_field(row.key, enabled=True),
            old=f"{row.value}: {_on_off(row.enabled)}", new=f"{row.value}: {_on_off(enabled)}",
        )  # fmt: skip
        await feed.publish_ticket("contacts.changed", ticket, actor)


def _on_off(enabled: bool) -> str:
    return "on" if enabled else "off"


async def request_confirmation(
    *, human_id: str, actor: User, config: Mapping[str, Any]
) -> contacts.ConfirmationRequest:
    """Email each enabled contact a link to confirm their details (agents only; a quick repeat sends none)."""
    ticket = await load(human_id=human_id, actor=actor)
    return await contacts.request_confirmation(ticket=ticket, actor=actor, config=config)
