"""Service levels: business-hours calendars, the policies that set a ticket's targets, and the
events their timer fired (services/sla.py)."""

from tortoise import fields
from tortoise.models import Model

from helpdesk.models.catalog import State
from helpdesk.models.people import Group
from helpdesk.models.tickets import Ticket


class SlaCalendar(Model):
    """When the clock runs: business hours per weekday in a time zone, less its holidays."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    time_zone = fields.CharField(max_length=64, default="UTC")
    # business_time.format_hours text, e.g. "Mon-Fri 09:00-17:30" (parse_hours reads it back)
    hours = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sla_calendar"
        ordering = ("name", "id")


class SlaHoliday(Model):
    """A day the calendar's clock does not run."""

    id = fields.IntField(primary_key=True)
    calendar: fields.ForeignKeyRelation[SlaCalendar] = fields.ForeignKeyField(
        "helpdesk.SlaCalendar", related_name="holidays", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    name = fields.CharField(max_length=100, default="")

    class Meta:
        table = "sla_holiday"
        unique_together = (("calendar", "day"),)
        ordering = ("day",)


def _condition(model: str, related_name: str) -> fields.ForeignKeyNullableRelation:
    return fields.ForeignKeyField(model, related_name=related_name, null=True, on_delete=fields.CASCADE)


class SlaPolicy(Model):
    """Targets in business minutes for the tickets its conditions match (a null condition matches
    any ticket); the policies are tried by `position`, the first match applies."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    position = fields.IntField(default=0)
    priority: fields.ForeignKeyNullableRelation[State] = _condition("helpdesk.State", "sla_by_priority")
    type: fields.ForeignKeyNullableRelation[State] = _condition("helpdesk.State", "sla_by_type")
    # The ticket's organisation, or its partner (the organisation's parent)
    organisation_hid = fields.CharField(max_length=64, null=True)
    group: fields.ForeignKeyNullableRelation[Group] = _condition("helpdesk.Group", "sla_policies")
    calendar: fields.ForeignKeyRelation[SlaCalendar] = fields.ForeignKeyField(
        "helpdesk.SlaCalendar", related_name="policies", on_delete=fields.RESTRICT
    )
    first_response_minutes = fields.IntField(null=True)
    next_response_minutes = fields.IntField(null=True)
    resolution_minutes = fields.IntField(null=True)
    warn_percent = fields.IntField(default=80)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sla_policy"
        ordering = ("position", "id")


class SlaEvent(Model):
    """A warning or breach the timer announced. Unique per (ticket, target, kind, cycle), inserted
    in the transaction that writes its history row: of two timers racing, the second fails here
    and announces nothing. `cycle` is 0, or for a next response the customer comment it answers."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "helpdesk.Ticket", related_name="sla_events", on_delete=fields.CASCADE
    )
    target = fields.CharField(max_length=16)
    kind = fields.CharField(max_length=8)
    cycle = fields.IntField(default=0)
    due_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sla_event"
        unique_together = (("ticket", "target", "kind", "cycle"),)
