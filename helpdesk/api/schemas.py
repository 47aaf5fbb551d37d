"""Request schemas (pydantic, strict about unknown fields) and the response shapes of the blueprint."""

from collections.abc import Callable
from datetime import UTC, datetime
from datetime import date as Date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from helpdesk.models import Event, Group, Organisation, State, Ticket, TicketAttribute, User
from helpdesk.services.attachments import attachment_out
from helpdesk.services.values import email_error, phone_error

if TYPE_CHECKING:
    from helpdesk.services.tickets import Related
    from helpdesk.services.timeline import ThreadComment


def _whole_number(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer, so the API does too."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _number_to_text(value: Any) -> Any:
    """Human IDs and phone numbers may arrive as whole JSON numbers: they are kept as strings."""
    value = _whole_number(value)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else value


def _text_or_number(max_length: int, min_length: int = 0) -> WithJsonSchema:
    text = {"type": "string", "minLength": min_length, "maxLength": max_length}
    return WithJsonSchema({"anyOf": [text, {"type": "integer", "minimum": 0}]})


HumanId = Annotated[
    str, BeforeValidator(_number_to_text), Field(min_length=1, max_length=64), _text_or_number(64, 1)
]


def _checked(error: Callable[[str], str | None]) -> AfterValidator:
    """A pydantic validator from one of services.values' rules (the one the forms and services use)."""

    def check(value: str) -> str:
        if value and (reason := error(value)):  # an empty phone number is none
            raise ValueError(reason)
        return value

    return AfterValidator(check)


Phone = Annotated[
    str, BeforeValidator(_number_to_text), Field(max_length=64), _checked(phone_error), _text_or_number(64)
]
# A user's phoneNumber is typed "number" in the blueprint, so any whole number is valid there (its
# dredd example reads as 0): users' phones are kept as given, not held to the phone rule.
UserPhone = Annotated[str, BeforeValidator(_number_to_text), Field(max_length=64), _text_or_number(64)]
Email = Annotated[
    str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"), _checked(email_error)
]
Name = Annotated[str, Field(min_length=1, max_length=255)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_whole_number)]


def _iso_datetime(value: Any) -> datetime:
    """An ISO 8601 date or date-time (UTC when no offset is given); nothing else, not even numbers."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date or date-time")
    moment = datetime.fromisoformat(value)
    try:  # in UTC, as stored; 0001-01-01T00:00+01:00 has no UTC time
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range") from exc


def _iso_date(value: Any) -> Date:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date")
    return Date.fromisoformat(value)


IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_datetime),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
    ),
]
IsoDate = Annotated[Date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]


TagName = Annotated[str, Field(min_length=1, max_length=40)]


class Strict(BaseModel):
    """Unknown fields are refused (422), so nothing unexpected is ever written."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class QueryModel(BaseModel):
    """Query strings are text: values are converted, unknown parameters refused (400)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserCreate(Strict):
    email: Email
    name: Name
    phoneNumber: UserPhone | None = None
    admin: bool = False
    agent: bool = False
    humanId: HumanId | None = None
    organisationId: HumanId | None = None


Capacity = Annotated[int, Field(ge=0, le=10_000)]


class UserUpdate(Strict):
    email: Email | None = None
    name: Name | None = None
    phoneNumber: UserPhone | None = None
    admin: bool | None = None
    agent: bool | None = None
    available: bool | None = Field(
        None, description="Extra field: one's own; assignment rules skip an agent who is not."
    )
    capacity: Capacity | None = Field(
        None, description="Extra field (admins): open tickets a rule may assign the agent; null: no limit."
    )


GroupName = Annotated[str, Field(min_length=1, max_length=100)]
AssignmentModeName = Literal["manual", "roundRobin", "leastOpen"]
MemberIds = Annotated[
    list[Id], Field(max_length=1000, description="Every member's user id: the whole membership.")
]


class GroupCreate(Strict):
    """Extra route (admins): a new group."""

    name: GroupName
    assignment: AssignmentModeName = "manual"
    members: MemberIds = []


class GroupUpdate(Strict):
    """Extra route (admins): what changes about a group; what is left out stays."""

    name: GroupName | None = None
    assignment: AssignmentModeName | None = None
    members: MemberIds | None = None


class TicketAttributesIn(Strict):
    mainEmail: Email | None = None
    phoneNumber: Phone | None = None
    preferredContactMethod: Annotated[str, Field(max_length=50)] | None = None
    additionalEmails: Annotated[list[Email], Field(max_length=50)] = []


class TicketAttributesCreate(TicketAttributesIn):
    """The blueprint's `Ticket Attributes Create`: a new ticket's contacts say how to reach them."""

    preferredContactMethod: Annotated[str, Field(min_length=1, max_length=50)]


class Classification(Strict):
    state: Id | None = None
    type: Id | None = None
    priority: Id | None = None
    stage: Id | None = None
    outcome: Id | None = None
    group: Id | None = None
    assignee: Id | None = None


class TicketCreate(Classification):
    organisationHumanId: HumanId
    contractHumanId: HumanId
    tenantHumanId: HumanId
    reporterHumanId: HumanId
    title: Annotated[str, Field(max_length=255)] = ""
    description: Annotated[str, Field(min_length=1, max_length=100_000)]
    attributes: TicketAttributesCreate | None = None


class TicketUpdate(Classification):
    organisationHumanId: HumanId | None = None
    contractHumanId: HumanId | None = None
    tenantHumanId: HumanId | None = None
    reporterHumanId: HumanId | None = None
    title: Annotated[str, Field(max_length=255)] | None = None
    description: Annotated[str, Field(min_length=1, max_length=100_000)] | None = None
    attributes: TicketAttributesIn | None = None
    version: Id | None = None
    # An extension of the contract (issue 16): the ticket's tags, all of them (agents only).
    tags: Annotated[list[TagName], Field(max_length=30)] | None = None


class TicketMerge(Strict):
    """Merge the ticket the URL names into `into` (issue 16)."""

    into: HumanId


class CommentCreate(Strict):
    ticketId: HumanId | None = None
    description: Annotated[str, Field(min_length=1, max_length=100_000)]
    userHumanId: HumanId | None = None
    internal: bool = False
    attachmentIds: Annotated[
        list[Annotated[int, Field(ge=1)]],
        Field(
            max_length=20,
            description="Files this comment carries: the caller's own, uploaded to this ticket with "
            "POST /tickets/{ticketId}/attachments and not yet on a comment.",
        ),
    ] = []
    # The newest comment id the client had seen (0: none): a comment by someone else since then is
    # 409, not posted, unless sendAnyway (services/tickets.post_comment).
    seenThrough: Annotated[int, Field(ge=0, le=2**31 - 1), BeforeValidator(_whole_number)] | None = None
    sendAnyway: bool = False


class TicketQuery(QueryModel):
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, Field(max_length=200)] | None = None
    sort: Literal[
        "-id", "id", "-dateCreated", "dateCreated", "-dateUpdated", "dateUpdated", "-dateResolved"
    ] = "-id"
    state: Id | None = None
    type: Id | None = None
    priority: Id | None = None
    stage: Id | None = None
    outcome: Id | None = None
    group: Id | None = None
    assignee: Id | None = None
    organisation: HumanId | None = None
    reporter: HumanId | None = None
    q: Annotated[str, Field(max_length=200)] | None = None
    tag: Annotated[str, Field(min_length=1, max_length=40)] | None = None  # agents' tags (issue 16)
    createdFrom: IsoDateTime | None = None
    createdTo: IsoDateTime | None = None
    updatedSince: IsoDateTime | None = None


class StateQuery(QueryModel):
    type: Literal["all", "state", "type", "priority", "stage", "outcome"] = "all"


class ReportQuery(QueryModel):
    period: Literal["weekly", "monthly"] = "monthly"
    date: IsoDate | None = None
    group: Id | None = None
    organisation: HumanId | None = None


# --- Responses -----------------------------------------------------------------------------


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC as the blueprint writes it: 2016-12-02T17:21:22+0000."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat is C all the way; strftime after astimezone was a fifth of a list page's time.
    return value.replace(tzinfo=None, microsecond=0).isoformat() + "+0000"


def phone_out(value: str | None) -> int | str | None:
    """A JSON number when no digit can be lost, else the string as given (DECISIONS 15)."""
    if value and value.isascii() and value.isdigit() and not value.startswith("0") and len(value) < 16:
        return int(value)
    return value


def user_out(user: User) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": user.id,
        "humanId": user.human_id,
        "organisationId": user.organisation_hid,
        "email": user.email,
        "name": user.name,
        "phoneNumber": phone_out(user.phone),
        "admin": user.admin,
        "agent": user.agent,
        "available": user.available if user.is_staff else None,  # extra fields, agents' only
        "capacity": user.capacity if user.is_staff else None,
    }
    # Optional fields are left out rather than null: the blueprint types them as string/number.
    return {key: value for key, value in body.items() if value is not None}


def _dated(row: Any, body: dict[str, Any], *, updated: bool = True) -> dict[str, Any]:
    """The body followed by the row's dateCreated (and dateUpdated), as the blueprint writes them."""
    body["dateCreated"] = timestamp(row.created_at)
    if updated:
        body["dateUpdated"] = timestamp(row.updated_at)
    return body


def state_out(state: State | None) -> dict[str, Any] | None:
    if state is None:
        return None
    body = {"id": state.id, "description": state.description, "type": int(state.kind)}
    _dated(state, body)
    # Extra fields (issue 17): whether a ticket in this state counts as resolved, or pauses its SLA clocks.
    body["resolves"], body["pausesSla"] = state.closes, state.pauses_sla
    return body


def group_out(group: Group | None) -> dict[str, Any] | None:
    return None if group is None else _dated(group, {"id": group.id, "name": group.name})


def group_full_out(group: Group, members: list[int]) -> dict[str, Any]:
    """A group as the /groups routes give it: with the extra fields `assignment` and `members`."""
    return group_out(group) | {"assignment": str(group.assignment), "members": members}


def organisation_out(org: Organisation | None) -> dict[str, Any] | None:
    if org is None:
        return None
    return {
        "type": "organisations",
        "id": org.human_id,
        "attributes": {"legalName": org.legal_name, "name": org.name, "role": org.role},
    }


def assignee_out(user: User | None, viewer: User) -> dict[str, Any] | None:
    """Staff see the agent's record; a customer sees only who handles the ticket (DECISIONS 10)."""
    if user is None:
        return None
    return user_out(user) if viewer.is_staff else {"id": user.id, "name": user.name}


def tickets_out(
    tickets: list[Ticket], related: "Related", viewer: User, tags: dict[int, list[str]] | None = None
) -> list[dict[str, Any]]:
    """The blueprint's Ticket for each ticket. The states, groups, assignees and organisations a
    page points at are a few dozen, so each is turned into JSON once per page, not once per ticket.
    `tags` (agents only, services/tags.py): each ticket's tags, an extra field of the contract's."""
    states = {key: state_out(state) for key, state in related.states.items()}
    groups = {key: group_out(group) for key, group in related.groups.items()}
    assignees = {key: assignee_out(user, viewer) for key, user in related.users.items()}
    parties = {
        key: (organisation_out(org.parent or org), organisation_out(org))
        for key, org in related.organisations.items()
    }
    unknown = (None, None)
    out = []
    for ticket in tickets:
        human_id = ticket.human_id
        buyer, consumer = parties.get(ticket.organisation_hid, unknown)
        out.append(
            {
                "id": human_id,
                "organisationHumanId": ticket.organisation_hid,
                "contractHumanId": ticket.contract_hid,
                "tenantHumanId": ticket.tenant_hid,
                "title": ticket.title,
                "description": ticket.description,
                "reporterHumanId": ticket.reporter_hid,
                "links": {"self": f"/tickets/{human_id}", "comments": f"/tickets/{human_id}/comments"},
                "dateCreated": timestamp(ticket.created_at),
                "dateUpdated": timestamp(ticket.updated_at),
                "buyer": buyer,
                "consumer": consumer,
                "state": states.get(ticket.state_id),
                "type": states.get(ticket.type_id),
                "priority": states.get(ticket.priority_id),
                "stage": states.get(ticket.stage_id),
                "outcome": states.get(ticket.outcome_id),
                "group": groups.get(ticket.group_id),
                "assignee": assignees.get(ticket.assignee_id),
                "dateResolved": timestamp(ticket.resolved_at),
                "version": ticket.version,
            }
        )
        if tags is not None:
            out[-1]["tags"] = tags.get(ticket.id, [])
    return out


def sla_out(summary: Any) -> dict[str, Any]:
    """A ticket's service level (services/sla.Summary), an extra field of the contract's Ticket."""
    return {
        "policy": summary.policy,
        "firstResponseDue": timestamp(summary.first_response_due),
        "firstResponseAt": timestamp(summary.first_response_at),
        "nextResponseDue": timestamp(summary.next_response_due),
        "resolutionDue": timestamp(summary.resolution_due),
        "due": timestamp(summary.due),
        "breached": summary.breached,
    }


def comment_out(comment: "ThreadComment", ticket: Ticket, files: list[Any] = ()) -> dict[str, Any]:
    """A comment with where it came from (web, api, email) and the files it carries."""
    body = {"id": comment.id, "ticketId": ticket.human_id, "description": comment.body}
    body |= {"userHumanId": comment.author_hid, "internal": comment.internal}
    extra = {"channel": comment.channel, "attachments": [attachment_out(file) for file in files]}
    return _dated(comment, body) | extra


def attribute_out(row: TicketAttribute) -> dict[str, Any]:
    body = {"id": row.id, "key": row.key, "value": row.value, "type": row.type, "enabled": row.enabled}
    return _dated(row, body, updated=False)


def event_out(event: Event) -> dict[str, Any]:
    body = {"id": event.id, "key": event.key, "value": event.value, "target": event.target}
    return _dated(event, body, updated=False)


# --- Documented response shapes (the OpenAPI document; schemathesis checks responses against them) ---


class StateOut(BaseModel):
    id: int
    description: str
    type: int
    dateCreated: str
    dateUpdated: str
    resolves: bool = Field(description="A ticket in this state counts as resolved (states only).")
    pausesSla: bool = Field(description="A ticket's SLA clocks stop while it is in this state (states only).")


class GroupOut(BaseModel):
    id: int
    name: str
    dateCreated: str
    dateUpdated: str
    assignment: AssignmentModeName | None = Field(
        None, description="Extra field (the /groups routes): how new tickets are assigned."
    )
    members: list[int] | None = Field(
        None, description="Extra field (the /groups routes): members' user ids."
    )


class UserOut(BaseModel):
    id: int
    humanId: str | None = None
    organisationId: str | None = None
    email: str
    name: str
    phoneNumber: int | str | None = None
    admin: bool
    agent: bool
    available: bool | None = Field(
        None, description="Extra field: whether assignment rules give them tickets."
    )
    capacity: int | None = Field(None, description="Extra field: the most open tickets a rule assigns them.")


class AgentBriefOut(BaseModel):
    """The assignee as a customer sees it."""

    id: int
    name: str


class OrganisationAttributesOut(BaseModel):
    legalName: str
    name: str
    role: str


class OrganisationOut(BaseModel):
    type: Literal["organisations"]
    id: str
    attributes: OrganisationAttributesOut


class AttachmentLinksOut(BaseModel):
    download: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    contentType: str = Field(description="Sniffed from the file's bytes, never taken from the client.")
    size: int
    links: AttachmentLinksOut


class TicketLinksOut(BaseModel):
    self: str
    comments: str


class SlaOut(BaseModel):
    """Issue 17: the ticket's service level; dates as dateCreated, null without a policy or target."""

    policy: str | None = Field(description="The SLA policy that applies, or null.")
    firstResponseDue: str | None
    firstResponseAt: str | None = Field(
        description="The first public reply by an agent (with or without policy)."
    )
    nextResponseDue: str | None = Field(description="Due while a customer's message waits for an answer.")
    resolutionDue: str | None
    due: str | None = Field(description="The earliest due among the clocks running now (null when paused).")
    breached: bool


class TicketOut(BaseModel):
    id: str
    organisationHumanId: str
    contractHumanId: str
    tenantHumanId: str
    title: str
    description: str
    reporterHumanId: str
    links: TicketLinksOut
    dateCreated: str
    dateUpdated: str
    buyer: OrganisationOut | None
    consumer: OrganisationOut | None
    state: StateOut | None
    type: StateOut | None
    priority: StateOut | None
    stage: StateOut | None
    outcome: StateOut | None
    group: GroupOut | None
    assignee: UserOut | AgentBriefOut | None
    dateResolved: str | None
    version: int
    attachments: list[AttachmentOut] = Field(
        default_factory=list,
        description="One ticket only (GET /tickets/{id}): every file on it the caller may see, the "
        "description's and the comments'.",
    )
    tags: list[str] | None = None  # agents only (issue 16)
    sla: SlaOut | None = Field(default=None, description="Agents only, GET /tickets/{id} (issue 17).")


class CommentOut(BaseModel):
    id: int
    ticketId: str
    description: str
    userHumanId: str
    internal: bool
    dateCreated: str
    dateUpdated: str
    channel: Literal["web", "api", "email"]
    attachments: list[AttachmentOut]


class AttributeOut(BaseModel):
    id: int
    key: str
    value: str
    type: str
    enabled: bool
    dateCreated: str


class EventOut(BaseModel):
    id: int
    key: str
    value: str
    target: str
    dateCreated: str


class ReportRowOut(BaseModel):
    ticketNumber: str
    customer: str
    buyer: str
    ticketDescription: str
    priority: str
    category: str
    serviceImpact: str
    outcome: str
    status: str
    primaryContactName: str
    primaryContactEmail: str
    createdAt: str
    resolutionDate: str
    assigned: str
    slaAssignedTime: str
    ticketRunTime: str


class ErrorOut(BaseModel):
    """The error shape of every 4xx (DECISIONS 3)."""

    title: str
    message: str
    errors: dict[str, list[str]] = Field(
        default_factory=dict, description="For invalid input: each field's path and what is wrong with it."
    )


class PageLinksOut(BaseModel):
    next: str | None


class TicketPageOut(BaseModel):
    data: list[TicketOut]
    links: PageLinksOut


def envelope(name: str, inner: Any) -> type[BaseModel]:
    """`{"data": inner}` as a named model for the OpenAPI document."""
    from pydantic import create_model

    return create_model(name, data=(inner, ...))
