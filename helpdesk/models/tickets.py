"""Tickets with their attributes, comments and change history."""

from tortoise import fields
from tortoise.models import Model

from helpdesk.models.catalog import State
from helpdesk.models.people import Group, User

TICKET_PREFIX = "INC-"
CONTACT = "Contact"  # TicketAttribute.type of the rows that name a ticket's contacts
# TicketAttribute.consent: whether the contact may be sent the ticket's emails. Contacts an agent
# gives (and a customer's own account address) are trusted; other addresses a customer gives are
# pending until their owner opts in from the invitation's link (confirmed) or declines.
TRUSTED, PENDING, CONFIRMED, DECLINED = "trusted", "pending", "confirmed", "declined"


def _state_link(related_name: str) -> fields.ForeignKeyNullableRelation[State]:
    return fields.ForeignKeyField(
        "helpdesk.State", related_name=related_name, null=True, on_delete=fields.RESTRICT
    )


class Ticket(Model):
    """An incident. Its human ID is INC-<id>: the primary key makes it unique under concurrency."""

    id = fields.IntField(primary_key=True)
    organisation_hid = fields.CharField(max_length=64)
    contract_hid = fields.CharField(max_length=64)
    tenant_hid = fields.CharField(max_length=64)
    reporter_hid = fields.CharField(max_length=64)
    title = fields.CharField(max_length=255, default="")
    description = fields.TextField()
    state = _state_link("tickets_in_state")
    type = _state_link("tickets_of_type")
    priority = _state_link("tickets_of_priority")
    stage = _state_link("tickets_in_stage")
    outcome = _state_link("tickets_with_outcome")
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "helpdesk.Group", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    first_assigned_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)
    # Service levels (services/sla.py), recomputed from the ticket's history with each change.
    # (helpdesk.models.sla imports this module: the relation is named, not imported)
    sla_policy: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "helpdesk.SlaPolicy", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    first_response_at = fields.DatetimeField(null=True)  # the first public reply by an agent
    first_response_due_at = fields.DatetimeField(null=True)
    next_response_due_at = fields.DatetimeField(null=True)
    resolution_due_at = fields.DatetimeField(null=True)
    sla_due_at = fields.DatetimeField(null=True)  # the earliest due of the running clocks: queues sort by it
    sla_warn_at = fields.DatetimeField(null=True)  # the earliest warning of the running clocks
    sla_next_event_at = fields.DatetimeField(null=True)  # when the timer next looks at the ticket
    sla_breached = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "ticket"
        indexes = (
            ("deleted_at", "resolved_at", "id"),
            # Every list is of live tickets (deleted_at IS NULL): these serve its sorts in index order.
            ("deleted_at", "id"),
            ("deleted_at", "created_at"),
            ("deleted_at", "updated_at"),
            ("assignee_id", "resolved_at", "id"),
            ("assignee_id", "id"),  # the queue's sort by assignee
            ("group_id", "resolved_at", "id"),
            ("state_id", "id"),
            ("priority_id", "id"),
            ("type_id", "id"),
            ("stage_id", "id"),
            ("outcome_id", "id"),
            ("organisation_hid", "id"),
            ("reporter_hid", "id"),
            ("created_at",),
            ("updated_at",),
            ("resolved_at",),
            ("deleted_at", "sla_due_at", "id"),
            # The open queues by due, in index order: SQLite reads the first, PostgreSQL the second (its
            # planner orders by an index's later columns only after equalities, and IS NULL is not one).
            ("deleted_at", "resolved_at", "sla_due_at", "id"),
            ("sla_due_at", "id"),
            ("deleted_at", "sla_warn_at", "id"),
            ("deleted_at", "resolved_at", "sla_warn_at"),  # the "Due soon / breached" count (migration 0022)
            ("deleted_at", "sla_breached", "id"),
            ("sla_next_event_at",),
        )

    @property
    def human_id(self) -> str:
        return f"{TICKET_PREFIX}{self.id}"

    @staticmethod
    def parse_human_id(value: str) -> int | None:
        """The primary key named by an `INC-<n>` string, or None when it names no ticket."""
        digits = value.removeprefix(TICKET_PREFIX) if value.startswith(TICKET_PREFIX) else ""
        if digits.isascii() and digits.isdigit() and len(digits) < 10 and digits[0] != "0":
            return int(digits)
        return None


class TicketAttribute(Model):
    """A key/value on a ticket. Contacts are rows of type "Contact" (DECISIONS 23)."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="attributes", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=100)
    value = fields.CharField(max_length=1000)
    type = fields.CharField(max_length=50, default=CONTACT)
    enabled = fields.BooleanField(default=True)
    consent = fields.CharField(max_length=16, default=TRUSTED, db_default=TRUSTED)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ticket_attribute"
        indexes = (("ticket_id", "type", "key"),)


class ContactProposal(Model):
    """What a contact, from their link, says is wrong with the ticket's other contacts: agents
    accept (and make the change themselves) or dismiss it. `status` is open, accepted or dismissed."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="contact_proposals", on_delete=fields.CASCADE
    )
    address = fields.CharField(max_length=254)  # the contact whose link sent it
    note = fields.TextField()
    status = fields.CharField(max_length=16, default="open")
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="contact_proposals_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "contact_proposal"
        indexes = (("ticket_id", "id"),)


class Comment(Model):
    """A public reply or an internal (agents-only) note on a ticket."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="comments", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="comments", null=True, on_delete=fields.SET_NULL
    )
    author_hid = fields.CharField(max_length=64, default="")
    body = fields.TextField()
    internal = fields.BooleanField(default=False)
    # Where it came from: web, api or email (CHANNELS). An email's sender is `email_from`; a reply
    # from an address that is none of the ticket's people is an internal note with `unverified`
    # set, until an agent accepts it as the customer's reply.
    channel = fields.CharField(max_length=8, default="web", db_default="web")
    email_from = fields.CharField(max_length=254, default="", db_default="")
    unverified = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "comment"
        indexes = (("ticket_id", "id"),)


class TicketHistory(Model):
    """One change to one field of a ticket: who, what from, what to, when."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="history", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="changes", null=True, on_delete=fields.SET_NULL
    )
    # Who made the change as shown in the timeline: a user's name or a contact's address.
    actor_label = fields.CharField(max_length=255, default="")
    field = fields.CharField(max_length=64)
    old_value = fields.TextField(null=True)
    new_value = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_history"
        indexes = (("ticket_id", "id"), ("field", "ticket_id"))


class IdempotencyKey(Model):
    """A client's Idempotency-Key on a POST that creates, so a retry returns what the first made.

    `scope` says what it created (ticket, comment, event, user), `resource_id` which one;
    `ticket` is the ticket it created or was posted to (none for a user)."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "helpdesk.User", related_name="idempotency_keys", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=255)
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="idempotency_keys", on_delete=fields.CASCADE, null=True
    )
    scope = fields.CharField(max_length=16, db_default="ticket")
    resource_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_key"
        unique_together = (("user", "key"),)
