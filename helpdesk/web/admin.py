"""Admin screens: users and their API tokens, groups and membership, the state catalogue, organisations.

Plain forms that post and redirect (no htmx): rare, deliberate changes that read best as whole pages."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from quart import Blueprint, Response, abort, current_app, redirect, request, url_for

from helpdesk.errors import Conflict, Forbidden, Invalid
from helpdesk.models import StateKind
from helpdesk.services import admin, catalog, organisations, users
from helpdesk.web.auth import current_user, to_sign_in
from helpdesk.web.forms import (
    CsrfForm,
    MemberForm,
    NameForm,
    NewUserForm,
    OrganisationForm,
    StateForm,
    UserForm,
    check_csrf,
    one_line,
    submit,
)
from helpdesk.web.pages import form_status, render

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
async def admins_only() -> Response | None:
    """Every admin screen: signed in, and an admin (agents get 403; services check again)."""
    user = await current_user()
    if user is None:
        return to_sign_in()
    if not user.admin:
        abort(403, "Only admins open the admin screens.")
    return None


# Each screen's GET handler also shows it again after a post that did not go through: the form
# with its errors and the status (Quart never passes these, the routes have no such variables).
Screen = Callable[[Any, int], Awaitable[Any]]


async def save_form(form: CsrfForm, call: Callable[[], Awaitable[Any]], done: str, again: Screen) -> Any:
    """Submit the form and redirect to `done`; a form error or a service's refusal (a conflict,
    a forbidden change, an invalid value) shows the screen again with it."""
    outcome = await submit(form, call, Conflict, Forbidden, Invalid)
    return await again(form, outcome.status) if outcome.refused else redirect(done, 303)


async def screen(template: str, status: int = 200, **context: Any) -> tuple[str, int, dict[str, str]]:
    """An admin page; never cached, since some show secrets once."""
    return await render(template, **context), status, {"Cache-Control": "no-store"}


# --- users ----------------------------------------------------------------------------------


@bp.get("/")
@bp.get("/users")
async def users_list(form: NewUserForm | None = None, status: int = 200):
    """Everyone, and a form to add a user."""
    people = await admin.list_users(actor=await current_user())
    return await screen("admin/users.html", status, people=people, form=form or NewUserForm())


@bp.post("/users")
async def create_user():
    """Add a user and email them an invitation to choose their own password."""
    form = await NewUserForm.from_request()
    data = {k: v for k, v in form.data.items() if k != "csrf_token"}
    invite = partial(users.invite_user, **data, actor=await current_user(), config=current_app.config)
    return await save_form(form, invite, url_for("admin.users_list"), users_list)


@bp.get("/users/<int:user_id>")
async def user(
    user_id: int, form: UserForm | None = None, status: int = 200, new_token: str = "", error: str = ""
):
    """One user: details and flags, API tokens, deactivation."""
    actor = await current_user()
    person = await users.get_user(user_id=user_id, actor=actor)
    context = {"person": person, "form": form or UserForm(obj=person), "new_token": new_token, "error": error}
    context["invited"] = request.args.get("invited") == "1"
    context |= {"tokens": await admin.list_tokens(user_id=user_id, actor=actor), "action": CsrfForm()}
    return await screen("admin/user.html", status, **context)


@bp.post("/users/<int:user_id>")
async def update_user(user_id: int):
    """Save a user's details and flags."""
    form = await UserForm.from_request()
    changes = {k: v for k, v in form.data.items() if k != "csrf_token"}
    changes["organisation_hid"] = changes["organisation_hid"] or None
    actor, config = await current_user(), current_app.config
    update = partial(users.update_user, user_id=user_id, changes=changes, actor=actor, config=config)
    done = url_for("admin.user", user_id=user_id)
    return await save_form(form, update, done, lambda form, status: user(user_id, form, status))


@bp.post("/users/<int:user_id>/deactivate")
async def deactivate_user(user_id: int):
    """Deactivate: sign-in, sessions and tokens stop working; history keeps the name."""
    await check_csrf()
    await users.deactivate_user(user_id=user_id, actor=await current_user())
    return redirect(url_for("admin.user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/invitation")
async def send_invitation(user_id: int):
    """Email the user a new link to choose a password (a lost invitation, a forgotten password)."""
    await check_csrf()
    await users.send_invitation(user_id=user_id, actor=await current_user(), config=current_app.config)
    return redirect(url_for("admin.user", user_id=user_id, invited=1), 303)


@bp.post("/users/<int:user_id>/tokens")
async def create_token(user_id: int):
    """Issue an API token and show it this once (it is stored only as a digest)."""
    actor, form = await current_user(), await NameForm.from_request()
    if not form.validate():
        return await user(user_id, status=form_status(form), error=one_line(form))
    person = await users.get_user(user_id=user_id, actor=actor)
    token = await users.create_token(user=person, name=form.name.data, actor=actor)
    return await user(user_id, status=201, new_token=token)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
async def revoke_token(user_id: int, token_id: int):
    """Revoke an API token at once."""
    await check_csrf()
    await admin.revoke_token(user_id=user_id, token_id=token_id, actor=await current_user())
    return redirect(url_for("admin.user", user_id=user_id), 303)


# --- groups ---------------------------------------------------------------------------------


@bp.get("/groups")
async def groups(form: NameForm | None = None, status: int = 200, error: str = ""):
    """Groups with their members; add groups and members."""
    actor = await current_user()
    context = {"groups": await admin.list_groups(actor=actor), "agents": await users.list_agents(actor=actor)}
    context["error"] = error
    return await screen("admin/groups.html", status, form=form or NameForm(), action=CsrfForm(), **context)


@bp.post("/groups")
async def create_group():
    """Add a group."""
    form = await NameForm.from_request()
    create = partial(admin.create_group, name=form.name.data, actor=await current_user())
    return await save_form(form, create, url_for("admin.groups"), groups)


@bp.post("/groups/<int:group_id>/members")
async def add_member(group_id: int):
    """Put an agent in the group."""
    form = await MemberForm.from_request()
    add = partial(admin.add_member, group_id=group_id, user_id=form.user.data, actor=await current_user())
    return await save_form(form, add, url_for("admin.groups"), member_refused)


async def member_refused(form: MemberForm, status: int):
    """The groups again after an agent was not added: each group has its own small form, so what
    went wrong shows once above them all."""
    return await groups(status=status, error=one_line(form))


@bp.post("/groups/<int:group_id>/members/<int:user_id>/remove")
async def remove_member(group_id: int, user_id: int):
    """Take an agent out of the group."""
    form = await CsrfForm.from_request()
    if form.validate():
        await admin.remove_member(group_id=group_id, user_id=user_id, actor=await current_user())
        return redirect(url_for("admin.groups"), 303)
    return await groups(status=400)


# --- state catalogue ------------------------------------------------------------------------


@bp.get("/states")
async def states(form: StateForm | None = None, status: int = 200):
    """The catalogue by kind; rename, reorder, add."""
    catalogue = await catalog.list_states()
    return await screen(
        "admin/states.html", status, states=catalogue, kinds=StateKind, form=form or StateForm()
    )


@bp.post("/states", defaults={"state_id": None})
@bp.post("/states/<int:state_id>")
async def save_state(state_id: int | None):
    """Add a catalogue entry, or change one."""
    form = await StateForm.from_request()
    values = {k: form[k].data for k in ("description", "closes", "kind")} | {
        "position": form.position.data or 0
    }
    save = partial(admin.save_state, **values, state_id=state_id, actor=await current_user())
    return await save_form(form, save, url_for("admin.states"), states)


# --- organisations --------------------------------------------------------------------------


@bp.get("/organisations")
async def organisations_list(form: OrganisationForm | None = None, status: int = 200):
    """The organisation directory; add or change an entry by its ID."""
    directory = await admin.list_organisations(actor=await current_user())
    return await screen(
        "admin/organisations.html", status, organisations=directory, form=form or OrganisationForm()
    )


@bp.post("/organisations")
async def save_organisation():
    """Create an organisation, or update the one with this ID."""
    form = await OrganisationForm.from_request()
    values = {k: form[k].data for k in ("human_id", "legal_name", "name", "role")}
    values["parent_hid"] = form.parent.data or None
    save = partial(organisations.save_organisation, **values, actor=await current_user())
    return await save_form(form, save, url_for("admin.organisations_list"), organisations_list)
