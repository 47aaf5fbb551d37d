"""The admin API's bodies and shapes (issue 17): organisations, catalogue writes, business-hours
calendars and service level policies. Beyond the blueprint: extra routes, admins only."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from helpdesk.api.schemas import HumanId, Id, IsoDate, Name, Strict, timestamp
from helpdesk.models import Organisation, SlaCalendar, SlaPolicy

Description = Annotated[str, Field(min_length=1, max_length=100)]
Position = Annotated[int, Field(ge=0, le=2**31 - 1)]
Minutes = Annotated[int, Field(ge=1, le=525_600, description="Business minutes (at most a year).")]
HoursText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1000,
        description='Weekly business hours as text: "Mon-Fri 09:00-17:30; Sat 10:00-12:00" '
        "(days or day ranges, then one or more HH:MM-HH:MM spans, parts separated by ;).",
    ),
]


# --- organisations -------------------------------------------------------------------------


class OrganisationCreate(Strict):
    id: HumanId
    name: Name
    legalName: Name
    role: Literal["customer", "partner"] = "customer"
    partnerId: HumanId | None = None
    defaultContractHumanId: HumanId | None = None
    defaultTenantHumanId: HumanId | None = None


class OrganisationUpdate(Strict):
    """Only the fields sent change; null clears the partner and defaults (the others stay)."""

    name: Name | None = None
    legalName: Name | None = None
    role: Literal["customer", "partner"] | None = None
    partnerId: HumanId | None = None
    defaultContractHumanId: HumanId | None = None
    defaultTenantHumanId: HumanId | None = None


ORGANISATION_FIELDS = {
    "name": "name",
    "legalName": "legal_name",
    "role": "role",
    "partnerId": "parent_hid",
    "defaultContractHumanId": "default_contract_hid",
    "defaultTenantHumanId": "default_tenant_hid",
}
CLEARABLE = {"partnerId", "defaultContractHumanId", "defaultTenantHumanId"}


def organisation_values(data: BaseModel, *, sent_only: bool = True) -> dict[str, Any]:
    """The service's names for the fields sent, or all with their defaults (null kept only where it
    clears)."""
    names = data.model_fields_set if sent_only else type(data).model_fields
    given = {key: getattr(data, key) for key in names if key in ORGANISATION_FIELDS}
    return {ORGANISATION_FIELDS[k]: v for k, v in given.items() if v is not None or k in CLEARABLE}


def directory_entry_out(org: Organisation) -> dict[str, Any]:
    """An organisation as tickets show it, with what only admins manage beside it."""
    attributes = {"legalName": org.legal_name, "name": org.name, "role": org.role} | {
        "partnerId": org.parent.human_id if org.parent else None,
        "defaultContractHumanId": org.default_contract_hid,
        "defaultTenantHumanId": org.default_tenant_hid,
    }
    body = {"type": "organisations", "id": org.human_id, "attributes": attributes}
    return body | {"dateCreated": timestamp(org.created_at), "dateUpdated": timestamp(org.updated_at)}


class DirectoryAttributesOut(BaseModel):
    legalName: str
    name: str
    role: str
    partnerId: str | None
    defaultContractHumanId: str | None
    defaultTenantHumanId: str | None


class DirectoryEntryOut(BaseModel):
    type: Literal["organisations"]
    id: str
    attributes: DirectoryAttributesOut
    dateCreated: str
    dateUpdated: str


# --- the state catalogue ---------------------------------------------------------------------


class StateCreate(Strict):
    type: Literal[1, 2, 3, 4, 5] = Field(description="1 state, 2 type, 3 priority, 4 stage, 5 outcome")
    description: Description
    position: Position | None = Field(default=None, description="Within its type; none: last.")
    resolves: bool = Field(default=False, description="States only: the ticket counts as resolved.")
    pausesSla: bool = Field(default=False, description="States only: SLA clocks stop while in it.")


class StateUpdate(Strict):
    description: Description | None = None
    position: Position | None = None
    resolves: bool | None = None
    pausesSla: bool | None = None


STATE_FIELDS = {"description": "description", "position": "position", "resolves": "closes"} | {
    "pausesSla": "pauses_sla"
}


def state_values(data: BaseModel) -> dict[str, Any]:
    """The service's names for the fields sent; null means unchanged."""
    given = {key: getattr(data, key) for key in data.model_fields_set if key in STATE_FIELDS}
    return {STATE_FIELDS[k]: v for k, v in given.items() if v is not None}


# --- calendars -------------------------------------------------------------------------------


class HolidayIn(Strict):
    date: IsoDate
    name: Description


class CalendarCreate(Strict):
    name: Description
    timeZone: Annotated[str, Field(min_length=1, max_length=64, description="An IANA name: Europe/London.")]
    hours: HoursText
    holidays: Annotated[list[HolidayIn], Field(max_length=1000)] = []


class CalendarUpdate(Strict):
    """Only the fields sent change; `holidays` replaces the whole list."""

    name: Description | None = None
    timeZone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    hours: HoursText | None = None
    holidays: Annotated[list[HolidayIn], Field(max_length=1000)] | None = None


CALENDAR_FIELDS = {"name": "name", "timeZone": "time_zone", "hours": "hours", "holidays": "holidays"}


def calendar_values(data: BaseModel) -> dict[str, Any]:
    """The service's names for the fields sent (null means unchanged); holidays as (date, name)."""
    given = {key: getattr(data, key) for key in data.model_fields_set}
    values = {CALENDAR_FIELDS[k]: v for k, v in given.items() if v is not None}
    if "holidays" in values:
        values["holidays"] = [(day.date, day.name) for day in values["holidays"]]
    return values


class HolidayOut(BaseModel):
    date: str
    name: str


class CalendarOut(BaseModel):
    id: int
    name: str
    timeZone: str
    hours: str
    holidays: list[HolidayOut]
    dateCreated: str
    dateUpdated: str


def calendar_out(calendar: SlaCalendar) -> dict[str, Any]:
    """A calendar with its holidays (loaded), oldest date first."""
    holidays = sorted(calendar.holidays, key=lambda h: h.day)
    body = {"id": calendar.id, "name": calendar.name, "timeZone": calendar.time_zone, "hours": calendar.hours}
    body["holidays"] = [{"date": h.day.isoformat(), "name": h.name} for h in holidays]
    return body | {
        "dateCreated": timestamp(calendar.created_at),
        "dateUpdated": timestamp(calendar.updated_at),
    }


# --- service level policies ------------------------------------------------------------------


class PolicyConditions(Strict):
    """Which tickets the policy covers; a missing or null condition matches every ticket."""

    priority: Id | None = None
    type: Id | None = None
    organisation: HumanId | None = Field(
        default=None, description="The ticket's organisation, or its partner, by human ID."
    )
    group: Id | None = None


class PolicyTargets(Strict):
    """Business minutes to each target; null: no target."""

    firstResponse: Minutes | None = None
    nextResponse: Minutes | None = None
    resolution: Minutes | None = None


WarnPercent = Annotated[int, Field(ge=1, le=99, description="Warn when this share of the time is used.")]


class PolicyCreate(Strict):
    name: Description
    position: Position | None = Field(default=None, description="0 is checked first; none: last.")
    active: bool = True
    conditions: PolicyConditions = PolicyConditions()
    calendarId: Id
    targets: PolicyTargets = PolicyTargets()
    warnPercent: WarnPercent = 80


class PolicyUpdate(Strict):
    """Only the fields sent change; `conditions` and `targets` replace those objects whole."""

    name: Description | None = None
    position: Position | None = None
    active: bool | None = None
    conditions: PolicyConditions | None = None
    calendarId: Id | None = None
    targets: PolicyTargets | None = None
    warnPercent: WarnPercent | None = None


POLICY_FIELDS = {"name": "name", "position": "position", "active": "active"} | {
    "calendarId": "calendar_id",
    "warnPercent": "warn_percent",
}
CONDITION_FIELDS = {"priority": "priority_id", "type": "type_id", "organisation": "organisation_hid"} | {
    "group": "group_id"
}
TARGET_FIELDS = {"firstResponse": "first_response_minutes", "nextResponse": "next_response_minutes"} | {
    "resolution": "resolution_minutes"
}


def policy_values(data: BaseModel) -> dict[str, Any]:
    """The service's names for the fields sent (null means unchanged); conditions and targets whole."""
    given = {key: getattr(data, key) for key in data.model_fields_set}
    values = {POLICY_FIELDS[k]: v for k, v in given.items() if v is not None and k in POLICY_FIELDS}
    for key, names in (("conditions", CONDITION_FIELDS), ("targets", TARGET_FIELDS)):
        if given.get(key) is not None:
            values |= {column: getattr(given[key], name) for name, column in names.items()}
    return values


class PolicyConditionsOut(BaseModel):
    priority: int | None
    type: int | None
    organisation: str | None
    group: int | None


class PolicyTargetsOut(BaseModel):
    firstResponse: int | None
    nextResponse: int | None
    resolution: int | None


class PolicyOut(BaseModel):
    id: int
    name: str
    position: int
    active: bool
    conditions: PolicyConditionsOut
    calendarId: int
    targets: PolicyTargetsOut
    warnPercent: int
    dateCreated: str
    dateUpdated: str


def policy_out(policy: SlaPolicy) -> dict[str, Any]:
    conditions = {"priority": policy.priority_id, "type": policy.type_id} | {
        "organisation": policy.organisation_hid,
        "group": policy.group_id,
    }
    targets = {"firstResponse": policy.first_response_minutes, "nextResponse": policy.next_response_minutes}
    targets["resolution"] = policy.resolution_minutes
    body = {"id": policy.id, "name": policy.name, "position": policy.position, "active": policy.active}
    body |= {"conditions": conditions, "calendarId": policy.calendar_id, "targets": targets}
    body["warnPercent"] = policy.warn_percent
    return body | {"dateCreated": timestamp(policy.created_at), "dateUpdated": timestamp(policy.updated_at)}
