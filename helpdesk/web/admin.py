"""Admin screens: users and their API tokens, groups and membership, the state catalogue, organisations.

Plain forms that post and redirect (no htmx): rare, deliberate changes that read best as whole pages."""

from collections.abc import Awaitable
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
        abort(403)
    return None


async def attempt(form: CsrfForm, action: Awaitable[Any]) -> bool:
    """Run a service call; a conflict or invalid value becomes a message on the form."""
    try:
        await action
    except (Conflict, Forbidden, Invalid) as error:
        form.form_errors.append(error.message)
        form.refusal_status = error.status
        return False
    return True


def refusal(form: CsrfForm) -> str:
    """Everything wrong with a small form, as one line for the page's alert."""
    return " ".join([*form.form_errors, *(e for errors in form.errors.values() for e in errors)])


def failed(form: CsrfForm) -> int:
    """400 for a failed CSRF check, 422 for field errors, else the service's refusal (409, 422)."""
    return getattr(form, "refusal_status", None) or form_status(form)


async def screen(template: str, status: int = 200, **context: Any) -> tuple[str, int, dict[str, str]]:
    """An admin page; never cached, since some show secrets once."""
    return await render(template, **context), status, {"Cache-Control": "no-store"}


# --- users ----------------------------------------------------------------------------------


async def users_screen(form: NewUserForm | None = None, status: int = 200):
    people = await admin.list_users(actor=await current_user())
    return await screen("admin/users.html", status, people=people, form=form or NewUserForm())


@bp.get("/")
@bp.get("/users")
async def users_list():
    """Everyone, and a form to add a user."""
    return await users_screen()


@bp.post("/users")
async def create_user():
    """Add a user and email them an invitation to choose their own password."""
    form = await NewUserForm.from_request()
    if form.validate():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        invite = users.invite_user(**data, actor=await current_user(), config=current_app.config)
        if await attempt(form, invite):
            return redirect(url_for("admin.users_list"), 303)
    return await users_screen(form, failed(form))


async def user_screen(
    user_id: int, form: UserForm | None = None, status: int = 200, new_token: str = "", error: str = ""
):
    actor = await current_user()
    person = await users.get_user(user_id=user_id, actor=actor)
    context = {"person": person, "form": form or UserForm(obj=person), "new_token": new_token, "error": error}
    context["invited"] = request.args.get("invited") == "1"
    context |= {"tokens": await admin.list_tokens(user_id=user_id, actor=actor), "action": CsrfForm()}
    return await screen("admin/user.html", status, **context)


@bp.get("/users/<int:user_id>")
async def user(user_id: int):
    """One user: details and flags, API tokens, deactivation."""
    return await user_screen(user_id)


@bp.post("/users/<int:user_id>")
async def update_user(user_id: int):
    """Save a user's details and flags."""
    form = await UserForm.from_request()
    changes = {k: v for k, v in form.data.items() if k != "csrf_token"}
    changes["organisation_hid"] = changes["organisation_hid"] or None
    actor = await current_user()
    if form.validate() and await attempt(
        form, users.update_user(user_id=user_id, changes=changes, actor=actor, config=current_app.config)
    ):
        return redirect(url_for("admin.user", user_id=user_id), 303)
    return await user_screen(user_id, form, failed(form))


@bp.post("/users/<int:user_id>/deactivate")
async def deactivate_user(user_id: int):
    """Deactivate: sign-in, sessions and tokens stop working; history keeps the name."""
    if not (await CsrfForm.from_request()).validate():
        abort(400, "Your session expired. Reload the page and try again.")
    await users.deactivate_user(user_id=user_id, actor=await current_user())
    return redirect(url_for("admin.user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/invitation")
async def send_invitation(user_id: int):
    """Email the user a new link to choose a password (a lost invitation, a forgotten password)."""
    if not (await CsrfForm.from_request()).validate():
        abort(400, "Your session expired. Reload the page and try again.")
    await users.send_invitation(user_id=user_id, actor=await current_user(), config=current_app.config)
    return redirect(url_for("admin.user", user_id=user_id, invited=1), 303)


@bp.post("/users/<int:user_id>/tokens")
async def create_token(user_id: int):
    """Issue an API token and show it this once (it is stored only as a digest)."""
    actor, form = await current_user(), await NameForm.from_request()
    if not form.validate():
        return await user_screen(user_id, status=form_status(form), error=refusal(form))
    person = await users.get_user(user_id=user_id, actor=actor)
    token = await users.create_token(user=person, name=form.name.data, actor=actor)
    return await user_screen(user_id, status=201, new_token=token)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
async def revoke_token(user_id: int, token_id: int):
    """Revoke an API token at once."""
    if not (await CsrfForm.from_request()).validate():
        abort(400, "Your session expired. Reload the page and try again.")
    await admin.revoke_token(user_id=user_id, token_id=token_id, actor=await current_user())
    return redirect(url_for("admin.user", user_id=user_id), 303)


# --- groups ---------------------------------------------------------------------------------


async def groups_screen(form: NameForm | None = None, status: int = 200, error: str = ""):
    actor = await current_user()
    context = {"groups": await admin.list_groups(actor=actor), "agents": await users.list_agents(actor=actor)}
    context["error"] = error
    return await screen("admin/groups.html", status, form=form or NameForm(), action=CsrfForm(), **context)


@bp.get("/groups")
async def groups():
    """Groups with their members; add groups and members."""
    return await groups_screen()


@bp.post("/groups")
async def create_group():
    """Add a group."""
    form = await NameForm.from_request()
    if form.validate() and await attempt(
        form, admin.create_group(name=form.name.data, actor=await current_user())
    ):
        return redirect(url_for("admin.groups"), 303)
    return await groups_screen(form, failed(form))


@bp.post("/groups/<int:group_id>/members")
async def add_member(group_id: int):
    """Put an agent in the group."""
    form = await MemberForm.from_request()
    if form.validate() and await attempt(
        form, admin.add_member(group_id=group_id, user_id=form.user.data, actor=await current_user())
    ):
        return redirect(url_for("admin.groups"), 303)
    return await groups_screen(status=failed(form), error=refusal(form))


@bp.post("/groups/<int:group_id>/members/<int:user_id>/remove")
async def remove_member(group_id: int, user_id: int):
    """Take an agent out of the group."""
    form = await CsrfForm.from_request()
    if form.validate():
        await admin.remove_member(group_id=group_id, user_id=user_id, actor=await current_user())
        return redirect(url_for("admin.groups"), 303)
    return await groups_screen(status=400)


# --- state catalogue ------------------------------------------------------------------------


async def states_screen(form: StateForm | None = None, status: int = 200):
    states = await catalog.list_states()
    return await screen("admin/states.html", status, states=states, kinds=StateKind, form=form or StateForm())


@bp.get("/states")
async def states():
    """The catalogue by kind; rename, reorder, add."""
    return await states_screen()


@bp.post("/states", defaults={"state_id": None})
@bp.post("/states/<int:state_id>")
async def save_state(state_id: int | None):
    """Add a catalogue entry, or change one."""
    form = await StateForm.from_request()
    values = {k: form[k].data for k in ("description", "closes", "kind")} | {
        "position": form.position.data or 0
    }
    if form.validate():
        action = admin.save_state(**values, state_id=state_id, actor=await current_user())
        if await attempt(form, action):
            return redirect(url_for("admin.states"), 303)
    return await states_screen(form, failed(form))


# --- organisations --------------------------------------------------------------------------


async def organisations_screen(form: OrganisationForm | None = None, status: int = 200):
    directory = await admin.list_organisations(actor=await current_user())
    return await screen(
        "admin/organisations.html", status, organisations=directory, form=form or OrganisationForm()
    )


@bp.get("/organisations")
async def organisations_list():
    """The organisation directory; add or change an entry by its ID."""
    return await organisations_screen()


@bp.post("/organisations")
async def save_organisation():
    """Create an organisation, or update the one with this ID."""
    form = await OrganisationForm.from_request()
    if form.validate():
        values = {k: form[k].data for k in ("human_id", "legal_name", "name", "role")}
        action = organisations.save_organisation(
            **values, parent_hid=form.parent.data or None, actor=await current_user()
        )
        if await attempt(form, action):
            return redirect(url_for("admin.organisations_list"), 303)
    return await organisations_screen(form, failed(form))
