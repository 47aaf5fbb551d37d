"""The ticket page and its panels (header, fields, thread, reply, contacts, emails, history), new tickets."""

from typing import Any

from quart import Blueprint, Response, current_app, redirect, request, url_for

from helpdesk.errors import Conflict, Invalid
from helpdesk.models import StateKind, Ticket, User
from helpdesk.services import catalog, ticket_contacts, tickets, timeline, users
from helpdesk.web.auth import current_user, login_required, staff_required
from helpdesk.web.forms import CommentForm, ContactForm, CsrfForm, NewTicketForm, TicketFieldsForm
from helpdesk.web.pages import changed, form_status, is_htmx, page_or_partial

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
PANEL_PAGE = "tickets/panel.html"


def ticket_url(human_id: str) -> str:
    return url_for("tickets.show", human_id=human_id)


async def panel(human_id: str, partial: str, status: int = 200, /, **context: Any) -> Response:
    """A panel partial for htmx, or the panel alone in a page for a plain browser request."""
    return await page_or_partial(PANEL_PAGE, partial, status, partial=partial, human_id=human_id, **context)


# --- context of each panel -----------------------------------------------------------------
# Each builder takes the ticket tickets.get_ticket gave this user, so the whole page reads it once.


async def visible_ticket(human_id: str, related: bool = False) -> Ticket:
    """The ticket as far as the signed-in user may see it (NotFound otherwise)."""
    return await tickets.get_ticket(human_id=human_id, actor=await current_user(), related=related)


async def header_context(ticket: Ticket) -> dict[str, Any]:
    consumer = (await tickets.organisations_for([ticket])).get(ticket.organisation_hid)
    buyer = (consumer.parent or consumer) if consumer else None
    return {"ticket": ticket, "consumer": consumer, "buyer": buyer}


async def fields_context(user: User, ticket: Ticket, message: str = "", ok: bool = False) -> dict[str, Any]:
    """The selects and their choices for agents; customers see the ticket's own values alone."""
    states = await catalog.list_states() if user.is_staff else []
    return {
        "ticket": ticket,
        "form": CsrfForm() if user.is_staff else None,  # the selects are written out: only the token
        "message": message,
        "ok": ok,
        "choices": {
            name: [s for s in states if s.kind == kind] for name, kind in tickets.CLASSIFICATIONS.items()
        },
        "groups": await catalog.list_groups(actor=user) if user.is_staff else [],
        "agents": await users.list_agents(actor=user) if user.is_staff else [],
    }


async def thread_context(user: User, ticket: Ticket) -> dict[str, Any]:
    return {"ticket": ticket, "comments": await timeline.thread_of(ticket=ticket, actor=user)}


async def contacts_context(
    user: User, ticket: Ticket, form: ContactForm | None = None, message: str = "", ok: bool = False
) -> dict[str, Any]:
    rows = await ticket_contacts.list_contacts(ticket=ticket, actor=user)
    status = (
        await ticket_contacts.confirmation_status(ticket=ticket, actor=user, rows=rows)
        if user.is_staff
        else None
    )
    answered = status is not None and status.answered  # a proposal comes with a contact's confirmation
    return {
        "human_id": ticket.human_id,
        "contacts": rows,
        "proposals": await ticket_contacts.open_proposals(ticket=ticket, actor=user) if answered else [],
        # Only agents get the forms (customers see the rows alone).
        "form": form or (ContactForm() if user.is_staff else None),
        "toggle": CsrfForm() if user.is_staff else None,
        "confirmation": status,
        "message": message,
        "ok": ok,
    }


async def emails_context(user: User, ticket: Ticket) -> dict[str, Any]:
    emails = await timeline.emails_of(ticket=ticket, actor=user)
    return {"human_id": ticket.human_id, "emails": emails, "limit": timeline.EMAILS_LIMIT}


async def history_context(
    user: User,
    ticket: Ticket,
    thread: list[timeline.ThreadComment] | None = None,
    emails: list[timeline.EmailRow] | None = None,
) -> dict[str, Any]:
    entries = await timeline.timeline_of(ticket=ticket, actor=user, thread=thread, emails=emails)
    return {
        "human_id": ticket.human_id,
        "entries": entries,
        "limit": timeline.TIMELINE_LIMIT,
        "notifications": timeline.NOTIFICATIONS,
    }


# --- the page and its panels ---------------------------------------------------------------


@bp.get("/<human_id>")
@login_required
async def show(human_id: str) -> Response:
    """The whole ticket: header, fields, thread and reply form, contacts and (agents) emails and history."""
    user, ticket = await current_user(), await visible_ticket(human_id, related=True)
    thread = await thread_context(user, ticket)
    context = await header_context(ticket)
    context |= {"fields": await fields_context(user, ticket), "thread": thread, "reply": CommentForm()}
    context |= {"contacts": await contacts_context(user, ticket)}
    if user.is_staff:
        emails = await emails_context(user, ticket)
        history = await history_context(user, ticket, thread["comments"], emails["emails"])
        context |= {"emails": emails, "history": history}
    return await page_or_partial("tickets/page.html", "tickets/_header.html", **context)


@bp.get("/<human_id>/header")
@login_required
async def header(human_id: str) -> Response:
    """The title block, re-fetched after a change."""
    return await panel(
        human_id, "tickets/_header.html", **await header_context(await visible_ticket(human_id, related=True))
    )


@bp.get("/<human_id>/fields")
@login_required
async def fields(human_id: str) -> Response:
    """The classification, group and assignee selects."""
    return await panel(
        human_id,
        "tickets/_fields.html",
        fields=await fields_context(await current_user(), await visible_ticket(human_id, related=True)),
    )


@bp.post("/<human_id>/fields")
@staff_required
async def update_fields(human_id: str) -> Response:
    """Save the selects against the version the agent saw; a stale version is a 409 in place."""
    user, form = await current_user(), await TicketFieldsForm.from_request()
    if not form.validate():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return await panel(
            human_id,
            "tickets/_fields.html",
            form_status(form),
            fields=await fields_context(user, await visible_ticket(human_id, related=True), message),
        )
    try:
        changes = tickets.TicketChanges(values=form.values())
        await tickets.update_ticket(
            human_id=human_id, changes=changes, actor=user, expected_version=form.version.data
        )
    except (Conflict, Invalid) as error:
        return await panel(
            human_id,
            "tickets/_fields.html",
            error.status,
            fields=await fields_context(user, await visible_ticket(human_id, related=True), error.message),
        )
    context = {
        "fields": await fields_context(user, await visible_ticket(human_id, related=True), "Saved.", ok=True)
    }
    return await changed("ticket-changed", ticket_url(human_id), "tickets/_fields.html", **context)


@bp.get("/<human_id>/thread")
@login_required
async def thread(human_id: str) -> Response:
    """The comment thread (customers never see internal notes)."""
    return await panel(
        human_id,
        "tickets/_thread.html",
        thread=await thread_context(await current_user(), await visible_ticket(human_id)),
    )


@bp.post("/<human_id>/comments")
@login_required
async def post_comment(human_id: str) -> Response:
    """Post a public reply or an internal note, then hand back an empty form."""
    user, form = await current_user(), await CommentForm.from_request()
    ticket = await tickets.get_ticket(human_id=human_id, actor=user)
    if not form.validate():
        return await panel(human_id, "tickets/_reply.html", form_status(form), ticket=ticket, reply=form)
    internal = form.visibility.data == "internal"
    await tickets.post_comment(human_id=human_id, body=form.body.data, actor=user, internal=internal)
    location = ticket_url(human_id) + "#tickets-thread"
    return await changed("comment-added", location, "tickets/_reply.html", ticket=ticket, reply=CommentForm())


@bp.get("/<human_id>/contacts")
@login_required
async def contacts(human_id: str) -> Response:
    """The ticket's contact rows."""
    return await panel(
        human_id,
        "tickets/_contacts.html",
        contacts=await contacts_context(await current_user(), await visible_ticket(human_id)),
    )


@bp.post("/<human_id>/contacts")
@staff_required
async def set_contact(human_id: str) -> Response:
    """Set a contact (or add an additional email)."""
    user, form = await current_user(), await ContactForm.from_request()
    if not form.validate():
        context = await contacts_context(user, await visible_ticket(human_id), form)
        return await panel(human_id, "tickets/_contacts.html", form_status(form), contacts=context)
    try:
        await ticket_contacts.set_contact(
            human_id=human_id, key=form.key.data, value=form.value.data, actor=user
        )
    except (Conflict, Invalid) as error:
        form.value.errors = error.errors.get("value", [])
        context = await contacts_context(user, await visible_ticket(human_id), form, message=error.message)
        return await panel(human_id, "tickets/_contacts.html", error.status, contacts=context)
    context = {"contacts": await contacts_context(user, await visible_ticket(human_id))}
    return await changed("ticket-changed", ticket_url(human_id), "tickets/_contacts.html", **context)


@bp.post("/<human_id>/contacts/<int:attribute_id>/<any(on, off):switch>")
@staff_required
async def switch_contact(human_id: str, attribute_id: int, switch: str) -> Response:
    """Switch one contact on or off."""
    user, form = await current_user(), await CsrfForm.from_request()
    if form.validate():
        await ticket_contacts.set_contact_enabled(
            human_id=human_id, attribute_id=attribute_id, enabled=switch == "on", actor=user
        )
    context = {"contacts": await contacts_context(user, await visible_ticket(human_id))}
    if form.errors:
        return await panel(human_id, "tickets/_contacts.html", 400, **context)
    return await changed("ticket-changed", ticket_url(human_id), "tickets/_contacts.html", **context)


@bp.post("/<human_id>/contacts/confirmation")
@staff_required
async def request_confirmation(human_id: str) -> Response:
    """Email each enabled contact a link to confirm their details; the emails and history follow."""
    user, form = await current_user(), await CsrfForm.from_request()
    if not form.validate():
        context = await contacts_context(
            user, await visible_ticket(human_id), message=" ".join(form.csrf_token.errors)
        )
        return await panel(human_id, "tickets/_contacts.html", 400, contacts=context)
    asked = await ticket_contacts.request_confirmation(
        human_id=human_id, actor=user, config=current_app.config
    )
    if asked.repeated:
        message = "The contacts were asked less than a minute ago: no second email was sent."
        context = await contacts_context(user, await visible_ticket(human_id), message=message, ok=True)
        return await panel(human_id, "tickets/_contacts.html", contacts=context)
    context = {
        "contacts": await contacts_context(
            user, await visible_ticket(human_id), message=asked.event.value, ok=True
        )
    }
    return await changed("ticket-changed", ticket_url(human_id), "tickets/_contacts.html", **context)


@bp.get("/<human_id>/emails")
@login_required
async def emails(human_id: str) -> Response:
    """The ticket's latest emails and whether each left (agents only; customers get 404)."""
    return await panel(
        human_id,
        "tickets/_emails.html",
        emails=await emails_context(await current_user(), await visible_ticket(human_id)),
    )


@bp.get("/<human_id>/history")
@login_required
async def history(human_id: str) -> Response:
    """Changes, comments and events in one timeline (agents only; customers get 404)."""
    return await panel(
        human_id,
        "tickets/_history.html",
        history=await history_context(await current_user(), await visible_ticket(human_id)),
    )


# --- new tickets ---------------------------------------------------------------------------


async def new_context(user: User, form: NewTicketForm) -> dict[str, Any]:
    states = await catalog.list_states() if user.is_staff else []
    return {
        "form": form,
        "priorities": [s for s in states if s.kind == StateKind.PRIORITY],
        "types": [s for s in states if s.kind == StateKind.TYPE],
        "groups": await catalog.list_groups(actor=user) if user.is_staff else [],
    }


@bp.route("/new", methods=["GET", "POST"])
@login_required
async def new_ticket() -> Response:
    """The new-ticket form; errors come back inline (422), success goes to the ticket."""
    user = await current_user()
    form = await NewTicketForm.from_request(data=new_ticket_defaults(user))
    if request.method == "POST" and form.validate():
        try:
            created = await tickets.create_ticket(data=new_ticket_data(form), actor=user)
            return redirect_to_ticket(created)
        except Invalid as error:
            for name, messages in error.errors.items():
                if name in form:
                    form[name].errors = list(messages)
            form.form_errors.append(error.message)
    status = form_status(form) if form.errors or form.form_errors else 200
    return await page_or_partial(
        "tickets/new.html", "tickets/_new.html", status, **await new_context(user, form)
    )


def new_ticket_defaults(user: User) -> dict[str, str]:
    """A customer reports for their own organisation, as themselves, reachable at their own address."""
    if user.is_staff:
        return {}
    return {
        "organisation": user.organisation_hid or "",
        "reporter": user.human_id or "",
        "main_email": user.email,
    }


def new_ticket_data(form: NewTicketForm) -> tickets.NewTicket:
    classification = {name: form[name].data for name in ("priority", "type") if form[name].data}
    contacts = tickets.Contacts(
        main_email=form.main_email.data or None,
        phone_number=form.phone_number.data or None,
        additional_emails=form.additional_email_list(),
    )
    return tickets.NewTicket(
        organisation_hid=form.organisation.data,
        contract_hid=form.contract.data,
        tenant_hid=form.tenant.data,
        reporter_hid=form.reporter.data,
        title=form.title.data,
        description=form.description.data,
        contacts=contacts,
        classification=classification,
        group_id=form.group.data,
    )


def redirect_to_ticket(ticket: Ticket) -> Response:
    """htmx follows HX-Redirect to the new ticket (it would follow a 303 itself and swap the page in)."""
    location = ticket_url(ticket.human_id)
    response = Response("", headers={"HX-Redirect": location}) if is_htmx() else redirect(location, 303)
    response.vary.add("HX-Request")
    return response
