"""The ticket page and its panels (header, fields, thread, reply, contacts, emails, history), new tickets."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from quart import Blueprint, Response, current_app, redirect, request, url_for

from helpdesk.errors import Conflict, Invalid, NewReplies, TooLarge
from helpdesk.models import Ticket, User
from helpdesk.services import (
    attachments,
    catalog,
    contacts,
    history,
    mail_intake,
    organisations,
    presence,
    ticket_contacts,
    ticket_edits,
    tickets,
    timeline,
    users,
)
from helpdesk.web import uploads
from helpdesk.web.auth import current_user, login_required, staff_required
from helpdesk.web.forms import (
    CommentForm,
    ContactForm,
    CsrfForm,
    CustomerTicketForm,
    NewTicketForm,
    TicketFieldsForm,
    classification_choices,
    one_line,
    show_refusal,
    submit,
    token_form,
)
from helpdesk.web.live import presence_context
from helpdesk.web.pages import changed, form_status, is_htmx, page_or_partial
from helpdesk.web.sla import clocks_context, clocks_placeholder
from helpdesk.web.tags import tags_context
from helpdesk.web.ticket_links import links_context

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
PANEL_PAGE = "tickets/panel.html"
REPLY = "tickets/_reply.html"
THREAD_NEWEST = 20
FIELDS_STALE = "ticket-fields-stale"  # the fields panel re-reads itself (a state or assignee set elsewhere)


def events(*names: str) -> str:
    """An HX-Trigger header value raising each event on the body."""
    return json.dumps({name: {"target": "body"} for name in names})


def ticket_url(human_id: str) -> str:
    return url_for("tickets.show", human_id=human_id)


# --- context of each panel -----------------------------------------------------------------
# Each builder takes the ticket tickets.load gave this user, so the whole page reads it once.


async def visible_ticket(human_id: str, related: bool = False) -> Ticket:
    """The ticket as far as the signed-in user may see it (NotFound otherwise)."""
    return await tickets.load(human_id=human_id, actor=await current_user(), related=related)


async def header_context(user: User, ticket: Ticket) -> dict[str, Any]:
    consumer = (await tickets.organisations_for([ticket])).get(ticket.organisation_hid)
    buyer = (consumer.parent or consumer) if consumer else None
    reporter = await ticket_edits.reporter_of(ticket=ticket, actor=user)  # shown by name
    form = token_form() if user.is_staff else None  # "Assign to me" (web/ticket_edits.py)
    return {"ticket": ticket, "consumer": consumer, "buyer": buyer, "reporter": reporter, "form": form}


async def fields_context(user: User, ticket: Ticket, message: str = "", ok: bool = False) -> dict[str, Any]:
    """The selects and their choices for agents; customers see the ticket's own values alone."""
    return {
        "ticket": ticket,
        "form": token_form() if user.is_staff else None,  # the selects are written out: only the token
        "message": message,
        "ok": ok,
        "choices": classification_choices(await catalog.list_states() if user.is_staff else []),
        "groups": await catalog.list_groups(actor=user) if user.is_staff else [],
        "agents": await users.list_agents(actor=user) if user.is_staff else [],
    }


async def thread_context(user: User, ticket: Ticket, has_files: bool = True) -> dict[str, Any]:
    # `accept`: the token of the form that accepts an unverified sender's email (web/mail.py)
    # `has_files`: False when the page read with the ticket that it has none (tickets.load_detail).
    comments = await timeline.thread_of(ticket=ticket, actor=user)
    files = await attachments.listed_for_ticket(ticket=ticket, actor=user) if has_files else {}
    # `newest`: the thread shows that many, newest last, with "Show older" for the rest (web/ticket_edits.py)
    accept = token_form() if user.is_staff else None
    return {"ticket": ticket, "comments": comments, "accept": accept, "files": files, "newest": THREAD_NEWEST}


async def contacts_context(
    user: User, ticket: Ticket, form: ContactForm | None = None, message: str = "", ok: bool = False
) -> dict[str, Any]:
    rows = await ticket_contacts.list_contacts(ticket=ticket, actor=user)
    status = (
        await contacts.confirmation_status(ticket=ticket, actor=user, contacts=rows)
        if user.is_staff
        else None
    )
    answered = status is not None and status.answered  # a proposal comes with a contact's confirmation
    return {
        "human_id": ticket.human_id,
        "contacts": rows,
        "labels": history.CONTACT_LABELS,  # "Main email", as the history and the forms say it
        "proposals": await ticket_contacts.open_proposals(ticket=ticket, actor=user) if answered else [],
        # Only agents get the forms (customers see the rows alone).
        "form": form or (ContactForm() if user.is_staff else None),
        "toggle": token_form() if user.is_staff else None,
        "confirmation": status,
        "message": message,
        "ok": ok,
    }


async def emails_context(user: User, ticket: Ticket, has_incoming: bool = True) -> dict[str, Any]:
    emails = await timeline.emails_of(ticket=ticket, actor=user)
    # Email intake (web/mail.py); the page knows from the ticket's read whether it received any.
    incoming = await mail_intake.incoming_of(ticket=ticket, actor=user) if has_incoming else []
    return {
        "human_id": ticket.human_id,
        "emails": emails,
        "limit": timeline.EMAILS_LIMIT,
        "incoming": incoming,
    }


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


@dataclass(frozen=True)
class Panel:
    """One panel of the ticket page. Its partial `tickets/_<name>.html` reads what `build` returns
    under the panel's name; `related` panels show the ticket's organisation, catalogue entries and people."""

    build: Callable[..., Awaitable[dict[str, Any]]]
    related: bool = False


PANELS: dict[str, Panel] = {
    "header": Panel(header_context, related=True),
    "fields": Panel(fields_context, related=True),
    "thread": Panel(thread_context),
    "contacts": Panel(contacts_context),
    "emails": Panel(emails_context),
    "history": Panel(history_context),
    "clocks": Panel(clocks_context),  # the SLA's due times (web/sla.py), agents only
}


async def panel_context(human_id: str, name: str, **options: Any) -> dict[str, Any]:
    """The panel's context under its name, built from the ticket as the signed-in user may see it
    (the one access check); `options` go to its builder (a form, a message)."""
    panel = PANELS[name]
    ticket = await visible_ticket(human_id, related=panel.related)
    return {name: await panel.build(await current_user(), ticket, **options)}


async def on_panel_page(human_id: str, partial: str, status: int = 200, /, **context: Any) -> Response:
    """A panel partial for htmx, or the panel alone in a page for a plain browser request."""
    return await page_or_partial(PANEL_PAGE, partial, status, partial=partial, human_id=human_id, **context)


async def show_panel(human_id: str, name: str, status: int = 200, /, **options: Any) -> Response:
    """One panel, fresh: after a GET, or with the errors of a form that did not go through."""
    context = await panel_context(human_id, name, **options)
    return await on_panel_page(human_id, f"tickets/_{name}.html", status, **context)


async def panel_changed(human_id: str, name: str, /, **options: Any) -> Response:
    """After a write: the panel afresh, and `ticket-changed` for the others; browsers go to the ticket."""
    context = await panel_context(human_id, name, **options)
    return await changed("ticket-changed", ticket_url(human_id), f"tickets/_{name}.html", **context)


async def reply_form(
    user: User, ticket: Ticket, comments: list[timeline.ThreadComment], has_draft: bool = True
) -> CommentForm:
    """An empty reply form, or the user's draft; it names the thread's newest comment it was shown with."""
    draft = await presence.draft_of(ticket=ticket, actor=user) if has_draft else None
    form = CommentForm(data={"body": draft.body, "visibility": "internal" if draft.internal else "public"}
                       if draft else None)  # fmt: skip
    form.seen_through.data = comments[-1].id if comments else 0
    return form


# --- the page and its panels ---------------------------------------------------------------


@bp.get("/<human_id>")
@login_required
async def show(human_id: str) -> Response:
    """The whole ticket: header, fields, thread and reply form, contacts and (agents) emails and history."""
    # The ticket, with whether it has files, links, emails received and a draft of this user's
    # (and its tags): the page skips the reads of what it has none of.
    user = await current_user()
    ticket, holds = await tickets.load_detail(human_id=human_id, actor=user, related=True, page=True)
    context: dict[str, Any] = {"ticket": ticket, "reply_states": await reply_states(user)}
    for name in ("header", "fields", "contacts"):
        context[name] = await PANELS[name].build(user, ticket)
    context["thread"] = await thread_context(user, ticket, has_files=holds.files)
    context["reply"] = await reply_form(user, ticket, context["thread"]["comments"], has_draft=holds.draft)
    context |= presence_context(human_id, None)  # the page's first heartbeat fills it (web/live.py)
    if user.is_staff:
        emails = await emails_context(user, ticket, has_incoming=holds.incoming)
        history = await history_context(user, ticket, context["thread"]["comments"], emails["emails"])
        context |= {"emails": emails, "history": history}
        context["tags"] = await tags_context(user, ticket, names=holds.tags)  # web/tags.py
        context["links"] = await links_context(user, ticket, linked=None if holds.links else [])
        context["clocks"] = clocks_placeholder(ticket)  # web/sla.py: the SLA panel loads itself
    return await page_or_partial("tickets/page.html", "tickets/_header.html", **context)


@bp.get(f"/<human_id>/<any({', '.join(PANELS)}):name>")
@login_required
async def panel(human_id: str, name: str) -> Response:
    """One panel, re-fetched after a change. The services decide what it holds: customers never see
    internal notes, and get 404 for the agents' emails and history."""
    return await show_panel(human_id, name)


@bp.post("/<human_id>/fields")
@staff_required
async def update_fields(human_id: str) -> Response:
    """Save the selects against the version the agent saw; a stale version is a 409 in place."""
    user, form = await current_user(), await TicketFieldsForm.from_request()
    if not form.validate():
        return await show_panel(human_id, "fields", form_status(form), message=one_line(form))
    try:
        changes = tickets.TicketChanges(values=form.values())
        await tickets.update_ticket(
            human_id=human_id, changes=changes, actor=user, expected_version=form.version.data
        )
    except (Conflict, Invalid) as error:
        status = show_refusal(form, error)
        return await show_panel(human_id, "fields", status, message=one_line(form))
    return await panel_changed(human_id, "fields", message="Saved.", ok=True)


@bp.post("/<human_id>/comments")
@login_required
async def post_comment(human_id: str) -> Response:
    """Post a public reply or an internal note, then hand back an empty form."""
    user, (form, files, too_large) = await current_user(), await uploads.form_with_files(CommentForm)
    ticket = await tickets.load(human_id=human_id, actor=user)
    if too_large or not form.validate():
        attachments.discard(files)
        status, states = (
            uploads.TOO_LARGE_STATUS if too_large else form_status(form),
            await reply_states(user),
        )
        return await on_panel_page(human_id, REPLY, status, ticket=ticket, reply=form, reply_states=states)
    internal, states = form.visibility.data == "internal", await reply_states(user)
    try:
        carried = await attachments.add_files(human_id=human_id, files=files, actor=user) if files else []
        posted = await ticket_edits.reply_and_set_state(
            human_id=human_id, body=form.body.data, internal=internal, state_id=form.then_state.data,
            actor=user, attachment_ids=[file.id for file in carried],
            seen_through=form.seen_through.data, send_anyway=form.send_anyway.data,
        )  # fmt: skip
    except NewReplies as error:
        return await show_new_replies(ticket, form, error, states)
    except (Conflict, Invalid, TooLarge) as error:
        status = show_refusal(form, error)
        return await on_panel_page(human_id, REPLY, status, ticket=ticket, reply=form, reply_states=states)
    location = ticket_url(human_id) + "#tickets-thread"
    event, fresh = (
        "ticket-changed" if form.then_state.data else "comment-added",
        CommentForm(data={"seen_through": posted.id}),
    )
    response = await changed(event, location, REPLY, ticket=ticket, reply=fresh, reply_states=states)
    if form.then_state.data and is_htmx():  # the thread and the fields both refresh
        response.headers["HX-Trigger"] = events("comment-added", "ticket-changed", FIELDS_STALE)
    return response


async def show_new_replies(ticket: Ticket, form: CommentForm, error: NewReplies, states: list) -> Response:
    """409: others replied since the form was shown. The reply stays in the form, the new replies
    show above it with "Send anyway" and "Edit"; the thread refreshes too."""
    form.seen_through.data, form.seen_through.raw_data = error.replies[-1].id, None  # not as posted
    form.send_anyway.data = False
    context = {"ticket": ticket, "reply": form, "collision": error, "reply_states": states}
    response = await on_panel_page(ticket.human_id, REPLY, error.status, **context)
    response.headers["HX-Trigger"] = json.dumps({"comment-added": {"target": "body"}})
    return response


async def reply_states(user: User) -> list:
    """The states an agent may set as they send (\"Send and set state\"); none for customers."""
    return classification_choices(await catalog.list_states())["state"] if user.is_staff else []


@bp.post("/<human_id>/contacts")
@staff_required
async def set_contact(human_id: str) -> Response:
    """Set a contact (or add an additional email)."""
    user, form = await current_user(), await ContactForm.from_request()
    if not form.validate():
        return await show_panel(human_id, "contacts", form_status(form), form=form)
    try:
        await ticket_contacts.set_contact(
            human_id=human_id, key=form.key.data, value=form.value.data, actor=user
        )
    except (Conflict, Invalid) as error:
        form.value.errors = error.errors.get("value", [])
        return await show_panel(human_id, "contacts", error.status, form=form, message=error.message)
    return await panel_changed(human_id, "contacts")


@bp.post("/<human_id>/contacts/<int:attribute_id>/<any(on, off):switch>")
@staff_required
async def switch_contact(human_id: str, attribute_id: int, switch: str) -> Response:
    """Switch one contact on or off."""
    user, form = await current_user(), await CsrfForm.from_request()
    if not form.validate():
        return await show_panel(human_id, "contacts", 400)
    await ticket_contacts.set_contact_enabled(
        human_id=human_id, attribute_id=attribute_id, enabled=switch == "on", actor=user
    )
    return await panel_changed(human_id, "contacts")


@bp.post("/<human_id>/contacts/confirmation")
@staff_required
async def request_confirmation(human_id: str) -> Response:
    """Email each enabled contact a link to confirm their details; the emails and history follow."""
    user, form = await current_user(), await CsrfForm.from_request()
    if not form.validate():
        return await show_panel(human_id, "contacts", 400, message=" ".join(form.csrf_token.errors))
    asked = await ticket_contacts.request_confirmation(
        human_id=human_id, actor=user, config=current_app.config
    )
    if asked.repeated:
        message = "The contacts were asked less than a minute ago: no second email was sent."
        return await show_panel(human_id, "contacts", message=message, ok=True)
    return await panel_changed(human_id, "contacts", message=asked.event.value, ok=True)


# --- new tickets ---------------------------------------------------------------------------


async def new_context(user: User, form: NewTicketForm) -> dict[str, Any]:
    return {
        "form": form,
        "choices": classification_choices(await catalog.list_states() if user.is_staff else []),
        "groups": await catalog.list_groups(actor=user) if user.is_staff else [],
    }


@bp.route("/new", methods=["GET", "POST"])
@login_required
async def new_ticket() -> Response:
    """The new-ticket form; errors come back inline (422), success goes to the ticket."""
    user = await current_user()
    form_class = NewTicketForm if user.is_staff else CustomerTicketForm
    form, files, too_large = await uploads.form_with_files(form_class, data=new_ticket_defaults(user))
    status = uploads.TOO_LARGE_STATUS if too_large else 200
    if request.method == "POST" and not too_large:
        outcome = await submit(form, partial(file_ticket, form, user, files), Invalid)
        attachments.discard(files)  # kept by now, or refused with the form
        if not outcome.refused:
            return redirect_to_ticket(outcome.result)
        status = outcome.status
    return await page_or_partial(
        "tickets/new.html", "tickets/_new.html", status, **await new_context(user, form)
    )


@bp.get("/new/reporters")
@staff_required
async def suggest_reporters() -> Response:
    """The reporter box's suggestions: the chosen organisation's users and earlier reporters."""
    found = await organisations.suggest_reporters(
        organisation=request.args.get("organisation", ""),
        text=request.args.get("reporter", ""),
        actor=await current_user(),
    )
    return await page_or_partial("tickets/_reporters.html", "tickets/_reporters.html", found=found)


def new_ticket_defaults(user: User) -> dict[str, str]:
    """A customer reports for their own organisation, as themselves, reachable at their own address."""
    if user.is_staff:
        return {}
    return {
        "organisation": user.organisation_hid or "",
        "reporter": user.human_id or "",
        "main_email": user.email,
    }


async def file_ticket(form: NewTicketForm, user: User, files: list[attachments.Given] = ()) -> Ticket:
    """An agent's ticket names its organisation and reporter from the directory (or, acknowledged,
    ones it does not know); a customer's takes their organisation's contract and tenant. The files
    given with it are kept with its description."""
    data = new_ticket_data(form)
    if user.is_staff:
        parties = await organisations.ticket_parties(
            organisation=data.organisation_hid, reporter=data.reporter_hid, actor=user,
            unknown_ok=form.unknown_ok.data,
        )  # fmt: skip
        data.organisation_hid, data.reporter_hid = parties.organisation_hid, parties.reporter_hid
    else:
        data.contract_hid, data.tenant_hid = await organisations.customer_ticket_defaults(actor=user)
    ticket = await tickets.create_ticket(data=data, actor=user)
    if files:
        await attachments.add_to_new_ticket(ticket=ticket, files=list(files), actor=user)
    return ticket


def new_ticket_data(form: NewTicketForm) -> tickets.NewTicket:
    """The form as a new ticket; a customer's form has no contract or tenant (file_ticket adds them)."""
    classification = {name: form[name].data for name in ("priority", "type") if form[name].data}
    contacts = tickets.Contacts(
        main_email=form.main_email.data or None,
        phone_number=form.phone_number.data or None,
        additional_emails=form.additional_email_list(),
    )
    return tickets.NewTicket(
        organisation_hid=form.organisation.data,
        contract_hid=form.contract.data if "contract" in form else "",
        tenant_hid=form.tenant.data if "tenant" in form else "",
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
