"""The state catalogue: the five kinds of classification a ticket carries."""

from enum import IntEnum

from tortoise import fields
from tortoise.models import Model


class StateKind(IntEnum):
    """`State.type` in the API: which classification a catalogue entry belongs to."""

    STATE = 1
    TYPE = 2
    PRIORITY = 3
    STAGE = 4
    OUTCOME = 5


class State(Model):
    """One entry of the catalogue, e.g. state "Open" or priority "P3 - Priority 3"."""

    id = fields.IntField(primary_key=True)
    kind = fields.IntEnumField(StateKind)
    description = fields.CharField(max_length=100)
    position = fields.IntField(default=0)
    # For kind STATE: a ticket in this state counts as resolved (leaves the open queues).
    closes = fields.BooleanField(default=False)
    # For kind STATE: time in this state (e.g. waiting for the customer) does not count towards
    # the ticket's service level targets (services/sla.py).
    pauses_sla = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "state"
        unique_together = (("kind", "description"),)
        ordering = ("kind", "position", "id")
