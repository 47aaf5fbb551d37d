"""A ticket's history: the one way a change is recorded, and the one table of the names its
fields are shown by ("Main email", never `contact.mainEmail`)."""

from datetime import UTC, datetime
from typing import Any

from helpdesk.models import Ticket, TicketHistory, User
from helpdesk.services.values import ContactKey

CREATED = "created"
DELETED = "deleted"
REQUESTED = "contacts.confirmationRequested"  # an agent asked the contacts to confirm
PROPOSAL = "contacts.proposal"  # a contact's note to the agents, then an agent's decision on it
CONSENT = "contact.consent"  # an agent vouched for an address waiting to opt in
ADDITIONAL_EMAILS = "contact.additionalEmails"  # an agent's whole list of additional emails
# Email intake (services/mail_routing.py): an address bounced, an agent cleared it, an agent accepted
# an email from an unverified sender as the customer's reply.
BOUNCING = "email.bouncing"
BOUNCE_CLEARED = "email.bounceCleared"
UNVERIFIED_ACCEPTED = "email.unverifiedAccepted"


def contact_field(key: str, *, enabled: bool = False) -> str:
    """The history field of a change to a contact `key` (a ContactKey), or to whether it is on."""
    return f"contact.{key}.enabled" if enabled else f"contact.{key}"


CONTACT_LABELS = {
    ContactKey.MAIN_EMAIL: "Main email",
    ContactKey.ADDITIONAL_EMAIL: "Additional email",
    ContactKey.PHONE_NUMBER: "Phone number",
    ContactKey.PREFERRED_CONTACT_METHOD: "Preferred contact method",
}
LABELS = {
    "title": "Title",
    "description": "Description",
    "organisation_hid": "Organisation",
    "contract_hid": "Contract",
    "tenant_hid": "Tenant",
    "reporter_hid": "Reporter",
    "state": "State",
    "type": "Type",
    "priority": "Priority",
    "stage": "Stage",
    "outcome": "Outcome",
    "group": "Group",
    "assignee": "Assignee",
    CONSENT: "Contact consent",
    ADDITIONAL_EMAILS: "Additional emails",
    BOUNCING: "Bouncing address",
    BOUNCE_CLEARED: "Bouncing address cleared",
    UNVERIFIED_ACCEPTED: "Accepted email from unverified sender",
    "tag": "Tag",  # services/tags.py: added (the new value) or removed (the old)
    # services/ticket_links.py: a related ticket linked or unlinked; merged into or from another
    "link.added": "Linked ticket",
    "link.removed": "Linked ticket",
    "merged.into": "Merged into",
    "merged.from": "Merged from",
    # services/sla.py: a change chose another service level policy; its timer's announcements
    "sla_policy": "SLA policy",
    "sla.warning": "SLA warning",
    "sla.breach": "SLA breached",
}
LABELS |= {contact_field(key): label for key, label in CONTACT_LABELS.items()}
LABELS |= {contact_field(key, enabled=True): f"{label} enabled" for key, label in CONTACT_LABELS.items()}
# Rows written before the names were one: a contact's own corrections said `attributes.<key>`.
LABELS |= {f"attributes.{key}": label for key, label in CONTACT_LABELS.items()}


# Changes the history tells as a sentence rather than "changed X from A to B".
SENTENCES = {
    CREATED: "opened the ticket",
    DELETED: "deleted the ticket",
    REQUESTED: "asked the contacts to confirm their details",
}


def label(field: str) -> str:
    """The words a person reads for a history field; the field itself if the table lacks it."""
    return LABELS.get(field, field)


def change_row(
    *, ticket_id: int, actor: User | None, field: str, old: Any = None, new: Any = None,
    actor_label: str = "", moment: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The ticket_history columns of one change (`actor_label` defaults to the actor's name; a
    contact acting from their link has no actor, only their address)."""
    return {
        "ticket_id": ticket_id,
        "actor_id": actor.id if actor else None,
        "actor_label": actor_label or (actor.name if actor else ""),
        "field": field,
        "old_value": None if old is None else str(old),
        "new_value": None if new is None else str(new),
        "created_at": moment or datetime.now(UTC),
    }


async def record_change(
    *, ticket: Ticket, actor: User | None, field: str, old: Any = None, new: Any = None, actor_label: str = ""
) -> None:
    """Record one change to a ticket, inside the caller's transaction: every history row but a new
    ticket's (written with it in one trip, from change_row) is written here."""
    await TicketHistory.create(
        **change_row(ticket_id=ticket.id, actor=actor, field=field, old=old, new=new, actor_label=actor_label)
    )
