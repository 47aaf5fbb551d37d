"""Users: the logged-in user, agents, and admin management (DECISIONS 9-15)."""

from quart import Response, current_app, g

from helpdesk.api.blueprint import api
from helpdesk.api.http import empty, idempotency_key, json_body
from helpdesk.api.openapi import documents, takes_idempotency_key
from helpdesk.api.schemas import UserCreate, UserOut, UserUpdate, envelope, user_out
from helpdesk.services import users

USER_FIELDS = {
    "email": "email", "name": "name", "phoneNumber": "phone", "admin": "admin", "agent": "agent",
    "available": "available", "capacity": "capacity",
}  # fmt: skip
CLEARED_BY_NULL = {"phoneNumber", "capacity"}  # null: no phone number, no capacity limit


@api.get("/users")
@documents(200, envelope("UserEnvelope", UserOut))
async def get_logged_in_user() -> dict:
    """The user the token belongs to."""
    return {"data": user_out(g.user)}


@api.get("/users/agents")
@documents(200, envelope("UserListEnvelope", list[UserOut]))
async def get_agents() -> dict:
    """Active agents (staff only)."""
    return {"data": [user_out(agent) for agent in await users.list_agents(actor=g.user)]}


@api.post("/users")
@documents(201, location=True)
@takes_idempotency_key
@json_body(UserCreate)
async def create_user(data: UserCreate) -> Response:
    """Create a user (admins only: anyone else gets 403); 201 with `Location: <id>`.
    `Idempotency-Key` makes retries safe."""
    user = await users.create_user(
        email=data.email, name=data.name, phone=data.phoneNumber, admin=data.admin, agent=data.agent,
        human_id=data.humanId, organisation_hid=data.organisationId, actor=g.user,
        idempotency_key=idempotency_key(),
    )  # fmt: skip
    return empty(201, str(user.id))


@api.patch("/users/<int:user_id>")
@documents(202)
@json_body(UserUpdate)
async def update_user(user_id: int, data: UserUpdate) -> Response:
    """Partial update: own name, phone and `available`; one's own new email is confirmed by an emailed
    link first. Admins also change the flags, `capacity` and other users' emails. 202."""
    # null clears the phone number and the capacity; for the other fields it means "unchanged".
    given = {key: getattr(data, key) for key in data.model_fields_set}
    changes = {USER_FIELDS[k]: v for k, v in given.items() if v is not None or k in CLEARED_BY_NULL}
    await users.update_user(
        user_id=user_id, changes=changes, actor=g.user, active_only=True, config=current_app.config
    )
    return empty(202)


@api.delete("/users/<int:user_id>")
@documents(202)
async def delete_user(user_id: int) -> Response:
    """Deactivate a user (admins only). 202."""
    await users.deactivate_user(user_id=user_id, actor=g.user)
    return empty(202)
