"""Groups and the state catalogue (DECISIONS 24-26); admins change the catalogue (issue 17)."""

from quart import Response, g
from quart_schema import document_querystring

from helpdesk.api.admin_schemas import StateCreate, StateUpdate, state_values
from helpdesk.api.blueprint import api
from helpdesk.api.http import empty, json_body, query_args
from helpdesk.api.openapi import documents
from helpdesk.api.schemas import GroupOut, StateOut, StateQuery, envelope, group_out, state_out
from helpdesk.models import StateKind
from helpdesk.services import admin, catalog


@api.get("/groups")
@documents(200, envelope("GroupListEnvelope", list[GroupOut]))
async def list_groups() -> dict:
    """Every agent group."""
    return {"data": [group_out(group) for group in await catalog.list_groups(actor=g.user)]}


@api.get("/groups/<int:group_id>")
@documents(200, envelope("GroupEnvelope", GroupOut))
async def get_group(group_id: int) -> dict:
    """One agent group."""
    return {"data": group_out(await catalog.get_group(group_id=group_id, actor=g.user))}


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
