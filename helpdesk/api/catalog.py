"""Groups and the state catalogue (DECISIONS 24-26); admins create and change groups and the
catalogue (extra routes, issue 17)."""

from quart import Response, g
from quart_schema import document_querystring

from helpdesk.api.admin_schemas import StateCreate, StateUpdate, state_values
from helpdesk.api.blueprint import api
from helpdesk.api.http import empty, json_body, query_args
from helpdesk.api.openapi import documents
from helpdesk.api.schemas import (
    GroupCreate,
    GroupOut,
    GroupUpdate,
    StateOut,
    StateQuery,
    envelope,
    group_full_out,
    state_out,
)
from helpdesk.models import StateKind
from helpdesk.services import admin, catalog

GroupEnvelope = envelope("GroupEnvelope", GroupOut)


@api.get("/groups")
@documents(200, envelope("GroupListEnvelope", list[GroupOut]))
async def list_groups() -> dict:
    """Every agent group, with the extra fields `assignment` and `members`."""
    groups = await catalog.list_groups(actor=g.user)
    members = await catalog.group_members(group_ids=[group.id for group in groups], actor=g.user)
    return {"data": [group_full_out(group, members.get(group.id, [])) for group in groups]}


@api.get("/groups/<int:group_id>")
@documents(200, GroupEnvelope)
async def get_group(group_id: int) -> dict:
    """One agent group, with the extra fields `assignment` and `members`."""
    group = await catalog.get_group(group_id=group_id, actor=g.user)
    members = await catalog.group_members(group_ids=[group.id], actor=g.user)
    return {"data": group_full_out(group, members.get(group.id, []))}


@api.post("/groups")
@documents(201, GroupEnvelope)
@json_body(GroupCreate)
async def create_group(data: GroupCreate) -> tuple[dict, int, dict[str, str]]:
    """Extra route (admins; others 403): a new group, its assignment mode and members. 201 with
    `Location: <id>` and the group."""
    group = await admin.create_group(
        name=data.name, assignment=data.assignment, members=data.members, actor=g.user
    )
    return {"data": group_full_out(group, sorted(set(data.members)))}, 201, {"Location": str(group.id)}


@api.patch("/groups/<int:group_id>")
@documents(200, GroupEnvelope)
@json_body(GroupUpdate)
async def update_group(group_id: int, data: GroupUpdate) -> dict:
    """Extra route (admins; others 403): rename, replace the members, or change the assignment mode."""
    changes = admin.GroupChanges(**{key: getattr(data, key) for key in data.model_fields_set})
    group = await admin.update_group(group_id=group_id, changes=changes, actor=g.user)
    return {"data": group_full_out(group, sorted(member.user_id for member in group.members))}


@api.get("/states")
@api.get("/states/")
@documents(200, envelope("StateListEnvelope", list[StateOut]))
@document_querystring(StateQuery)
async def list_states() -> dict:
    """The catalogue, all of it or one kind (`?type=state|type|priority|stage|outcome`)."""
    kind = catalog.STATE_TYPES[query_args(StateQuery).type]
    return {"data": [state_out(state) for state in await catalog.list_states(kind=kind)]}


@api.post("/states")
@documents(201, location=True)
@json_body(StateCreate)
async def create_state(data: StateCreate) -> Response:
    """Add a catalogue entry (admins only); 201 with `Location: <id>`."""
    values = {"description": data.description, "position": data.position, "closes": data.resolves}
    values |= {"pauses_sla": data.pausesSla, "kind": StateKind(data.type)}
    state = await admin.save_state(**values, state_id=None, actor=g.user)
    return empty(201, str(state.id))


@api.patch("/states/<int:state_id>")
@documents(204)
@json_body(StateUpdate)
async def update_state(state_id: int, data: StateUpdate) -> Response:
    """Change the fields sent of a catalogue entry (admins only); its type never changes. 204."""
    await admin.update_state(state_id=state_id, changes=state_values(data), actor=g.user)
    return empty(204)
