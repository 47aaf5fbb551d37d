"""Tickets, their comments and attributes (DECISIONS 16-23)."""

from urllib.parse import urlencode

from quart import Response, g, request
from quart_schema import document_querystring

from helpdesk.api.blueprint import api
from helpdesk.api.http import empty, idempotency_key, json_body, query_args
from helpdesk.api.openapi import documents, takes_idempotency_key
from helpdesk.api.schemas import (
    AttributeOut,
    CommentCreate,
    CommentOut,
    TicketAttributesIn,
    TicketCreate,
    TicketMerge,
    TicketOut,
    TicketPageOut,
    TicketQuery,
    TicketUpdate,
    attribute_out,
    comment_out,
    envelope,
    sla_out,
    tickets_out,
)
from helpdesk.services import attachments, sla, tags, ticket_links, tickets, timeline
from helpdesk.services.ticket_fields import CLASSIFIED, LINKS, TicketFilters
from helpdesk.services.tickets import Contacts, NewTicket, TicketChanges
from helpdesk.services.values import SINGLE_KEYS

TEXT = {
    "organisationHumanId": "organisation_hid",
    "contractHumanId": "contract_hid",
    "tenantHumanId": "tenant_hid",
    "reporterHumanId": "reporter_hid",
    "title": "title",
    "description": "description",
}
# The API's attribute name -> the Contacts field: the single keys, and the additional emails as a list.
CONTACT_FIELDS = {key.value: key.field for key in SINGLE_KEYS} | {"additionalEmails": "additional_emails"}


def _contacts(attributes: TicketAttributesIn) -> Contacts:
    return Contacts(**{name: getattr(attributes, key) for key, name in CONTACT_FIELDS.items()})


def _filters(query: TicketQuery) -> TicketFilters:
    return TicketFilters(
        **{name: getattr(query, name) for name in (*LINKS, "q")},
        organisation=query.organisation,
        reporter=query.reporter,
        created_from=query.createdFrom,
        created_to=query.createdTo,
        updated_since=query.updatedSince,
        tag=tags.filter_name(query.tag) if query.tag else None,
    )


def _tags_out(rows: list, user) -> dict[int, list[str]] | None:
    """Each ticket's tags for agents (an agent's page reads them with its rows, services/ticket_queries
    `_listed`); customers' tickets carry no `tags`."""
    return {row.id: row.tags or [] for row in rows} if user.is_staff else None


@api.get("/tickets")
@documents(200, TicketPageOut)
@document_querystring(TicketQuery)
async def list_tickets() -> dict:
    """A page of tickets, newest first, with `links.next` while there are more."""
    query = query_args(TicketQuery)
    page = await tickets.list_tickets(
        actor=g.user, filters=_filters(query), limit=query.limit, cursor=query.cursor, sort=query.sort
    )
    next_link = None
    if page.next_cursor:
        args = request.args.to_dict() | {"cursor": page.next_cursor}
        next_link = f"/tickets?{urlencode(args)}"
    return {
        "data": tickets_out(page.tickets, page.related, g.user, _tags_out(page.tickets, g.user)),
        "links": {"next": next_link},
    }


@api.post("/tickets")
@documents(201, location=True)
@takes_idempotency_key
@json_body(TicketCreate)
async def create_ticket(data: TicketCreate) -> Response:
    """Open a ticket; 201 with `Location: INC-<n>`. `Idempotency-Key` makes retries safe."""
    new = NewTicket(
        **{name: getattr(data, key) for key, name in TEXT.items()},
        contacts=_contacts(data.attributes) if data.attributes else None,
        classification={k: getattr(data, k) for k in CLASSIFIED if getattr(data, k) is not None},
        group_id=data.group,
        assignee_id=data.assignee,
    )
    ticket = await tickets.create_ticket(data=new, actor=g.user, idempotency_key=idempotency_key())
    return empty(201, ticket.human_id)


@api.get("/tickets/<ticket_id>")
@documents(200, envelope("TicketEnvelope", list[TicketOut]))
async def get_ticket(ticket_id: str) -> dict:
    """One ticket, as an array of one (as documented)."""
    ticket, holds = await tickets.read_detail(human_id=ticket_id, actor=g.user)
    tagged = {ticket.id: holds.tags} if g.user.is_staff else None  # customers' carry no `tags`
    out = tickets_out([ticket], await tickets.related_for([ticket]), g.user, tagged)
    files = await attachments.listed_for_ticket(ticket=ticket, actor=g.user) if holds.files else {}
    out[0]["attachments"] = [attachments.attachment_out(file) for some in files.values() for file in some]
    if (service_level := await sla.summary(ticket=ticket, actor=g.user)) is not None:
        out[0]["sla"] = sla_out(service_level)
    return {"data": out}


@api.patch("/tickets/<ticket_id>")
@documents(204, location=True)
@json_body(TicketUpdate)
async def update_ticket(ticket_id: str, data: TicketUpdate) -> Response:
    """Partial update; 204 with `Location`. A stale `version` is 409."""
    given = data.model_fields_set
    values = {TEXT[key]: getattr(data, key) for key in given & set(TEXT) if getattr(data, key) is not None}
    values |= {key: getattr(data, key) for key in given & set(LINKS)}
    changes = TicketChanges(values=values)
    if data.attributes is not None:
        changes.contacts = _contacts(data.attributes)
        changes.contact_keys = {CONTACT_FIELDS[key] for key in data.attributes.model_fields_set}
    ticket = await tickets.update_ticket(
        human_id=ticket_id, changes=changes, actor=g.user, expected_version=data.version
    )
    if data.tags is not None:
        await tags.set_tags(ticket_id=ticket.human_id, names=data.tags, actor=g.user)
    return empty(204, ticket.human_id)


@api.delete("/tickets/<ticket_id>")
@documents(202)
async def delete_ticket(ticket_id: str) -> Response:
    """Soft-delete a ticket; 202."""
    await tickets.delete_ticket(human_id=ticket_id, actor=g.user)
    return empty(202)


@api.post("/tickets/<ticket_id>/merge")
@documents(204, location=True)
@json_body(TicketMerge)
async def merge_ticket(ticket_id: str, data: TicketMerge) -> Response:
    """Merge this ticket (a duplicate) into `into`: its comments and contacts move, it is resolved
    with a link to the target; 204 with `Location` of the target. 422 into itself, a missing or
    deleted ticket, or another organisation's."""
    target = await ticket_links.merge_ticket(human_id=ticket_id, into=data.into, actor=g.user)
    return empty(204, target.human_id)


@api.post("/tickets/<ticket_id>")
@documents(201, location=True)
@takes_idempotency_key
@json_body(CommentCreate)
async def create_comment(ticket_id: str, data: CommentCreate) -> Response:
    """Comment on the ticket the URL names; 201 with `Location: <comment id>`. `Idempotency-Key`
    makes retries safe."""
    comment = await tickets.post_comment(
        human_id=ticket_id, body=data.description, actor=g.user, internal=data.internal,
        on_behalf_of=data.userHumanId, idempotency_key=idempotency_key(), channel="api",
        attachment_ids=data.attachmentIds,
        seen_through=data.seenThrough, send_anyway=data.sendAnyway,
    )  # fmt: skip
    return empty(201, str(comment.id))


@api.get("/tickets/<ticket_id>/comments")
@documents(200, envelope("CommentListEnvelope", list[CommentOut]))
async def list_comments(ticket_id: str) -> dict:
    """The ticket's comments, oldest first (customers never see internal notes)."""
    ticket = await tickets.load(human_id=ticket_id, actor=g.user)
    thread = await timeline.thread_of(ticket=ticket, actor=g.user)
    files = await attachments.listed_for_ticket(ticket=ticket, actor=g.user)
    return {"data": [comment_out(comment, ticket, files.get(comment.id, [])) for comment in thread]}


@api.get("/tickets/<ticket_id>/attributes")
@documents(200, envelope("AttributeListEnvelope", list[AttributeOut]))
async def list_attributes(ticket_id: str) -> dict:
    """The ticket's attribute rows, contacts among them."""
    rows = await tickets.list_attributes(human_id=ticket_id, actor=g.user)
    return {"data": [attribute_out(row) for row in rows]}
