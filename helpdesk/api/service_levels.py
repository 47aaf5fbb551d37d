"""Business-hours calendars and SLA policies, managed by admins (issue 17; beyond the blueprint)."""

from quart import Response, g

from helpdesk.api.admin_schemas import (
    CalendarCreate,
    CalendarOut,
    CalendarUpdate,
    PolicyCreate,
    PolicyOut,
    PolicyUpdate,
    calendar_out,
    calendar_values,
    policy_out,
    policy_values,
)
from helpdesk.api.blueprint import api
from helpdesk.api.http import empty, json_body
from helpdesk.api.openapi import documents
from helpdesk.api.schemas import envelope
from helpdesk.services import sla_admin


@api.get("/calendars")
@documents(200, envelope("CalendarListEnvelope", list[CalendarOut]))
async def list_calendars() -> dict:
    """Every calendar with its holidays (admins only)."""
    return {"data": [calendar_out(c) for c in await sla_admin.list_calendars(actor=g.user)]}


@api.post("/calendars")
@documents(201, location=True)
@json_body(CalendarCreate)
async def create_calendar(data: CalendarCreate) -> Response:
    """Add a calendar (admins only); 201 with `Location: <id>`. Unreadable `hours` or an unknown
    `timeZone` is 422; a name already taken 409."""
    values = calendar_values(data)
    calendar = await sla_admin.create_calendar(**values, actor=g.user)
    return empty(201, str(calendar.id))


@api.get("/calendars/<int:calendar_id>")
@documents(200, envelope("CalendarEnvelope", CalendarOut))
async def get_calendar(calendar_id: int) -> dict:
    """One calendar with its holidays (admins only)."""
    return {"data": calendar_out(await sla_admin.get_calendar(calendar_id=calendar_id, actor=g.user))}


@api.patch("/calendars/<int:calendar_id>")
@documents(204)
@json_body(CalendarUpdate)
async def update_calendar(calendar_id: int, data: CalendarUpdate) -> Response:
    """Change the fields sent (admins only); `holidays` replaces the whole list. 204."""
    await sla_admin.update_calendar(calendar_id=calendar_id, changes=calendar_values(data), actor=g.user)
    return empty(204)


@api.delete("/calendars/<int:calendar_id>")
@documents(204)
async def delete_calendar(calendar_id: int) -> Response:
    """Delete a calendar (admins only); 409 while a policy uses it. 204."""
    await sla_admin.delete_calendar(calendar_id=calendar_id, actor=g.user)
    return empty(204)


@api.get("/sla-policies")
@documents(200, envelope("PolicyListEnvelope", list[PolicyOut]))
async def list_sla_policies() -> dict:
    """Every policy in the order they are tried, first first (admins only)."""
    return {"data": [policy_out(p) for p in await sla_admin.list_policies(actor=g.user)]}


@api.post("/sla-policies")
@documents(201, location=True)
@json_body(PolicyCreate)
async def create_sla_policy(data: PolicyCreate) -> Response:
    """Add a policy (admins only); 201 with `Location: <id>`. Naming a calendar, state, group or
    organisation that does not exist is 422."""
    policy = await sla_admin.create_policy(values=policy_values(data), actor=g.user)
    return empty(201, str(policy.id))


@api.get("/sla-policies/<int:policy_id>")
@documents(200, envelope("PolicyEnvelope", PolicyOut))
async def get_sla_policy(policy_id: int) -> dict:
    """One policy (admins only)."""
    return {"data": policy_out(await sla_admin.get_policy(policy_id=policy_id, actor=g.user))}


@api.patch("/sla-policies/<int:policy_id>")
@documents(204)
@json_body(PolicyUpdate)
async def update_sla_policy(policy_id: int, data: PolicyUpdate) -> Response:
    """Change the fields sent (admins only); `conditions` and `targets` are replaced whole. 204."""
    await sla_admin.update_policy(policy_id=policy_id, changes=policy_values(data), actor=g.user)
    return empty(204)


@api.delete("/sla-policies/<int:policy_id>")
@documents(204)
async def delete_sla_policy(policy_id: int) -> Response:
    """Delete a policy (admins only). 204."""
    await sla_admin.delete_policy(policy_id=policy_id, actor=g.user)
    return empty(204)
