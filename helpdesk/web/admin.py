"""Admin screens: users and their API tokens, groups and membership, the state catalogue, organisations.

Plain forms that post and redirect (no htmx): rare, deliberate changes that read best as whole pages.
Each change says what it did on the page it lands on (a notice carried once in the session);
deactivating a user and revoking a token are asked first, on a page of their own (no JavaScript
needed)."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from quart import Blueprint, Response, abort, current_app, redirect, session, url_for

from helpdesk.errors import Conflict, Forbidden, Invalid
from helpdesk.models import Group, GroupMember, Organisation, State, StateKind, User
from helpdesk.services import admin, assignment, catalog, organisations, users
from helpdesk.web.auth import current_user, to_sign_in
from helpdesk.web.forms import (
    AssignmentForm,
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
    token_form,
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


NOTICE, NEW_TOKEN = "admin_notice", "admin_new_token"  # session keys, each read once
Notice = Callable[[Any], str]  # what a change says, from what the service returned


def done(location: str, notice: str) -> Response:
    """After a change: back to `location`, which says `notice` once."""
    session[NOTICE] = notice
    return redirect(location, 303)


async def save_form(
    form: CsrfForm, call: Callable[[], Awaitable[Any]], location: str, again: Screen, notice: Notice
) -> Any:
    """Submit the form and redirect to `location` saying what was done; a form error or a service's
    refusal (a conflict, a forbidden change, an invalid value) shows the screen again with it."""
    outcome = await submit(form, call, Conflict, Forbidden, Invalid)
    return await again(form, outcome.status) if outcome.refused else done(location, notice(outcome.result))


async def screen(template: str, status: int = 200, **context: Any) -> tuple[str, int, dict[str, str]]:
    """An admin page, with the notice of the change that led here; never cached (some show secrets once)."""
    context.setdefault("notice", session.pop(NOTICE, ""))
    return await render(template, **context), status, {"Cache-Control": "no-store"}


async def ask_first(*, question: str, action: str, button: str, explain: str, back: str) -> Any:
    """The page that asks before a change not undone in place: its form posts to `action`, its
    Cancel goes `back`. Plain HTML, so it asks with or without JavaScript."""
    context = {"question": question, "action": action, "button": button, "explain": explain, "back": back}
    return await screen("admin/ask.html", form=token_form(), **context)


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
    return await save_form(form, invite, url_for("admin.users_list"), users_list, _invited)


def _invited(person: User) -> str:
    return f"Added {person.name}. An invitation to choose a password is on its way to {person.email}."


@bp.get("/users/<int:user_id>")
async def user(user_id: int, form: UserForm | None = None, status: int = 200, error: str = ""):
    """One user: details and flags, API tokens (a new one shown this once), deactivation."""
    actor = await current_user()
    person = await users.get_user(user_id=user_id, actor=actor)
    context = {"person": person, "form": form or UserForm(obj=person), "error": error}
    context["new_token"] = _new_token_for(user_id)
    context |= {"tokens": await admin.list_tokens(user_id=user_id, actor=actor), "action": token_form()}
    return await screen("admin/user.html", status, **context)


def _new_token_for(user_id: int) -> str:
    """The token just created for this user, taken out of the session: a reload shows it no more."""
    held = session.get(NEW_TOKEN)
    if not held or held.get("user") != user_id:
        return ""
    return session.pop(NEW_TOKEN)["token"]


@bp.post("/users/<int:user_id>")
async def update_user(user_id: int):
    """Save a user's details and flags."""
    form = await UserForm.from_request()
    changes = {k: v for k, v in form.data.items() if k != "csrf_token"}
    changes["organisation_hid"] = changes["organisation_hid"] or None
    actor, config = await current_user(), current_app.config
    update = partial(users.update_user, user_id=user_id, changes=changes, actor=actor, config=config)
    location = url_for("admin.user", user_id=user_id)
    return await save_form(
        form,
        update,
        location,
        partial(_user_again, user_id),
        lambda person: f"Saved {person.name}'s details.",
    )


async def _user_again(user_id: int, form: UserForm, status: int):
    return await user(user_id, form, status)


@bp.get("/users/<int:user_id>/deactivate")
async def ask_deactivate_user(user_id: int):
    """Ask before deactivating."""
    person = await users.get_user(user_id=user_id, actor=await current_user(), active_only=True)
    return await ask_first(
        question=f"Deactivate {person.name}?",
        action=url_for("admin.deactivate_user", user_id=user_id),
        button=f"Deactivate {person.name}",
        explain="They are signed out everywhere and their API tokens are revoked. History keeps their "
        "name, and you can reactivate them later (they get new tokens, not the old ones).",
        back=url_for("admin.user", user_id=user_id),
    )


@bp.post("/users/<int:user_id>/deactivate")
async def deactivate_user(user_id: int):
    """Deactivate: sign-in and sessions stop, tokens are revoked; history keeps the name."""
    said = "{} is deactivated: signed out everywhere, API tokens revoked."
    return await _change_user(user_id, users.deactivate_user, said)


@bp.post("/users/<int:user_id>/reactivate")
async def reactivate_user(user_id: int):
    """Let a deactivated user sign in again (their old tokens stay revoked)."""
    said = "{} is active again and can sign in. Their old API tokens stay revoked."
    return await _change_user(user_id, users.reactivate_user, said)


async def _change_user(user_id: int, change: Callable[..., Awaitable[User]], said: str) -> Response:
    """Run a user service on the form's user and go back to their page saying what it did
    (`said` names them with {})."""
    await check_csrf()
    person = await change(user_id=user_id, actor=await current_user())
    return done(url_for("admin.user", user_id=user_id), said.format(person.name))


@bp.post("/users/<int:user_id>/invitation")
async def send_invitation(user_id: int):
    """Email the user a new link to choose a password (a lost invitation, a forgotten password)."""
    await check_csrf()
    person = await users.send_invitation(
        user_id=user_id, actor=await current_user(), config=current_app.config
    )
    said = f"A link to choose a password is on its way to {person.email}."
    return done(url_for("admin.user", user_id=user_id), said)


@bp.post("/users/<int:user_id>/tokens")
async def create_token(user_id: int):
    """Issue an API token and show it once, after a redirect (a reload must not issue another);
    it is stored only as a digest, and carried to that one page in the session."""
    actor, form = await current_user(), await NameForm.from_request()
    if not form.validate():
        return await user(user_id, status=form_status(form), error=one_line(form))
    person = await users.get_user(user_id=user_id, actor=actor)
    session[NEW_TOKEN] = {
        "user": user_id,
        "token": await users.create_token(user=person, name=form.name.data, actor=actor),
    }
    return done(url_for("admin.user", user_id=user_id), f"Created the token {form.name.data}.")


@bp.get("/users/<int:user_id>/tokens/<int:token_id>/revoke")
async def ask_revoke_token(user_id: int, token_id: int):
    """Ask before revoking."""
    token = await admin.get_token(user_id=user_id, token_id=token_id, actor=await current_user())
    return await ask_first(
        question=f"Revoke the token {token.name}?",
        action=url_for("admin.revoke_token", user_id=user_id, token_id=token_id),
        button=f"Revoke {token.name}",
        explain="Every client using it stops working at once. A revoked token cannot be used again.",
        back=url_for("admin.user", user_id=user_id),
    )


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
async def revoke_token(user_id: int, token_id: int):
    """Revoke an API token at once."""
    await check_csrf()
    token = await admin.revoke_token(user_id=user_id, token_id=token_id, actor=await current_user())
    return done(url_for("admin.user", user_id=user_id), f"Revoked the token {token.name}.")


# --- groups ---------------------------------------------------------------------------------


@bp.get("/groups")
async def groups(form: NameForm | None = None, status: int = 200, error: str = ""):
    """Groups with their members; add groups and members."""
    actor = await current_user()
    context = {"groups": await admin.list_groups(actor=actor), "agents": await users.list_agents(actor=actor)}
    context |= {"error": error, "modes": assignment.LABELS}
    return await screen("admin/groups.html", status, form=form or NameForm(), action=token_form(), **context)


@bp.post("/groups/<int:group_id>/assignment")
async def set_assignment(group_id: int):
    """Choose how the group's new tickets are assigned."""
    form = await AssignmentForm.from_request()
    changes = admin.GroupChanges(assignment=form.assignment.data)
    change = partial(admin.update_group, group_id=group_id, changes=changes, actor=await current_user())
    return await save_form(form, change, url_for("admin.groups"), group_form_refused, _assignment_set)


def _assignment_set(group: Group) -> str:
    return f"{group.name}: new tickets now go {assignment.SAYINGS[group.assignment]}."


@bp.post("/groups")
async def create_group():
    """Add a group."""
    form = await NameForm.from_request()
    create = partial(admin.create_group, name=form.name.data, actor=await current_user())
    return await save_form(
        form, create, url_for("admin.groups"), groups, lambda group: f"Added the group {group.name}."
    )


@bp.post("/groups/<int:group_id>/members")
async def add_member(group_id: int):
    """Put an agent in the group."""
    form = await MemberForm.from_request()
    add = partial(admin.add_member, group_id=group_id, user_id=form.user.data, actor=await current_user())
    return await save_form(form, add, url_for("admin.groups"), group_form_refused, _member_added)


def _member_added(member: GroupMember) -> str:
    return f"Added {member.user.name} to {member.group.name}."


async def group_form_refused(form: CsrfForm, status: int):
    """The groups again after an agent was not added or a mode not set: each group has its own
    small forms, so what went wrong shows once above them all."""
    return await groups(status=status, error=one_line(form))


@bp.post("/groups/<int:group_id>/members/<int:user_id>/remove")
async def remove_member(group_id: int, user_id: int):
    """Take an agent out of the group."""
    form = await CsrfForm.from_request()
    if form.validate():
        member = await admin.remove_member(group_id=group_id, user_id=user_id, actor=await current_user())
        said = f"Removed {member.user.name} from {member.group.name}." if member else "Nothing to remove."
        return done(url_for("admin.groups"), said)
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
    values = {k: form[k].data for k in ("description", "closes", "pauses_sla", "kind", "position")}
    save = partial(admin.save_state, **values, state_id=state_id, actor=await current_user())
    return await save_form(form, save, url_for("admin.states"), states, partial(_state_saved, state_id))


def _state_saved(state_id: int | None, state: State) -> str:
    verb = "Saved" if state_id else "Added"
    return f"{verb} {state.description} ({state.kind.name.title()}, position {state.position})."


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
    values["default_contract_hid"], values["default_tenant_hid"] = (
        form.default_contract.data,
        form.default_tenant.data,
    )
    save = partial(organisations.save_organisation, **values, actor=await current_user())
    return await save_form(
        form, save, url_for("admin.organisations_list"), organisations_list, _organisation_saved
    )


def _organisation_saved(organisation: Organisation) -> str:
    return f"Saved the organisation {organisation.name} ({organisation.human_id})."
