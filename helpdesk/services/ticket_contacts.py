"""A ticket's contacts as agents work them on the ticket page: set, add, switch, ask to confirm."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from tortoise.transactions import in_transaction

from helpdesk.errors import Invalid, NotFound
from helpdesk.models import Ticket, TicketAttribute, TicketHistory, User, names_rows
from helpdesk.services import contacts, feed
from helpdesk.services.sql import select_rows
from helpdesk.services.tickets import (
    CONTACT,
    Contacts,
    TicketChanges,
    ensure_staff,
    get_ticket,
    update_ticket,
)
from helpdesk.services.timeline import ensure_readable, ensure_staff_readable

SINGLE_KEYS = ("main_email", "phone_number", "preferred_contact_method")
EMAIL_KEYS = ("main_email", "additional_email")


class ContactRow(NamedTuple):
    """One contact of a ticket as the contacts panel shows it."""

    id: int
    key: str
    value: str
    enabled: bool
    type: str = CONTACT


async def list_contacts(*, ticket: Ticket, actor: User) -> list[ContactRow]:
    """The contact rows, oldest first, of a ticket get_ticket gave this actor."""
    ensure_readable(ticket, actor)
    rows = await select_rows(
        "SELECT id, key, value, enabled FROM ticket_attribute WHERE ticket_id = ? AND type = ? ORDER BY id",
        ticket.id,
        CONTACT,
    )
    return [ContactRow(pk, key, value, bool(enabled)) for pk, key, value, enabled in rows]


async def set_contact(*, human_id: str, key: str, value: str, actor: User) -> None:
    """Set a main email, phone or preferred method (replacing it), or add an additional email.

    Against the version read here: two agents adding emails at once get a 409, not a lost address."""
    ticket = await get_ticket(human_id=human_id, actor=actor)
    if key in EMAIL_KEYS and not contacts.is_address(value):
        raise Invalid("That is not an email address.", {"value": ["must be one email address"]})
    if key in SINGLE_KEYS:
        changes = TicketChanges(values={}, contacts=Contacts(**{key: value}), contact_keys={key})
    elif key == "additional_email":
        rows = TicketAttribute.filter(ticket=ticket, type=CONTACT, key="additionalEmail").order_by("id")
        emails = list(await rows.values_list("value", flat=True))
        emails += [] if value in emails else [value]
        changes = TicketChanges(
            values={}, contacts=Contacts(additional_emails=emails), contact_keys={"additional_emails"}
        )
    else:
        raise NotFound(f"No contact kind {key}.")
    await update_ticket(human_id=human_id, changes=changes, actor=actor, expected_version=ticket.version)


async def set_contact_enabled(*, human_id: str, attribute_id: int, enabled: bool, actor: User) -> None:
    """Agents switch one contact on or off (disabled contacts get no email); the history says who."""
    ticket = await get_ticket(human_id=human_id, actor=actor)
    ensure_staff(actor, "switch contacts on or off")
    query = TicketAttribute.filter(id=attribute_id, ticket_id=ticket.id, type=CONTACT)
    row = await query.first() if names_rows(attribute_id) else None
    if row is None:
        raise NotFound(f"No contact {attribute_id} on {human_id}.")
    if row.enabled == enabled:
        return
    async with in_transaction():
        await TicketAttribute.filter(id=row.id).update(enabled=enabled, updated_at=datetime.now(UTC))
        await TicketHistory.create(
            ticket=ticket,
            actor=actor,
            actor_label=actor.name,
            field=f"contact.{row.key}.enabled",
            old_value=f"{row.value}: {'on' if row.enabled else 'off'}",
            new_value=f"{row.value}: {'on' if enabled else 'off'}",
        )
        await feed.publish_ticket("contacts.changed", ticket, actor)


async def request_confirmation(
    *, human_id: str, actor: User, config: Mapping[str, Any]
) -> contacts.ConfirmationRequest:
    """Email each enabled contact a link to confirm their details (agents only; a quick repeat sends none)."""
    ticket = await get_ticket(human_id=human_id, actor=actor)
    return await contacts.request_confirmation(ticket=ticket, actor=actor, config=config)


async def confirmation_status(
    *, ticket: Ticket, actor: User, rows: list[ContactRow] | None = None
) -> contacts.ConfirmationStatus:
    """When the contacts of a ticket get_ticket gave this actor were last asked to confirm, and when
    each address did (agents only); `rows` are its contact rows when the caller already has them."""
    ensure_staff_readable(ticket, actor)
    return await contacts.confirmation_status(ticket, contacts=rows)
