"""WTForms base for every HTML form: CSRF bound to the browser's session cookie; a service's
refusal shown on the form; the screens' forms."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self

from markupsafe import Markup
from quart import abort, current_app, g, request, session
from wtforms import (
    BooleanField,
    DateField,
    FileField,
    Form,
    HiddenField,
    IntegerField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.csrf.core import CSRFTokenField, ValidationError
from wtforms.csrf.session import SessionCSRF
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from helpdesk.errors import DomainError
from helpdesk.models import MAX_ID, State, StateKind
from helpdesk.services import assignment
from helpdesk.services.ticket_fields import LINKS
from helpdesk.services.tickets import CLASSIFICATIONS
from helpdesk.services.users import MAX_CAPACITY
from helpdesk.services.values import email_error, is_email, phone_error
from helpdesk.web.pages import form_status

SESSION_EXPIRED = "Your session expired. Reload the page and try again."


class _CsrfTokenField(CSRFTokenField):
    """The hidden token input as one string, written once a request: the ticket page has one per
    form (about a dozen), and the general widget spent ~30 us on each. No id: several forms on one
    page would repeat it."""

    def __call__(self, **kwargs: Any) -> Markup:
        if kwargs:
            return super().__call__(**kwargs)
        key = (self.name, self.current_token or "")  # the request's one token (_SessionCSRF)
        if g.get("csrf_input", (None,))[0] != key:
            g.csrf_input = (key, Markup('<input name="%s" type="hidden" value="%s">') % key)
        return g.csrf_input[1]


class _SessionCSRF(SessionCSRF):
    """SessionCSRF that refuses (instead of crashing) when the session has no CSRF secret yet."""

    field_class = _CsrfTokenField

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        """One token per request, shared by every form on the page (each is valid for any form):
        the ticket page builds several forms, and each token is an HMAC."""
        if "csrf_token" not in g:
            g.csrf_token = super().generate_csrf_token(csrf_token_field)
        return g.csrf_token

    def validate_csrf_token(self, form: Form, field: Any) -> None:
        if "csrf" not in self.session:
            raise ValidationError(SESSION_EXPIRED)
        super().validate_csrf_token(form, field)


class CsrfForm(Form):
    """Every form the app renders: a hidden csrf_token field checked on POST."""

    class Meta:
        csrf = True
        csrf_class = _SessionCSRF
        csrf_time_limit = timedelta(hours=12)

        @property
        def csrf_secret(self) -> bytes:
            return current_app.config["SECRET_KEY"].encode()

        @property
        def csrf_context(self) -> Any:
            return session

    @classmethod
    async def from_request(cls, **kwargs: Any) -> Self:
        """Bind the form to the submitted body on POST, or render it empty (or from `obj`)."""
        formdata = await request.form if request.method == "POST" else None
        return cls(formdata=formdata, **kwargs)


def token_form() -> CsrfForm:
    """The request's one form of buttons that post only the token: every such form on a page
    renders the same hidden token, so the ticket page builds it once instead of six times."""
    if "token_form" not in g:
        g.token_form = CsrfForm()
    return g.token_form


async def check_csrf() -> None:
    """A button that posts nothing but the token: a failed check is a 400 page, nothing changes."""
    if not (await CsrfForm.from_request()).validate():
        abort(400, SESSION_EXPIRED)


def show_refusal(form: Form, error: DomainError) -> int:
    """A service's refusal on the form: its message above the form, each field error it names on
    that field. The refusal's status (409, 422, 429...) is what the response should carry."""
    for name, messages in error.errors.items():
        if name in form:
            form[name].errors = list(messages)
    form.form_errors.append(error.message)
    return error.status


@dataclass(frozen=True)
class Outcome:
    """What became of a submitted form: the service's answer, or the status (400, 409, 422...) to
    show the form again with, its errors on it."""

    result: Any = None
    status: int = 200

    @property
    def refused(self) -> bool:
        return self.status >= 400


async def submit(form: CsrfForm, call: Callable[[], Awaitable[Any]], *refusals: type[DomainError]) -> Outcome:
    """Validate the form, then make the service call. A failed check, or a refusal of one of the
    kinds this screen shows on its form, comes back as the status to show the form again with."""
    if not form.validate():
        return Outcome(status=form_status(form))
    try:
        return Outcome(result=await call())
    except refusals as error:
        return Outcome(status=show_refusal(form, error))


def one_line(form: Form) -> str:
    """What is wrong with a form whose fields are not shown one by one, for a single alert:
    the refusal's message if a service refused, else every field's errors."""
    if form.form_errors:
        return " ".join(form.form_errors)
    return " ".join(e for errors in form.errors.values() for e in errors)


def classification_choices(states: list[State]) -> dict[str, list[State]]:
    """The catalogue split into each classification select's choices, by the select's name."""
    return {name: [s for s in states if s.kind == kind] for name, kind in CLASSIFICATIONS.items()}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# Ids are 32-bit in both databases: a larger number is a field error, not a database overflow.
AN_ID = NumberRange(min=1, max=MAX_ID, message="is not an id")


class Checked:
    """A field validator from one of services.values' rules, so a form refuses what the API and
    the services refuse (an empty field is left to Optional / DataRequired)."""

    def __init__(self, error: Callable[[str], str | None]) -> None:
        self.error = error

    def __call__(self, form: Form, field: Any) -> None:
        if field.data and (reason := self.error(field.data)):
            raise ValidationError(reason)


AN_EMAIL = Checked(email_error)
A_PHONE = Checked(phone_error)


class LoginForm(CsrfForm):
    email = StringField("Email", [DataRequired(), Length(max=254)], filters=[_strip])
    password = PasswordField("Password", [DataRequired(), Length(max=1000)])


class QueueFilterForm(Form):
    """The queue's filters and search. A GET form without CSRF: it changes nothing, and a token
    in the query string would leak into logs and Referer headers."""

    q = StringField("Search", [Optional(), Length(max=200)], filters=[_strip])
    state = IntegerField("State", [Optional(), AN_ID])
    priority = IntegerField("Priority", [Optional(), AN_ID])
    type = IntegerField("Type", [Optional(), AN_ID])
    group = IntegerField("Group", [Optional(), AN_ID])
    assignee = IntegerField("Assignee", [Optional(), AN_ID])
    organisation = StringField("Organisation", [Optional(), Length(max=64)], filters=[_strip])
    tag = StringField("Tag", [Optional(), Length(max=40)], filters=[_strip])
    sort = StringField("Sort", [Optional()])
    cursor = StringField("Cursor", [Optional(), Length(max=200)])

    def usable(self) -> "QueueFilterForm":
        """Validate, and drop what is invalid: a bad filter in a shared URL is ignored, not an error."""
        if not self.validate():
            for name in self.errors:
                self[name].data = None
        return self


class TicketFieldsForm(CsrfForm):
    """Classification, group and assignee of one ticket; an empty value clears the field."""

    version = IntegerField("Version", [DataRequired(), AN_ID])
    state = IntegerField("State", [Optional(), AN_ID])
    type = IntegerField("Type", [Optional(), AN_ID])
    priority = IntegerField("Priority", [Optional(), AN_ID])
    stage = IntegerField("Stage", [Optional(), AN_ID])
    outcome = IntegerField("Outcome", [Optional(), AN_ID])
    group = IntegerField("Group", [Optional(), AN_ID])
    assignee = IntegerField("Assignee", [Optional(), AN_ID])

    def values(self) -> dict[str, int | None]:
        return {name: self[name].data for name in LINKS}


class CommentForm(CsrfForm):
    body = TextAreaField("Message", [DataRequired(), Length(max=20000)])
    visibility = RadioField(
        "Visibility",
        choices=[
            Choice("public", "Public reply: the customer sees it"),
            Choice("internal", "Internal note: agents only"),
        ],
        default="public",
    )
    files = MultipleFileField("Files")  # read from request.files: web/uploads.py
    # The thread's newest comment id when the form was shown: later replies by others are a
    # collision (services/tickets.post_comment), unless the writer chose to send anyway.
    seen_through = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=0, max=MAX_ID)])
    send_anyway = BooleanField("Send anyway", default=False)
    then_state = IntegerField("Then set state", [Optional(), AN_ID])  # agents: send and set state


class DraftForm(CsrfForm):
    """The reply being written, saved as it is typed (services/presence.save_draft)."""

    body = TextAreaField("Message", [Length(max=20000)])
    visibility = RadioField(
        "Visibility", choices=[Choice("public", "public"), Choice("internal", "internal")], default="public"
    )


class PresenceForm(CsrfForm):
    """A ticket page's heartbeat: it is open, and its reply box is being typed in or not."""

    typing = BooleanField("Typing", default=False)


class ContactForm(CsrfForm):
    key = SelectField(
        "Contact",
        choices=[
            Choice("main_email", "Main email"),
            Choice("phone_number", "Phone number"),
            Choice("preferred_contact_method", "Preferred contact method"),
            Choice("additional_email", "Additional email"),
        ],
    )
    value = StringField("Value", [DataRequired(), Length(max=1000)], filters=[_strip])


class NewTicketForm(CsrfForm):
    """An agent's new ticket: the organisation by name or ID from the directory, its reporter, and
    an acknowledgement to file for an organisation or reporter the directory does not know."""

    title = StringField("Title", [DataRequired(), Length(max=255)], filters=[_strip])
    description = TextAreaField("Description", [DataRequired(), Length(max=20000)])
    files = MultipleFileField("Files")  # read from request.files: web/uploads.py
    organisation = StringField("Organisation", [DataRequired(), Length(max=255)], filters=[_strip])
    contract = StringField("Contract ID", [DataRequired(), Length(max=64)], filters=[_strip])
    tenant = StringField("Tenant ID", [DataRequired(), Length(max=64)], filters=[_strip])
    reporter = StringField("Reporter", [DataRequired(), Length(max=254)], filters=[_strip])
    main_email = StringField("Main email", [Optional(), Length(max=254), AN_EMAIL], filters=[_strip])
    phone_number = StringField("Phone number", [Optional(), Length(max=64), A_PHONE], filters=[_strip])
    additional_emails = TextAreaField("Additional emails (one a line)", [Optional(), Length(max=10_000)])
    priority = IntegerField("Priority", [Optional(), AN_ID])
    type = IntegerField("Type", [Optional(), AN_ID])
    group = IntegerField("Group", [Optional(), AN_ID])
    unknown_ok = BooleanField("File it anyway: I have checked the organisation and reporter")

    def additional_email_list(self) -> list[str]:
        """The additional addresses, one a line, each once, blank lines left out."""
        lines = (line.strip() for line in (self.additional_emails.data or "").splitlines())
        return list(dict.fromkeys(line for line in lines if line))

    def validate_additional_emails(self, field: TextAreaField) -> None:
        if not all(is_email(address) for address in self.additional_email_list()):
            raise ValidationError("one email address a line")


class CustomerTicketForm(NewTicketForm):
    """A customer's new ticket: their organisation and themselves as the reporter; the contract and
    tenant come from their organisation (they cannot know those IDs)."""

    contract = None
    tenant = None
    unknown_ok = None


class TicketEditForm(CsrfForm):
    """An agent rewriting a ticket's words and parties, against the version they saw."""

    version = IntegerField("Version", [DataRequired(), AN_ID])
    title = StringField("Title", [DataRequired(), Length(max=255)], filters=[_strip])
    description = TextAreaField("Description", [DataRequired(), Length(max=20000)])
    organisation = StringField("Organisation", [DataRequired(), Length(max=255)], filters=[_strip])
    reporter = StringField("Reporter", [DataRequired(), Length(max=254)], filters=[_strip])
    unknown_ok = BooleanField("Save it anyway: I have checked the organisation and reporter")


BULK_ACTIONS = [
    Choice("state", "Set state"),
    Choice("priority", "Set priority"),
    Choice("group", "Set group"),
    Choice("assignee", "Assign to"),
    Choice("reply", "Reply to each"),
    Choice("note", "Internal note on each"),
    Choice("add_tag", "Add tag"),
    Choice("remove_tag", "Remove tag"),
]


class BulkForm(CsrfForm):
    """A queue's selected rows (`ticket`, repeated) and what to do with each: set a field (the
    select named after the action; empty clears group and assignee) or post `body`."""

    action = SelectField("With the selected", choices=BULK_ACTIONS)
    state = IntegerField("State", [Optional(), AN_ID])
    priority = IntegerField("Priority", [Optional(), AN_ID])
    group = IntegerField("Group", [Optional(), AN_ID])
    assignee = IntegerField("Assignee", [Optional(), AN_ID])
    body = TextAreaField("Message", [Optional(), Length(max=20000)])
    tag = StringField("Tag", [Optional(), Length(max=40)], filters=[_strip])
    next = HiddenField("Back to", [Optional(), Length(max=2000)])

    def value(self) -> Any:
        """What the chosen action sets or posts."""
        field = {"reply": "body", "note": "body", "add_tag": "tag", "remove_tag": "tag"}.get(self.action.data)
        return self[field or self.action.data].data


class UserForm(CsrfForm):
    email = StringField("Email", [DataRequired(), Length(max=254), AN_EMAIL], filters=[_strip])
    name = StringField("Name", [DataRequired(), Length(max=255)], filters=[_strip])
    phone = StringField("Phone", [Optional(), Length(max=64)], filters=[_strip])
    organisation_hid = StringField(
        "Organisation ID (customers)", [Optional(), Length(max=64)], filters=[_strip]
    )
    agent = BooleanField("Agent")
    admin = BooleanField("Admin")
    capacity = IntegerField(
        "Open tickets at most (assignment rules; empty: no limit)",
        [Optional(), NumberRange(min=0, max=MAX_CAPACITY)],
    )


class NewUserForm(UserForm):
    """A new user: they get an invitation email and choose their own password."""

    capacity = None  # set on the user's own page once they exist


class NameForm(CsrfForm):
    name = StringField("Name", [DataRequired(), Length(max=100)], filters=[_strip])


class MemberForm(CsrfForm):
    user = IntegerField("Agent", [DataRequired(), AN_ID])


class AssignmentForm(CsrfForm):
    assignment = SelectField(
        "New tickets go to", choices=[Choice(mode.value, label) for mode, label in assignment.LABELS.items()]
    )


class AvailabilityForm(CsrfForm):
    """One's own switch: a hidden `true` or `false` rides with the button that flips it."""

    available = BooleanField("Available for new tickets", false_values=("false", ""))


class StateForm(CsrfForm):
    kind = SelectField("Kind", choices=[Choice(k.value, k.name.title()) for k in StateKind], coerce=int)
    description = StringField("Description", [DataRequired(), Length(max=100)], filters=[_strip])
    position = IntegerField("Position in its kind", [Optional(), NumberRange(min=0, max=MAX_ID)])
    closes = BooleanField("Resolves the ticket (states only)")
    pauses_sla = BooleanField("Pauses the SLA clocks (states only), e.g. waiting for the customer")


class OrganisationForm(CsrfForm):
    human_id = StringField("Organisation ID", [DataRequired(), Length(max=64)], filters=[_strip])
    name = StringField("Name", [DataRequired(), Length(max=255)], filters=[_strip])
    legal_name = StringField("Legal name", [DataRequired(), Length(max=255)], filters=[_strip])
    role = SelectField("Role", choices=[Choice("customer", "Customer"), Choice("partner", "Partner")])
    parent = StringField("Partner ID (optional)", [Optional(), Length(max=64)], filters=[_strip])
    default_contract = StringField("Default contract ID", [Optional(), Length(max=64)], filters=[_strip])
    default_tenant = StringField("Default tenant ID", [Optional(), Length(max=64)], filters=[_strip])


# --- service levels (Admin → Calendars, SLA policies; issue 17)


def _id_or_none(value: Any) -> int | None:
    """A select's value as an id; its empty choice ("Any") as None."""
    return None if value in ("", None) else int(value)


def _text_or_none(value: Any) -> str | None:
    return value or None


MINUTES = [Optional(), NumberRange(min=1, max=525_600, message="whole minutes, 1 to 525,600 (a year)")]
# PostgreSQL stores no NUL character: typed in a name, it is a field error, not a database fault.
STORABLE = Checked(lambda text: "may not contain NUL characters" if "\x00" in text else None)


class CalendarForm(CsrfForm):
    name = StringField("Name", [DataRequired(), Length(max=100), STORABLE], filters=[_strip])
    time_zone = StringField("Time zone", [DataRequired(), Length(max=64)], filters=[_strip])
    hours = TextAreaField("Business hours", [DataRequired(), Length(max=1000)], filters=[_strip])


class HolidayForm(CsrfForm):
    day = DateField("Date", [DataRequired(message="a date, e.g. 2026-12-25")])
    name = StringField("Name", [DataRequired(), Length(max=100), STORABLE], filters=[_strip])


class HolidayImportForm(CsrfForm):
    file = FileField("iCalendar file (.ics)")  # read from request.files by the handler


class PolicyForm(CsrfForm):
    """A service level policy; the selects' choices come from the catalogue, directory, groups
    and calendars when the screen is built (the service checks what is chosen exists)."""

    name = StringField("Name", [DataRequired(), Length(max=100), STORABLE], filters=[_strip])
    priority = SelectField("Priority", coerce=_id_or_none, validate_choice=False)
    type = SelectField("Type", coerce=_id_or_none, validate_choice=False)
    organisation = SelectField(
        "Organisation (or its partner)",
        [Length(max=64), STORABLE],
        coerce=_text_or_none,
        validate_choice=False,
    )
    group = SelectField("Group", coerce=_id_or_none, validate_choice=False)
    calendar = SelectField(
        "Calendar", [DataRequired(message="choose a calendar")], coerce=_id_or_none, validate_choice=False
    )
    first_response = IntegerField("First response (minutes)", MINUTES)
    next_response = IntegerField("Next response (minutes)", MINUTES)
    resolution = IntegerField("Resolution (minutes)", MINUTES)
    warn_percent = IntegerField(
        "Warn at (% of the time used)", [DataRequired(), NumberRange(min=1, max=99)], default=80
    )
    active = BooleanField("Active", default=True)

    def values(self) -> dict[str, Any]:
        """The policy's columns as the service takes them."""
        return {
            "name": self.name.data, "priority_id": self.priority.data, "type_id": self.type.data,
            "organisation_hid": self.organisation.data, "group_id": self.group.data,
            "calendar_id": self.calendar.data, "first_response_minutes": self.first_response.data,
            "next_response_minutes": self.next_response.data, "resolution_minutes": self.resolution.data,
            "warn_percent": self.warn_percent.data, "active": self.active.data,
        }  # fmt: skip


# --- the account and password screens: the password rule itself lives in services/passwords.py


class ChangePasswordForm(CsrfForm):
    current_password = PasswordField("Current password", [DataRequired(), Length(max=1000)])
    new_password = PasswordField("New password", [DataRequired(), Length(max=1000)])
    repeat = PasswordField("New password again", [DataRequired(), EqualTo("new_password", "does not match")])


class NewPasswordForm(CsrfForm):
    password = PasswordField("New password", [DataRequired(), Length(max=1000)])
    repeat = PasswordField("New password again", [DataRequired(), EqualTo("password", "does not match")])


class EmailForm(CsrfForm):
    email = StringField("Email", [DataRequired(), Length(max=254)], filters=[_strip])


class NewEmailForm(CsrfForm):
    email = StringField("New email", [DataRequired(), Length(max=254), AN_EMAIL], filters=[_strip])


class TimeZoneForm(CsrfForm):
    time_zone = StringField("Time zone", [Optional(), Length(max=64)], filters=[_strip])


class EndSessionForm(CsrfForm):
    session = HiddenField("Session", [DataRequired(), Length(max=64)])
