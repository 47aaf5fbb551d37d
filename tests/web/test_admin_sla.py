"""Admin → Calendars and SLA policies, and the States screen's "pauses SLA" (issue 17): forms with
CSRF, refusals shown on the form, holidays from an iCalendar file, the policies' order."""

import io
import re

import pytest
from werkzeug.datastructures import FileStorage

from helpdesk.models import SlaCalendar, SlaHoliday, SlaPolicy, State, StateKind
from tests.factories import make_admin, make_agent
from tests.web.conftest import csrf_token, sign_in

NOTICE = re.compile(r'<div class="notice" role="status">(.*?)</div>', re.DOTALL)
ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//holidays//EN\r
BEGIN:VEVENT\r
UID:1\r
DTSTART;VALUE=DATE:20261225\r
DTEND;VALUE=DATE:20261227\r
SUMMARY:Christmas\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2\r
DTSTART:20261224T100000Z\r
DTEND:20261224T110000Z\r
SUMMARY:A meeting, not a holiday\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
async def admin_client(client):
    await sign_in(client, await make_admin())
    return client


async def _said(client, response) -> str:
    assert response.status_code == 303, await response.get_data(as_text=True)
    html = await (await client.get(response.headers["Location"])).get_data(as_text=True)
    found = NOTICE.search(html)
    assert found, "no notice after the change"
    return " ".join(found.group(1).split())


async def _calendar(name: str = "UK office") -> SlaCalendar:
    return await SlaCalendar.create(name=name, time_zone="Europe/London", hours="Mon-Fri 09:00-17:30")


async def test_only_admins_open_the_screens(client):
    await sign_in(client, await make_agent())
    calendar = await _calendar()
    for path in ("/admin/calendars", f"/admin/calendars/{calendar.id}", "/admin/sla-policies"):
        assert (await client.get(path)).status_code == 403, path
    token = await csrf_token(client, "/tickets/new")
    form = {"csrf_token": token, "name": "Sneaky", "time_zone": "UTC", "hours": "Mon 09:00-10:00"}
    assert (await client.post("/admin/calendars", form=form)).status_code == 403
    assert not await SlaCalendar.exists(name="Sneaky")


async def test_add_a_calendar_and_its_hours_are_kept_in_the_canonical_text(admin_client):
    page = await (await admin_client.get("/admin/calendars")).get_data(as_text=True)
    assert 'aria-current="page">Calendars' in page and 'list="time-zones"' in page
    token = await csrf_token(admin_client, "/admin/calendars")
    form = {
        "csrf_token": token,
        "name": "UK office",
        "time_zone": "Europe/London",
        "hours": "mon-fri 9:00-17:30",
    }
    said = await _said(admin_client, await admin_client.post("/admin/calendars", form=form))
    assert said == "Added the calendar UK office: Mon-Fri 09:00-17:30 (Europe/London)."
    assert (await SlaCalendar.get(name="UK office")).hours == "Mon-Fri 09:00-17:30"


@pytest.mark.parametrize(
    ("hours", "says"),
    [
        ("Mon-Fri 9-5", "&#39;9-5&#39; is not a time range like 09:00-17:30"),
        ("Funday 09:00-17:00", "is not a day"),
        ("Mon 09:00-17:00, 10:00-11:00", "overlaps"),
    ],
)
async def test_bad_hours_come_back_on_the_form_with_what_is_wrong(admin_client, hours, says):
    token = await csrf_token(admin_client, "/admin/calendars")
    form = {"csrf_token": token, "name": "Odd", "time_zone": "Europe/London", "hours": hours}
    response = await admin_client.post("/admin/calendars", form=form)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="hours-error">[^<]*' + re.escape(says), html), html
    assert 'aria-invalid="true"' in html and re.search(
        rf">\s*{re.escape(hours)}</textarea>", html
    )  # as typed
    assert not await SlaCalendar.exists(name="Odd")


async def test_an_unknown_time_zone_is_refused_beside_its_field(admin_client):
    token = await csrf_token(admin_client, "/admin/calendars")
    form = {"csrf_token": token, "name": "Mars", "time_zone": "Mars/Olympus", "hours": "Mon 09:00-10:00"}
    response = await admin_client.post("/admin/calendars", form=form)
    assert (
        response.status_code == 422
        and 'id="time_zone-error">is not a time zone' in await response.get_data(as_text=True)
    )


async def test_a_post_without_its_csrf_token_changes_nothing(admin_client):
    calendar = await _calendar()
    form = {"name": "Renamed", "time_zone": "UTC", "hours": "Mon 09:00-10:00"}
    response = await admin_client.post(f"/admin/calendars/{calendar.id}", form=form)
    assert response.status_code == 400
    assert (await SlaCalendar.get(id=calendar.id)).name == "UK office"
    bad = await admin_client.post(f"/admin/calendars/{calendar.id}/holidays/import", files={})
    assert bad.status_code == 400 and not await SlaHoliday.exists()


async def test_edit_a_calendar_and_add_and_remove_a_holiday(admin_client):
    calendar = await _calendar()
    token = await csrf_token(admin_client, f"/admin/calendars/{calendar.id}")
    form = {
        "csrf_token": token,
        "name": "London",
        "time_zone": "Europe/London",
        "hours": "Mon-Sat 08:00-12:00",
    }
    said = await _said(admin_client, await admin_client.post(f"/admin/calendars/{calendar.id}", form=form))
    assert said == "Saved the calendar London."
    url = f"/admin/calendars/{calendar.id}/holidays"
    holiday = {"csrf_token": token, "day": "2026-12-25", "name": "Christmas Day"}
    assert (
        await _said(admin_client, await admin_client.post(url, form=holiday))
        == "Added Christmas Day on 2026-12-25."
    )
    twice = await admin_client.post(url, form=holiday)
    assert twice.status_code == 409 and "already a holiday" in await twice.get_data(as_text=True)
    no_date = await admin_client.post(url, form=holiday | {"day": "25/12"})
    assert no_date.status_code == 422 and 'id="day-error"' in await no_date.get_data(as_text=True)
    added = await SlaHoliday.get(calendar_id=calendar.id)
    remove = await admin_client.post(f"{url}/{added.id}/remove", form={"csrf_token": token})
    assert await _said(admin_client, remove) == "Removed Christmas Day on 2026-12-25."
    assert not await SlaHoliday.exists()


async def test_import_holidays_from_an_ics_file(admin_client):
    calendar = await _calendar()
    await SlaHoliday.create(calendar=calendar, day="2026-12-25", name="Christmas Day")
    token = await csrf_token(admin_client, f"/admin/calendars/{calendar.id}")
    url = f"/admin/calendars/{calendar.id}/holidays/import"
    response = await admin_client.post(
        url, form={"csrf_token": token}, files={"file": _upload("holidays.ics", ICS)}
    )
    # Christmas was there already; Boxing Day is new; the timed meeting is no holiday.
    assert await _said(admin_client, response) == "Imported 1 holiday from holidays.ics."
    days = await SlaHoliday.filter(calendar=calendar).order_by("day").values_list("day", "name")
    assert [(d.isoformat(), n) for d, n in days] == [
        ("2026-12-25", "Christmas Day"),
        ("2026-12-26", "Christmas"),
    ]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"this is not a calendar", "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no all-day events"),
        (b"", "Choose an .ics file"),
    ],
)
async def test_a_bad_ics_file_is_refused_with_a_message(admin_client, content, says):
    calendar = await _calendar()
    token = await csrf_token(admin_client, f"/admin/calendars/{calendar.id}")
    url = f"/admin/calendars/{calendar.id}/holidays/import"
    response = await admin_client.post(
        url, form={"csrf_token": token}, files={"file": _upload("x.ics", content)}
    )
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and says in html and 'id="file-error"' in html
    assert not await SlaHoliday.exists()


def _upload(name: str, content: bytes) -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name, content_type="text/calendar")


async def test_a_calendar_in_use_is_not_deleted_and_says_by_whom(admin_client):
    calendar, spare = await _calendar(), await _calendar("Spare")
    await SlaPolicy.create(name="Gold", calendar=calendar, first_response_minutes=60)
    asked = await (await admin_client.get(f"/admin/calendars/{calendar.id}/delete")).get_data(as_text=True)
    assert "Delete the calendar UK office?" in asked
    token = await csrf_token(admin_client, f"/admin/calendars/{calendar.id}")
    refused = await admin_client.post(f"/admin/calendars/{calendar.id}/delete", form={"csrf_token": token})
    assert refused.status_code == 409 and "UK office is the calendar of Gold" in await refused.get_data(
        as_text=True
    )
    deleted = await admin_client.post(f"/admin/calendars/{spare.id}/delete", form={"csrf_token": token})
    assert await _said(admin_client, deleted) == "Deleted the calendar Spare."
    assert await SlaCalendar.exists(id=calendar.id) and not await SlaCalendar.exists(id=spare.id)


async def test_add_edit_order_and_delete_policies(admin_client):
    calendar = await _calendar()
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    page = await (await admin_client.get("/admin/sla-policies")).get_data(as_text=True)
    assert f'<option value="{priority.id}">{priority.description}</option>' in page
    token = await csrf_token(admin_client, "/admin/sla-policies")
    base = {"csrf_token": token, "calendar": str(calendar.id), "warn_percent": "80", "active": "y"}
    gold = base | {"name": "Gold", "priority": str(priority.id), "first_response": "60", "resolution": "480"}
    assert (
        await _said(admin_client, await admin_client.post("/admin/sla-policies", form=gold))
        == "Added the policy Gold."
    )
    silver = base | {"name": "Silver", "resolution": "2400"}
    await _said(admin_client, await admin_client.post("/admin/sla-policies", form=silver))
    policies = await SlaPolicy.all().order_by("position", "id")
    assert [(p.name, p.priority_id, p.first_response_minutes, p.next_response_minutes) for p in policies] == [
        ("Gold", priority.id, 60, None), ("Silver", None, None, None),
    ]  # fmt: skip
    gold_id, silver_id = policies[0].id, policies[1].id
    moved = await admin_client.post(
        f"/admin/sla-policies/{silver_id}/move", form={"csrf_token": token, "direction": "up"}
    )
    assert await _said(admin_client, moved) == "Silver is now tried 1st."
    assert [p.name for p in await SlaPolicy.all().order_by("position", "id")] == ["Silver", "Gold"]
    again = await admin_client.post(
        f"/admin/sla-policies/{silver_id}/move", form={"csrf_token": token, "direction": "up"}
    )
    assert await _said(admin_client, again) == "Silver is now tried 1st."  # already first: stays
    listed = await (await admin_client.get("/admin/sla-policies")).get_data(as_text=True)
    assert listed.index(">Silver</a>") < listed.index(">Gold</a>")
    edit = await (await admin_client.get(f"/admin/sla-policies/{gold_id}")).get_data(as_text=True)
    assert (
        f'<option selected value="{priority.id}">' in edit
        or f'<option value="{priority.id}" selected>' in edit
    )
    changed = gold | {"name": "Gold+", "first_response": "", "active": ""}
    saved = await admin_client.post(f"/admin/sla-policies/{gold_id}", form=changed)
    assert await _said(admin_client, saved) == "Saved the policy Gold+."
    gold_now = await SlaPolicy.get(id=gold_id)
    assert (gold_now.name, gold_now.first_response_minutes, gold_now.active) == ("Gold+", None, False)
    asked = await (await admin_client.get(f"/admin/sla-policies/{gold_id}/delete")).get_data(as_text=True)
    assert "Delete the policy Gold+?" in asked
    gone = await admin_client.post(f"/admin/sla-policies/{gold_id}/delete", form={"csrf_token": token})
    assert await _said(admin_client, gone) == "Deleted the policy Gold+."
    assert not await SlaPolicy.exists(id=gold_id)


async def test_policy_refusals_come_back_on_the_form(admin_client):
    calendar = await _calendar()
    token = await csrf_token(admin_client, "/admin/sla-policies")
    form = {"csrf_token": token, "name": "Odd", "calendar": str(calendar.id), "warn_percent": "80"}
    zero = await admin_client.post("/admin/sla-policies", form=form | {"first_response": "0"})
    assert zero.status_code == 422 and 'id="first_response-error"' in await zero.get_data(as_text=True)
    no_calendar = await admin_client.post("/admin/sla-policies", form=form | {"calendar": ""})
    assert no_calendar.status_code == 422 and "choose a calendar" in await no_calendar.get_data(as_text=True)
    gone = await admin_client.post("/admin/sla-policies", form=form | {"calendar": "424242"})
    assert gone.status_code == 422 and 'id="calendar-error">424242 is not a calendar' in await gone.get_data(
        as_text=True
    )
    assert not await SlaPolicy.exists()
    assert (await admin_client.get("/admin/sla-policies/424242")).status_code == 404


async def test_the_policies_screen_asks_for_a_calendar_first(admin_client):
    html = await (await admin_client.get("/admin/sla-policies")).get_data(as_text=True)
    assert "A policy needs a calendar" in html and 'name="first_response"' not in html


async def test_states_screen_sets_pauses_sla_beside_resolves(admin_client):
    html = await (await admin_client.get("/admin/states")).get_data(as_text=True)
    assert "Pauses SLA" in html
    state = await State.filter(kind=StateKind.STATE, closes=False).first()
    token = await csrf_token(admin_client, "/admin/states")
    form = {"csrf_token": token, "kind": "1", "description": state.description, "pauses_sla": "y"}
    assert (await admin_client.post(f"/admin/states/{state.id}", form=form)).status_code == 303
    assert (await State.get(id=state.id)).pauses_sla
    priority = await State.filter(kind=StateKind.PRIORITY).first()
    refused = await admin_client.post(
        "/admin/states", form={"csrf_token": token, "kind": "3", "description": "P9", "pauses_sla": "y"}
    )
    assert refused.status_code == 422 and "Only a state pauses the SLA" in await refused.get_data(
        as_text=True
    )
    assert not await State.exists(description="P9") and not (await State.get(id=priority.id)).pauses_sla
