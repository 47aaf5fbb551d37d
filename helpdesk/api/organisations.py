"""The organisation directory, managed by admins (issue 17; beyond the blueprint)."""

from quart import Response, g

from helpdesk.api.admin_schemas import (
    DirectoryEntryOut,
    OrganisationCreate,
    OrganisationUpdate,
    directory_entry_out,
    organisation_values,
)
from helpdesk.api.blueprint import api
from helpdesk.api.http import empty, json_body
from helpdesk.api.openapi import documents
from helpdesk.api.schemas import envelope
from helpdesk.services import admin, organisations


@api.get("/organisations")
@documents(200, envelope("DirectoryEnvelope", list[DirectoryEntryOut]))
async def list_organisations() -> dict:
    """The directory by name (admins only)."""
    return {"data": [directory_entry_out(o) for o in await admin.list_organisations(actor=g.user)]}


@api.get("/organisations/<human_id>")
@documents(200, envelope("DirectoryEntryEnvelope", DirectoryEntryOut))
async def get_organisation(human_id: str) -> dict:
    """One directory entry by its human ID (admins only)."""
    return {
        "data": directory_entry_out(await organisations.get_organisation(human_id=human_id, actor=g.user))
    }


@api.post("/organisations")
@documents(201, location=True)
@json_body(OrganisationCreate)
async def create_organisation(data: OrganisationCreate) -> Response:
    """Add an organisation (admins only); 201 with `Location: <its human ID>`, 409 if the ID is taken."""
    created = await organisations.create_organisation(
        human_id=data.id, values=organisation_values(data, sent_only=False), actor=g.user
    )
    return empty(201, created.human_id)


@api.patch("/organisations/<human_id>")
@documents(204)
@json_body(OrganisationUpdate)
async def update_organisation(human_id: str, data: OrganisationUpdate) -> Response:
    """Change the fields sent (admins only); 204. The human ID never changes."""
    changes = organisation_values(data)
    await organisations.update_organisation(human_id=human_id, changes=changes, actor=g.user)
    return empty(204)
