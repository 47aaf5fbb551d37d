"""The public pages a contact reaches from the link in an email: an invited address opts in (or
declines), a contact confirms or corrects their own details and may leave the agents a note."""

from typing import Any

from quart import Blueprint, current_app
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from helpdesk.errors import Invalid
from helpdesk.services import contacts
from helpdesk.web.forms import CsrfForm
from helpdesk.web.pages import render, serve_token_links

bp = Blueprint("confirm", __name__)
serve_token_links(bp, "confirm/refused.html")

# Form field -> what the service corrects ("email" is the holder's own address, main or additional).
FIELD_KEYS = {"email": "email"} | {key.field: key.value for key in contacts.MAIN_ONLY}
MAIN_ONLY_FIELDS = tuple(key.field for key in contacts.MAIN_ONLY)


class ConfirmContactsForm(CsrfForm):
    """The contact's answer: my details are right, or here are the right ones (and a note)."""

    email = StringField("Your email address", [Optional(), Length(max=254)])
    phone_number = StringField("Phone number", [Optional(), Length(max=64)])
    preferred_contact_method = StringField("Preferred contact method", [Optional(), Length(max=100)])
    note = TextAreaField(
        "Anything else wrong, for the helpdesk", [Optional(), Length(max=contacts.NOTE_LENGTH)]
    )
    confirm = SubmitField("These are correct")
    correct = SubmitField("Save corrections")

    def corrections(self) -> dict[str, str] | None:
        """The corrected values, or None when the contact confirmed their details as they are."""
        return {key: self[name].data for name, key in FIELD_KEYS.items()} if self.correct.data else None

    def show_errors(self, errors: dict[str, list[str]], shown: list[str]) -> None:
        """Attach a service's validation errors to the fields they name; an error about a field the
        page does not show (another contact's detail) goes above the form."""
        for name, key in (*FIELD_KEYS.items(), ("note", "note")):
            self[name].errors = list(errors.get(key, []))
            if self[name].errors and name not in shown:
                self.form_errors.append(f"{self[name].label.text}: {' '.join(self[name].errors)}.")


class OptInForm(CsrfForm):
    """An invited address says whether it wants the ticket's emails."""

    accept = SubmitField("Yes, send me this ticket's emails")
    decline = SubmitField("No, do not email me")


def _on_record(link: contacts.ConfirmationLink) -> dict[str, str]:
    """The holder's own values on record, by form field."""
    values = {row.key: row.value for row in reversed(link.contacts)}
    return {"email": link.own_email.value} | {
        name: values.get(FIELD_KEYS[name], "") for name in MAIN_ONLY_FIELDS
    }


def _fields(link: contacts.ConfirmationLink) -> list[str]:
    """What the holder may correct: their address, and the phone and method if they are the main contact."""
    return ["email", *(MAIN_ONLY_FIELDS if link.main else ())]


async def _page(link: contacts.ConfirmationLink, form: CsrfForm, status: int = 200) -> tuple[str, int]:
    if link.invited:
        return await render("confirm/invitation.html", link=link, form=form), status
    html = await render(
        "confirm/page.html", link=link, contacts=link.contacts, form=form, fields=_fields(link)
    )
    return html, status


@bp.get("/confirm/", defaults={"token": ""})
@bp.get("/confirm/<token>")
async def show(token: str) -> Any:
    """The question an invitation asks, or the holder's own details with the two answers. Changes nothing."""
    link = await contacts.read_link(token=token, config=current_app.config)
    form = OptInForm() if link.invited else ConfirmContactsForm(data=_on_record(link))
    return await _page(link, form)


@bp.post("/confirm/", defaults={"token": ""})
@bp.post("/confirm/<token>")
async def confirm(token: str) -> Any:
    """Consume the link: an invited address's answer, or a contact's confirmation and corrections."""
    link = await contacts.read_link(token=token, config=current_app.config)
    if link.invited:
        return await _answer_invitation(link, token)
    form = await ConfirmContactsForm.from_request()
    if not form.validate():
        return await _page(link, form, status=400 if form.csrf_token.errors else 422)
    try:
        await contacts.confirm_contacts(
            token=token, corrections=form.corrections(), note=form.note.data, config=current_app.config
        )
    except Invalid as error:
        form.show_errors(error.errors, _fields(link) + ["note"])
        return await _page(link, form, status=422)
    outcome = "corrected" if form.correct.data else "confirmed"
    return await render("confirm/done.html", ticket=link.ticket, outcome=outcome)


async def _answer_invitation(link: contacts.ConfirmationLink, token: str) -> Any:
    form = await OptInForm.from_request()
    if not form.validate():
        return await _page(link, form, status=400)
    if not (form.accept.data or form.decline.data):
        form.form_errors.append("Choose one of the two answers.")
        return await _page(link, form, status=422)
    accept = bool(form.accept.data)
    await contacts.answer_invitation(token=token, accept=accept, config=current_app.config)
    outcome = "opted-in" if accept else "declined"
    return await render("confirm/done.html", ticket=link.ticket, outcome=outcome)
