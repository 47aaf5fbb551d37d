"""Admin screens for service levels (issue 17): business-hours calendars with their holidays (added
one by one or imported from an iCalendar file), and the ordered SLA policies.

Routes of the admin blueprint (admins only, its before_request), shaped like the other admin
screens: plain forms that post and redirect, saying what they did; deletions asked first."""

from functools import partial
from typing import Any

from quart import request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from helpdesk.errors import Invalid
from helpdesk.models import SlaCalendar, SlaPolicy, StateKind
from helpdesk.services import accounts, admin, catalog, sla_admin
from helpdesk.web.admin import ask_first, bp, done, save_form, screen
from helpdesk.web.auth import current_user
from helpdesk.web.forms import (
    CalendarForm,
    CsrfForm,
    HolidayForm,
    HolidayImportForm,
    PolicyForm,
    check_csrf,
    one_line,
    show_refusal,
    token_form,
)
from helpdesk.web.pages import form_status

HOURS_HINT = 'Days and times, e.g. "Mon-Fri 09:00-17:30; Sat 10:00-12:00".'
ICS_LIMIT = 1_000_000  # bytes: a year of public holidays is a few kilobytes

# --- calendars -------------------------------------------------------------------------------


@bp.get("/calendars")
async def calendars(form: CalendarForm | None = None, status: int = 200):
    """Every calendar, and a form to add one."""
    listed = await sla_admin.list_calendars(actor=await current_user())
    context = {"calendars": listed, "time_zones": accounts.time_zones(), "hours_hint": HOURS_HINT}
    return await screen("admin/calendars.html", status, form=form or CalendarForm(), **context)


@bp.post("/calendars")
async def create_calendar():
    """Add a calendar."""
    form = await CalendarForm.from_request()
    create = partial(sla_admin.create_calendar, **_calendar_values(form), actor=await current_user())
    return await save_form(form, create, url_for("admin.calendars"), calendars, _calendar_added)


def _calendar_values(form: CalendarForm) -> dict[str, Any]:
    return {"name": form.name.data, "time_zone": form.time_zone.data, "hours": form.hours.data}


def _calendar_added(calendar: SlaCalendar) -> str:
    return f"Added the calendar {calendar.name}: {calendar.hours} ({calendar.time_zone})."


@bp.get("/calendars/<int:calendar_id>")
async def calendar(calendar_id: int, status: int = 200, error: str = "", **forms: Any):
    """One calendar: its name, zone and hours; its holidays, added one by one or from a file."""
    found = await sla_admin.get_calendar(calendar_id=calendar_id, actor=await current_user())
    context = {
        "calendar": found,
        "holidays": sorted(found.holidays, key=lambda h: h.day),
        "form": forms.get("form") or CalendarForm(obj=found),
        "holiday_form": forms.get("holiday_form") or HolidayForm(),
        "import_form": forms.get("import_form") or HolidayImportForm(),
        "action": token_form(),
        "error": error,
    }
    context |= {"time_zones": accounts.time_zones(), "hours_hint": HOURS_HINT}
    return await screen("admin/calendar.html", status, **context)


def _calendar_again(calendar_id: int, name: str) -> Any:
    """The calendar's page again with the form `name` as it was posted, its errors on it."""

    async def again(form: CsrfForm, status: int) -> Any:
        return await calendar(calendar_id, status, **{name: form})

    return again


@bp.post("/calendars/<int:calendar_id>")
async def update_calendar(calendar_id: int):
    """Save a calendar's name, time zone and hours."""
    form = await CalendarForm.from_request()
    update = partial(
        sla_admin.update_calendar,
        calendar_id=calendar_id,
        changes=_calendar_values(form),
        actor=await current_user(),
    )
    location = url_for("admin.calendar", calendar_id=calendar_id)
    saved = _calendar_again(calendar_id, "form")
    return await save_form(form, update, location, saved, lambda c: f"Saved the calendar {c.name}.")


@bp.post("/calendars/<int:calendar_id>/holidays")
async def add_holiday(calendar_id: int):
    """Add a holiday to the calendar."""
    form = await HolidayForm.from_request()
    add = partial(
        sla_admin.add_holiday,
        calendar_id=calendar_id,
        day=form.day.data,
        name=form.name.data,
        actor=await current_user(),
    )
    location = url_for("admin.calendar", calendar_id=calendar_id)
    again = _calendar_again(calendar_id, "holiday_form")
    return await save_form(form, add, location, again, lambda h: f"Added {h.name} on {h.day.isoformat()}.")


@bp.post("/calendars/<int:calendar_id>/holidays/<int:holiday_id>/remove")
async def remove_holiday(calendar_id: int, holiday_id: int):
    """Take a holiday off the calendar."""
    await check_csrf()
    actor = await current_user()
    removed = await sla_admin.remove_holiday(calendar_id=calendar_id, holiday_id=holiday_id, actor=actor)
    said = f"Removed {removed.name} on {removed.day.isoformat()}." if removed else "Nothing to remove."
    return done(url_for("admin.calendar", calendar_id=calendar_id), said)


@bp.post("/calendars/<int:calendar_id>/holidays/import")
async def import_holidays(calendar_id: int):
    """Add the holidays of an uploaded iCalendar file; says how many were new."""
    again = _calendar_again(calendar_id, "import_form")
    try:
        form = await HolidayImportForm.from_request()
        upload = (await request.files).get("file")
    except RequestEntityTooLarge:
        form = HolidayImportForm(formdata=None)
        return await again(form, _refused(form, "That file is too large for a calendar of holidays."))
    ical = upload.read(ICS_LIMIT + 1) if upload else b""
    if not form.validate():
        return await again(form, form_status(form))
    if not ical or len(ical) > ICS_LIMIT:
        why = (
            "Choose an .ics file to import."
            if not ical
            else "That file is too large for a calendar of holidays."
        )
        return await again(form, _refused(form, why))
    try:
        added = await sla_admin.import_holidays(
            calendar_id=calendar_id, ical=ical, actor=await current_user()
        )
    except Invalid as error:
        return await again(form, show_refusal(form, error))
    said = f"Imported {added} holiday{'' if added == 1 else 's'} from {upload.filename or 'the file'}."
    return done(url_for("admin.calendar", calendar_id=calendar_id), said)


def _refused(form: HolidayImportForm, message: str) -> int:
    return show_refusal(form, Invalid(message, {"file": [message]}))


@bp.get("/calendars/<int:calendar_id>/delete")
async def ask_delete_calendar(calendar_id: int):
    """Ask before deleting a calendar."""
    found = await sla_admin.get_calendar(calendar_id=calendar_id, actor=await current_user())
    return await ask_first(
        question=f"Delete the calendar {found.name}?",
        action=url_for("admin.delete_calendar", calendar_id=calendar_id),
        button=f"Delete {found.name}",
        explain="Its hours and holidays are deleted. A calendar that a policy uses cannot be deleted: "
        "give the policy another calendar first.",
        back=url_for("admin.calendar", calendar_id=calendar_id),
    )


@bp.post("/calendars/<int:calendar_id>/delete")
async def delete_calendar(calendar_id: int):
    """Delete a calendar no policy uses; one in use is refused with the policies that use it."""
    form = await CsrfForm.from_request()
    delete = partial(sla_admin.delete_calendar, calendar_id=calendar_id, actor=await current_user())

    async def again(form: CsrfForm, status: int) -> Any:
        return await calendar(calendar_id, status, error=one_line(form))

    return await save_form(
        form, delete, url_for("admin.calendars"), again, lambda c: f"Deleted the calendar {c.name}."
    )


# --- policies --------------------------------------------------------------------------------


@bp.get("/sla-policies")
async def sla_policies(form: PolicyForm | None = None, status: int = 200):
    """The policies in the order they are tried, and a form to add one."""
    actor = await current_user()
    form = await _with_choices(form or PolicyForm(), actor)
    context = {"policies": await sla_admin.list_policies(actor=actor), "action": token_form()}
    return await screen("admin/sla_policies.html", status, form=form, **context)


@bp.post("/sla-policies")
async def create_sla_policy():
    """Add a policy, tried after the others."""
    form = await PolicyForm.from_request()
    create = partial(sla_admin.create_policy, values=form.values(), actor=await current_user())
    return await save_form(
        form, create, url_for("admin.sla_policies"), sla_policies, lambda p: f"Added the policy {p.name}."
    )


@bp.get("/sla-policies/<int:policy_id>")
async def sla_policy(policy_id: int, form: PolicyForm | None = None, status: int = 200):
    """One policy's conditions, calendar and targets."""
    actor = await current_user()
    policy = await sla_admin.get_policy(policy_id=policy_id, actor=actor)
    form = await _with_choices(form or PolicyForm(data=_policy_data(policy)), actor)
    return await screen("admin/sla_policy.html", status, policy=policy, form=form)


def _policy_data(policy: SlaPolicy) -> dict[str, Any]:
    """The form's fields from the policy's columns."""
    return {
        "name": policy.name, "warn_percent": policy.warn_percent, "active": policy.active,
        "priority": policy.priority_id, "type": policy.type_id, "organisation": policy.organisation_hid,
        "group": policy.group_id, "calendar": policy.calendar_id,
        "first_response": policy.first_response_minutes, "next_response": policy.next_response_minutes,
        "resolution": policy.resolution_minutes,
    }  # fmt: skip


@bp.post("/sla-policies/<int:policy_id>")
async def update_sla_policy(policy_id: int):
    """Save a policy."""
    form = await PolicyForm.from_request()
    update = partial(
        sla_admin.update_policy, policy_id=policy_id, changes=form.values(), actor=await current_user()
    )

    async def again(form: PolicyForm, status: int) -> Any:
        return await sla_policy(policy_id, form, status)

    location = url_for("admin.sla_policies")
    return await save_form(form, update, location, again, lambda p: f"Saved the policy {p.name}.")


@bp.post("/sla-policies/<int:policy_id>/move")
async def move_sla_policy(policy_id: int):
    """Try the policy one place earlier (`direction=up`) or later."""
    await check_csrf()
    by = -1 if (await request.form).get("direction") == "up" else 1
    policy = await sla_admin.move_policy(policy_id=policy_id, by=by, actor=await current_user())
    said = f"{policy.name} is now tried {_ordinal(policy.position + 1)}."
    return done(url_for("admin.sla_policies"), said)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@bp.get("/sla-policies/<int:policy_id>/delete")
async def ask_delete_sla_policy(policy_id: int):
    """Ask before deleting a policy."""
    policy = await sla_admin.get_policy(policy_id=policy_id, actor=await current_user())
    return await ask_first(
        question=f"Delete the policy {policy.name}?",
        action=url_for("admin.delete_sla_policy", policy_id=policy_id),
        button=f"Delete {policy.name}",
        explain="Its open tickets are measured by the next policy that matches them, or by none.",
        back=url_for("admin.sla_policy", policy_id=policy_id),
    )


@bp.post("/sla-policies/<int:policy_id>/delete")
async def delete_sla_policy(policy_id: int):
    """Delete a policy."""
    await check_csrf()
    policy = await sla_admin.delete_policy(policy_id=policy_id, actor=await current_user())
    return done(url_for("admin.sla_policies"), f"Deleted the policy {policy.name}.")


async def _with_choices(form: PolicyForm, actor: Any) -> PolicyForm:
    """The policy form with its selects' choices: the catalogue, directory, groups and calendars."""
    states = await catalog.list_states()
    kinds = {"priority": StateKind.PRIORITY, "type": StateKind.TYPE}
    for name, kind in kinds.items():
        form[name].choices = [("", "Any")] + [(s.id, s.description) for s in states if s.kind == kind]
    directory = await admin.list_organisations(actor=actor)
    form.organisation.choices = [("", "Any")] + [(o.human_id, f"{o.name} ({o.human_id})") for o in directory]
    form.group.choices = [("", "Any")] + [(g.id, g.name) for g in await catalog.list_groups(actor=actor)]
    calendars = await sla_admin.list_calendars(actor=actor)
    form.calendar.choices = [("", "Choose…")] + [(c.id, c.name) for c in calendars]
    return form
