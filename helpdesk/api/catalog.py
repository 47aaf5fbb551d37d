"""Groups and the state catalogue (DECISIONS 24-26)."""

from quart import g
from quart_schema import document_querystring

from helpdesk.api.blueprint import api
from helpdesk.api.http import query_args
from helpdesk.api.openapi import documents
from helpdesk.api.schemas import GroupOut, StateOut, StateQuery, envelope, group_out, state_out
from helpdesk.services import catalog


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
