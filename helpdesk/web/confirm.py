"""The public contact-confirmation pages a customer reaches from the link in an email."""

from typing import Any

from quart import Blueprint, Response, current_app
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional

from helpdesk.errors import Invalid, LinkRefused
from helpdesk.services import contacts
from helpdesk.web.forms import CsrfForm
from helpdesk.web.pages import error_page, render

bp = Blueprint("confirm", __name__)

# Form field -> contact attribute key.
FIELD_KEYS = {
    "main_email": "mainEmail",
    "phone_number": "phoneNumber",
    "preferred_contact_method": "preferredContactMethod",
}


class ConfirmContactsForm(CsrfForm):
    """The customer's answer: the details are right, or here are the right ones."""

    main_email = StringField("Main email", [Optional(), Length(max=254)])
    phone_number = StringField("Phone number", [Optional(), Length(max=64)])
    preferred_contact_method = StringField("Preferred contact method", [Optional(), Length(max=100)])
    confirm = SubmitField("These are correct")
    correct = SubmitField("Save corrections")

    def corrections(self) -> dict[str, str] | None:
        """The corrected values, or None when the customer confirmed the details as they are."""
        return {key: self[name].data for name, key in FIELD_KEYS.items()} if self.correct.data else None

    def show_errors(self, errors: dict[str, list[str]]) -> None:
        """Attach a service's validation errors to the fields they name."""
        for name, key in FIELD_KEYS.items():
            self[name].errors = list(errors.get(key, []))


def _on_record(link: contacts.ConfirmationLink) -> dict[str, str]:
    """The first value on record of each correctable contact key, by form field."""
    values: dict[str, str] = {}
    for row in link.contacts:
        values.setdefault(row.key, row.value)
    return {name: values.get(key, "") for name, key in FIELD_KEYS.items()}


async def _page(
    link: contacts.ConfirmationLink, form: ConfirmContactsForm, status: int = 200
) -> tuple[str, int]:
    shown = [row for row in link.contacts if row.enabled]
    html = await render("confirm/page.html", link=link, contacts=shown, form=form)
    return html, status


@bp.after_request
async def private_page(response: Response) -> Response:
    """The token is in the URL: never send it on as a Referer, never keep the page in a cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(Exception)
async def unexpected(error: Exception) -> Response:
    """Any other failure: the site's error page, logged without the token in the URL."""
    return await error_page(error)


@bp.errorhandler(LinkRefused)
async def refused(error: LinkRefused) -> tuple[str, int]:
    """An expired, used or altered link: say so, and how to get a new one."""
    return await render("confirm/refused.html", error=error), error.status


@bp.get("/confirm/", defaults={"token": ""})
@bp.get("/confirm/<token>")
async def show(token: str) -> Any:
    """The ticket and the contact details on record, with the two answers. Changes nothing."""
    link = await contacts.read_link(token=token, config=current_app.config)
    return await _page(link, ConfirmContactsForm(data=_on_record(link)))


@bp.post("/confirm/", defaults={"token": ""})
@bp.post("/confirm/<token>")
async def confirm(token: str) -> Any:
    """Consume the link: record the confirmation, with the customer's corrections if any."""
    link = await contacts.read_link(token=token, config=current_app.config)
    form = await ConfirmContactsForm.from_request()
    if not form.validate():
        return await _page(link, form, status=400 if form.csrf_token.errors else 422)
    try:
        await contacts.confirm_contacts(
            token=token, corrections=form.corrections(), config=current_app.config
        )
    except Invalid as error:
        form.show_errors(error.errors)
        return await _page(link, form, status=422)
    return await render("confirm/done.html", ticket=link.ticket, corrected=form.correct.data)
