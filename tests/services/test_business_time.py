"""Issue 17: the business-time engine the SLA clocks run on, proved against a slow reference that
walks UTC minutes one by one and asks zoneinfo what the wall clock reads. Pure: no database."""

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.services.business_time import (
    TWENTY_FOUR_SEVEN,
    Calendar,
    add_business_time,
    business_time_between,
    format_hours,
    holidays_from_ical,
    open_intervals,
    parse_hours,
)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
LONDON, NEW_YORK, SYDNEY, KOLKATA = (
    ZoneInfo(name) for name in ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
)
WEEKDAYS = parse_hours("Mon-Fri 09:00-17:00")
ALL_DAY = {day: ((0, 1440),) for day in range(7)}

# Deterministic for CI (derandomize, no example database) and bounded so the file runs in seconds;
# the autouse database fixture does nothing for a test without `app`, hence the health check.
CHECK = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SLOW_CHECK = settings(CHECK, max_examples=60)


# The reference: a minute is open when its wall time, as zoneinfo reads it, lies in an interval of
# that local date's weekday, the date is no holiday and no pause covers it. Slow and obvious.
@dataclass(frozen=True)
class Case:
    zone: str
    hours: dict
    holidays: frozenset
    start: datetime
    pauses: list

    @property
    def calendar(self) -> Calendar:
        return Calendar(self.zone, self.hours, self.holidays)

    @property
    def utc(self) -> datetime:
        """The start in UTC, for arithmetic: `+` on a zoned datetime moves its wall clock (through
        skipped hours, and back across a repeated one), not real time."""
        return self.start.astimezone(UTC)


def reference_open(case: Case, minute: datetime) -> bool:
    local = minute.astimezone(ZoneInfo(case.zone))
    wall = local.hour * 60 + local.minute
    if local.date() in case.holidays:
        return False
    if not any(open_at <= wall < close_at for open_at, close_at in case.hours.get(local.weekday(), ())):
        return False
    return not any(pause_start <= minute < pause_end for pause_start, pause_end in case.pauses)


def reference_between(case: Case, end: datetime) -> timedelta:
    minute, count = case.utc, 0
    while minute < end:
        count += reference_open(case, minute)
        minute += MINUTE
    return count * MINUTE


def reference_add(case: Case, amount: timedelta) -> datetime:
    """The first minute boundary at which the reference count reaches `amount`."""
    minute, needed = case.utc, amount // MINUTE
    while needed:
        needed -= reference_open(case, minute)
        minute += MINUTE
    return minute


# Starts near each zone's hard places: its DST changes in 2026, its midnights before a weekend.
ANCHORS = {
    "Europe/London": [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # springs forward (Sunday 01:00 GMT)
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # falls back (Sunday 02:00 BST)
        datetime(2026, 11, 27, 0, 0, tzinfo=UTC),  # Friday's midnight
    ],
    "America/New_York": [
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # springs forward (Sunday 02:00 EST)
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # falls back (Sunday 02:00 EDT)
        datetime(2026, 11, 28, 5, 0, tzinfo=UTC),  # Saturday's midnight
    ],
    "Australia/Sydney": [
        datetime(2026, 4, 4, 16, 0, tzinfo=UTC),  # falls back (Sunday 5 April, 03:00 AEDT)
        datetime(2026, 10, 3, 16, 0, tzinfo=UTC),  # springs forward (Sunday 4 October, 02:00 AEST)
        datetime(2026, 11, 27, 13, 0, tzinfo=UTC),  # Saturday's midnight
    ],
    "Asia/Kolkata": [
        datetime(2026, 12, 31, 18, 30, tzinfo=UTC),  # midnight into the new year
        datetime(2026, 11, 27, 18, 30, tzinfo=UTC),  # Saturday's midnight
    ],
    "UTC": [datetime(2026, 11, 27, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC)],
}
ZONES = list(ANCHORS)
EDGES = st.one_of(st.sampled_from([0, 60, 90, 120, 150, 180, 540, 1020, 1410, 1440]), st.integers(0, 1440))


def _pairs(edges: list[int]) -> tuple:
    edges = sorted(edges)
    return tuple(zip(edges[0::2], edges[1::2], strict=False))


DAY_HOURS = st.one_of(
    st.just(()),
    st.just(((0, 1440),)),
    st.lists(EDGES, min_size=2, max_size=6, unique=True).map(_pairs),
)
WEEK_HOURS = st.tuples(*[DAY_HOURS] * 7).map(lambda week: {day: h for day, h in enumerate(week) if h})
NUDGES = st.one_of(st.just(0), st.integers(-180, 180), st.integers(-3 * 1440, 3 * 1440))  # minutes


@st.composite
def cases(draw, open_somewhere: bool = False) -> Case:
    zone = draw(st.sampled_from(ZONES))
    hours = draw(WEEK_HOURS)
    if open_somewhere and not hours:
        hours = {draw(st.integers(0, 6)): ((540, 1020),)}
    start = draw(st.sampled_from(ANCHORS[zone])) + draw(NUDGES) * MINUTE
    if draw(st.booleans()):
        start = start.astimezone(ZoneInfo(zone))  # callers may pass any aware datetime
    local_date = start.astimezone(ZoneInfo(zone)).date()
    holidays = frozenset(
        local_date + timedelta(days=d) for d in draw(st.lists(st.integers(-2, 8), max_size=3))
    )
    spans = draw(st.lists(st.tuples(st.integers(-1440, 6 * 1440), st.integers(-60, 2 * 1440)), max_size=4))
    real = start.astimezone(UTC)
    pauses = [(real + at * MINUTE, real + (at + length) * MINUTE) for at, length in spans]
    return Case(zone, hours, holidays, start, pauses)


@SLOW_CHECK
@given(cases(), st.integers(-60, 4 * 1440))
def test_between_counts_what_the_minute_by_minute_reference_counts(case, minutes):
    end = case.utc + minutes * MINUTE
    assert business_time_between(case.calendar, case.start, end, case.pauses) == reference_between(case, end)


@SLOW_CHECK
@given(cases(), st.integers(0, 3 * 1440))
def test_add_lands_where_the_reference_count_first_reaches_the_amount(case, minutes):
    horizon = case.utc + timedelta(days=8)  # keeps the reference's walk short
    amount = min(minutes * MINUTE, business_time_between(case.calendar, case.start, horizon, case.pauses))
    assert add_business_time(case.calendar, case.start, amount, case.pauses) == reference_add(case, amount)


@CHECK
@given(cases(open_somewhere=True), st.integers(0, 5 * 86_400))
def test_the_time_added_is_the_time_measured(case, seconds):
    amount = timedelta(seconds=seconds)
    deadline = add_business_time(case.calendar, case.start, amount, case.pauses)
    assert business_time_between(case.calendar, case.start, deadline, case.pauses) == amount
    assert deadline.tzinfo is UTC


@CHECK
@given(cases(open_somewhere=True), st.integers(0, 3 * 86_400), st.integers(0, 3 * 86_400))
def test_adding_more_never_ends_sooner(case, first, second):
    less, more = sorted((timedelta(seconds=first), timedelta(seconds=second)))
    calendar = case.calendar
    assert add_business_time(calendar, case.start, less, case.pauses) <= add_business_time(
        calendar, case.start, more, case.pauses
    )


@CHECK
@given(cases(), st.integers(0, 4 * 86_400), st.integers(0, 4 * 86_400))
def test_between_adds_up_over_a_split_point(case, first, second):
    middle, end = (case.utc + timedelta(seconds=s) for s in sorted((first, second)))
    calendar, pauses = case.calendar, case.pauses
    whole = business_time_between(calendar, case.start, end, pauses)
    parts = business_time_between(calendar, case.start, middle, pauses)
    assert parts + business_time_between(calendar, middle, end, pauses) == whole


@CHECK
@given(cases(open_somewhere=True), st.data())
def test_pauses_over_closed_hours_change_nothing(case, data):
    calendar, start, end = case.calendar, case.utc, case.utc + timedelta(days=10)
    edges = [start - timedelta(days=1)]
    for opens, closes in open_intervals(calendar, start - timedelta(days=1), end):
        edges += [opens, closes]
    gaps = [(a, b) for a, b in zip(edges[0::2], edges[1::2], strict=False) if a < b]
    pauses = []
    for gap_start, gap_end in data.draw(st.lists(st.sampled_from(gaps), max_size=4)) if gaps else []:
        seconds = int((gap_end - gap_start).total_seconds())
        lo, hi = sorted(data.draw(st.integers(0, seconds)) for _ in range(2))
        pauses.append((gap_start + timedelta(seconds=lo), gap_start + timedelta(seconds=hi)))
    open_time = business_time_between(calendar, start, end)
    assert business_time_between(calendar, start, end, pauses) == open_time
    amount = data.draw(st.integers(0, int(open_time.total_seconds()))) * timedelta(seconds=1)
    assert add_business_time(calendar, start, amount, pauses) == add_business_time(calendar, start, amount)


@CHECK
@given(cases(open_somewhere=True), st.data())
def test_a_pause_in_open_hours_delays_by_exactly_its_length(case, data):
    calendar, start = case.calendar, case.utc
    stretches = list(open_intervals(calendar, start, start + timedelta(days=10)))
    opens, closes = data.draw(st.sampled_from(stretches))
    seconds = int((closes - opens).total_seconds())
    lo, hi = sorted(data.draw(st.integers(0, seconds)) for _ in range(2))
    pause = (opens + timedelta(seconds=lo), opens + timedelta(seconds=hi))
    amount = business_time_between(calendar, start, pause[1]) + timedelta(
        seconds=data.draw(st.integers(0, 86_400))
    )
    unpaused, paused = (add_business_time(calendar, start, amount, p) for p in ([], [pause]))
    assert business_time_between(calendar, unpaused, paused) == pause[1] - pause[0]
    assert business_time_between(calendar, start, paused, [pause]) == amount


# Named examples, to read as the specification.
def test_friday_four_pm_plus_two_hours_is_monday_ten_am():
    calendar = Calendar("Europe/London", WEEKDAYS)
    winter = add_business_time(calendar, datetime(2026, 11, 27, 16, tzinfo=LONDON), 2 * HOUR)
    summer = add_business_time(calendar, datetime(2026, 6, 26, 16, tzinfo=LONDON), 2 * HOUR)
    assert winter == datetime(2026, 11, 30, 10, tzinfo=LONDON)
    assert summer == datetime(2026, 6, 29, 10, tzinfo=LONDON) == datetime(2026, 6, 29, 9, tzinfo=UTC)


def test_a_holiday_monday_pushes_the_deadline_to_tuesday():
    calendar = Calendar("Europe/London", WEEKDAYS, frozenset({date(2026, 11, 30)}))
    friday = datetime(2026, 11, 27, 16, tzinfo=LONDON)
    assert add_business_time(calendar, friday, 2 * HOUR) == datetime(2026, 12, 1, 10, tzinfo=LONDON)
    assert add_business_time(calendar, friday, 8 * HOUR) == datetime(2026, 12, 1, 16, tzinfo=LONDON)


@pytest.mark.parametrize(
    "zone, day, hours",
    [
        (LONDON, date(2026, 3, 29), 23),
        (LONDON, date(2026, 10, 25), 25),
        (NEW_YORK, date(2026, 3, 8), 23),
        (NEW_YORK, date(2026, 11, 1), 25),
        (LONDON, date(2026, 3, 30), 24),
    ],
)
def test_a_local_twenty_four_seven_day_lasts_as_long_as_the_wall_clock_day(zone, day, hours):
    calendar = Calendar(zone.key, ALL_DAY)
    midnight, next_midnight = (
        datetime.combine(d, datetime.min.time(), zone) for d in (day, day + timedelta(1))
    )
    assert business_time_between(calendar, midnight, next_midnight) == hours * HOUR
    assert add_business_time(calendar, midnight, hours * HOUR) == next_midnight


def test_twenty_four_hours_across_spring_forward_ends_an_hour_later_on_the_wall():
    calendar = Calendar("Europe/London", ALL_DAY)
    deadline = add_business_time(calendar, datetime(2026, 3, 28, 12, tzinfo=LONDON), 24 * HOUR)
    assert deadline.astimezone(LONDON).replace(tzinfo=None) == datetime(2026, 3, 29, 13)


def _around(day: date) -> tuple[datetime, datetime]:
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight - 2 * HOUR, midnight + 26 * HOUR


def test_the_skipped_hour_never_opens_and_the_repeated_hour_opens_twice():
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)  # London's Sundays
    across = Calendar("Europe/London", {6: ((0, 180),)})
    skipped = Calendar("Europe/London", {6: ((60, 120),)})
    repeated = Calendar("Europe/London", {6: ((60, 90),)})
    week = {d: _around(d) for d in (spring, autumn)}
    assert business_time_between(across, *week[spring]) == 2 * HOUR
    assert business_time_between(across, *week[autumn]) == 4 * HOUR
    assert business_time_between(skipped, *week[spring]) == timedelta(0)
    assert list(open_intervals(repeated, *week[autumn])) == [
        (datetime(2026, 10, 25, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # 01:00 BST
        (datetime(2026, 10, 25, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),  # 01:00 GMT
    ]


def test_a_sydney_calendar_on_a_utc_server():
    calendar = Calendar("Australia/Sydney", WEEKDAYS)
    sunday_evening_utc = datetime(2027, 1, 3, 21, 30, tzinfo=UTC)  # Monday 08:30 AEDT (UTC+11)
    assert add_business_time(calendar, sunday_evening_utc, HOUR) == datetime(2027, 1, 3, 23, tzinfo=UTC)
    friday_afternoon = datetime(2027, 1, 8, 5, 30, tzinfo=UTC)  # Friday 16:30 AEDT
    assert add_business_time(calendar, friday_afternoon, HOUR) == datetime(2027, 1, 10, 22, 30, tzinfo=UTC)
    winter_monday = datetime(2026, 7, 5, 23, tzinfo=UTC)  # Monday 09:00 AEST (UTC+10)
    assert add_business_time(calendar, winter_monday, 8 * HOUR) == datetime(2026, 7, 6, 7, tzinfo=UTC)


def test_kolkata_opens_on_its_half_hour_offset():
    calendar = Calendar("Asia/Kolkata", parse_hours("Mon-Fri 09:00-18:00"))
    monday = datetime(2027, 1, 4, tzinfo=UTC)
    assert add_business_time(calendar, monday + 3 * HOUR, HOUR) == monday + 4.5 * HOUR  # 08:30 IST + 1 h
    assert list(open_intervals(calendar, monday, monday + 24 * HOUR)) == [
        (monday + 3.5 * HOUR, monday + 12.5 * HOUR)
    ]


def test_an_amount_that_ends_at_closing_time_ends_at_closing_time():
    calendar = Calendar("Europe/London", WEEKDAYS)
    friday = datetime(2026, 11, 27, 15, tzinfo=UTC)
    assert add_business_time(calendar, friday, 2 * HOUR) == datetime(2026, 11, 27, 17, tzinfo=UTC)


def test_no_time_to_add_is_the_start_itself_even_when_closed():
    calendar = Calendar("Europe/London", WEEKDAYS)
    saturday = datetime(2026, 11, 28, 3, tzinfo=LONDON)
    assert add_business_time(calendar, saturday, timedelta(0)) == saturday


def test_a_calendar_that_never_opens_raises_instead_of_looping():
    closed = Calendar("Europe/London", {})
    with pytest.raises(ValueError, match="no open time"):
        add_business_time(closed, datetime(2026, 1, 1, tzinfo=UTC), MINUTE)
    assert business_time_between(
        closed, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    ) == (timedelta(0))
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=w) for w in range(53 * 4))
    holiday_mondays = Calendar("Europe/London", {0: ((540, 1020),)}, mondays)
    began = time.perf_counter()
    with pytest.raises(ValueError, match="no open time"):
        add_business_time(holiday_mondays, datetime(2026, 1, 1, tzinfo=UTC), MINUTE)
    assert time.perf_counter() - began < 2


def test_twenty_four_seven_is_plain_arithmetic_to_the_microsecond():
    start, later = datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=LONDON), timedelta(days=3, seconds=1)
    # real time: London's wall arithmetic (`start + later`) would ignore the hour lost that night
    assert (
        add_business_time(TWENTY_FOUR_SEVEN, start, later) == start.astimezone(UTC) + later != start + later
    )
    end = start.astimezone(UTC) + timedelta(days=400)
    assert business_time_between(TWENTY_FOUR_SEVEN, start, end) == timedelta(days=400)


def test_overlapping_unordered_pauses_stop_the_clock_once():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    pauses = [(start + 3 * HOUR, start + 5 * HOUR), (start + HOUR, start + 4 * HOUR), (start, start)]
    assert add_business_time(TWENTY_FOUR_SEVEN, start, 2 * HOUR, pauses) == start + 6 * HOUR
    assert business_time_between(TWENTY_FOUR_SEVEN, start, start + 6 * HOUR, pauses) == 2 * HOUR


def test_a_pause_of_years_is_jumped_not_walked():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    pause = (start, datetime(2036, 1, 1, tzinfo=UTC))  # ends on Monday 31 December 2035, 19:00 in New York
    calendar = Calendar("America/New_York", WEEKDAYS)
    deadline = add_business_time(calendar, start, HOUR, [pause])
    assert deadline == datetime(2036, 1, 1, 10, tzinfo=NEW_YORK)  # a Tuesday


def test_eight_business_hours_over_a_long_weekend_take_well_under_a_millisecond():
    calendar = Calendar("Europe/London", WEEKDAYS, frozenset({date(2026, 11, 30)}))
    friday = datetime(2026, 11, 27, 16, tzinfo=UTC)
    began = time.perf_counter()
    for _ in range(1000):
        add_business_time(calendar, friday, 8 * HOUR)
    assert time.perf_counter() - began < 1  # measured about 15 µs a call; generous for a busy CI


def test_calendars_hash_and_compare_by_value():
    from_dict = Calendar("Europe/London", {0: [(540, 720), (720, 1020)]})
    from_tuples = Calendar("Europe/London", {0: ((540, 1020),)})
    assert from_dict == from_tuples and hash(from_dict) == hash(from_tuples)
    assert dict(from_dict.hours) == {0: ((540, 1020),)}


@pytest.mark.parametrize(
    "zone, hours, message",
    [
        ("Mars/Olympus", {}, "unknown time zone"),
        ("UTC", {7: ((0, 60),)}, "weekday 7"),
        ("UTC", {0: ((0, 1441),)}, "not within"),
        ("UTC", {0: ((60, 60),)}, "not within"),
        ("UTC", {0: ((540, 720), (600, 800))}, "overlaps"),
        ("UTC", {0: (540, 720)}, "Mon"),
    ],
)
def test_a_calendar_that_makes_no_sense_is_refused(zone, hours, message):
    with pytest.raises(ValueError, match=message):
        Calendar(zone, hours)


def test_naive_datetimes_and_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="no time zone"):
        add_business_time(TWENTY_FOUR_SEVEN, datetime(2026, 1, 1), HOUR)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(TWENTY_FOUR_SEVEN, datetime(2026, 1, 1, tzinfo=UTC), -HOUR)


# Hours as an admin types them.
def test_hours_are_read_from_an_admins_text():
    assert parse_hours("Mon-Fri 09:00-12:30, 13:30-17:30; Sat 10:00-12:00") == {
        **{day: ((540, 750), (810, 1050)) for day in range(5)},
        5: ((600, 720),),
    }
    assert parse_hours("Friday-Monday 00:00-24:00\nwed, THU 9:00\u201317:00") == {
        4: ((0, 1440),),
        5: ((0, 1440),),
        6: ((0, 1440),),
        0: ((0, 1440),),
        2: ((540, 1020),),
        3: ((540, 1020),),
    }
    assert parse_hours("  ") == {}
    assert (
        format_hours(parse_hours("Sat 10:00-12:00; Mon-Fri 09:00-17:30"))
        == "Mon-Fri 09:00-17:30; Sat 10:00-12:00"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("Mon", "write the days, then the hours"),
        ("Mon 17:00-09:00", "ends before it starts"),
        ("Mon 09:00-25:00", "not within"),
        ("Mon 09:60-10:00", "not within"),
        ("Mo 09:00-10:00", "is not a day"),
        ("Funday 09:00-10:00", "is not a day"),
        ("Mon 9-5", "not a time range"),
        ("Mon 09:00-12:00, 11:00-13:00", "overlaps"),
        ("Mon-Tue 09:00-12:00; Tue 11:00-13:00", "Tue: 11:00-13:00 overlaps 09:00-12:00"),
    ],
)
def test_hours_text_that_makes_no_sense_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


@CHECK
@given(WEEK_HOURS)
def test_formatted_hours_read_back_the_same(hours):
    assert parse_hours(format_hours(hours)) == dict(Calendar("UTC", hours).hours)


# Holidays from an .ics file.
def _ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\nUID:{n}@test\r\n{e}END:VEVENT\r\n" for n, e in enumerate(events))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n".encode()


def test_holidays_come_from_an_ical_file():
    data = _ics(
        "DTSTART;VALUE=DATE:20261225\r\nSUMMARY:Christmas Day\r\n",
        "DTSTART;VALUE=DATE:20261226\r\nDTEND;VALUE=DATE:20261227\r\nSUMMARY:Boxing Day\r\n",
        "DTSTART;VALUE=DATE:20260803\r\nDTEND;VALUE=DATE:20260806\r\nSUMMARY:Summer shutdown\r\n",
        "DTSTART;VALUE=DATE:20250101\r\nRRULE:FREQ=YEARLY\r\nEXDATE;VALUE=DATE:20280101\r\n"
        "SUMMARY:New Year\r\n",
        "DTSTART:20260805T100000Z\r\nDTEND:20260805T110000Z\r\nSUMMARY:A meeting, not a holiday\r\n",
    )
    assert holidays_from_ical(data, today=date(2026, 6, 1)) == [
        (date(2026, 8, 3), "Summer shutdown"),
        (date(2026, 8, 4), "Summer shutdown"),
        (date(2026, 8, 5), "Summer shutdown"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Boxing Day"),
        (date(2027, 1, 1), "New Year"),
        (date(2029, 1, 1), "New Year"),
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not an iCalendar file"),
        (b"this is not a calendar", "not an iCalendar file"),
        (b"\xff\xfe\x00", "not an iCalendar file"),
        (b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nEND:VEVENT\r\n", "no VCALENDAR"),
        (_ics("DTSTART;VALUE=DATE:2026XX01\r\nSUMMARY:Broken\r\n"), "event 'Broken'"),
        (_ics("SUMMARY:No start\r\n"), "event 'No start'"),
        (_ics("DTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=HOURLY\r\nSUMMARY:Often\r\n"), "more than daily"),
        (_ics("DTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=NEVER\r\nSUMMARY:Odd\r\n"), "event 'Odd'"),
        (
            _ics("DTSTART;VALUE=DATE:20260101\r\nDTEND;VALUE=DATE:20300101\r\nSUMMARY:Long\r\n"),
            "at most a year",
        ),
    ],
)
def test_an_unusable_ical_file_says_why(data, message):
    with pytest.raises(ValueError, match=message):
        holidays_from_ical(data, today=date(2026, 6, 1))


def test_imported_holidays_close_the_calendar():
    holidays = holidays_from_ical(_ics("DTSTART;VALUE=DATE:20261130\r\nSUMMARY:St Andrew's Day\r\n"))
    calendar = Calendar("Europe/London", WEEKDAYS, frozenset(day for day, _ in holidays))
    friday = datetime(2026, 11, 27, 16, tzinfo=LONDON)
    assert add_business_time(calendar, friday, 2 * HOUR) == datetime(2026, 12, 1, 10, tzinfo=LONDON)
