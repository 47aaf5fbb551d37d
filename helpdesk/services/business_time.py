"""Business time: how much of a span a calendar counts as open, and when an amount of open time
runs out. The SLA clocks ask here. Pure (no ORM, no I/O, no Quart), so tests prove it against a
minute-by-minute reference (tests/services/test_business_time.py).

The rule is the wall clock's: an instant is open when the calendar's local clock (its IANA zone,
through zoneinfo) reads a time inside one of the open intervals of that local date's weekday, the
date is not a holiday, and no pause covers the instant. Hence, on daylight-saving days:
- spring forward: the skipped wall hour never happens, so an interval across it lasts an hour less
  in real time (00:00-24:00 on Europe/London's last Sunday of March lasts 23 hours);
- fall back: the repeated wall hour happens twice and is open both times, so an interval across it
  lasts an hour more (00:00-24:00 on London's last Sunday of October lasts 25 hours, and
  01:00-01:30 that night lasts an hour: 01:00 BST-01:30 BST, then 01:00 GMT-01:30 GMT).
The engine keeps exactly the set of UTC instants this rule opens, so no fold has to be chosen: a
wall time that happens twice is open twice, one that never happens is never open.

Speed: the timeline is walked a UTC day at a time; each day's open intervals (microseconds since
the epoch) are cached per (calendar, day), and a day's zone offsets are found by sampling it every
six hours and bisecting to the second where the offset changes. Adding 8 business hours across a
long weekend touches five cached days; nothing steps a minute at a time.
"""

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from dateutil.rrule import rruleset, rrulestr

Interval = tuple[int, int]
Span = tuple[datetime, datetime]

DAY_MINUTES = 1440
SEARCH_LIMIT_DAYS = 3 * 366  # add_business_time gives up after this long without an open minute
ICAL_MAX_DAYS = 10_000  # more holiday days than this in one file is a mistake, not a calendar
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_S = 86_400
_US = 1_000_000
_DAY_US = _DAY_S * _US
_ONE_US = timedelta(microseconds=1)
_SAMPLE_S = 6 * 3600  # no zone changes its offset twice within six hours
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday
_NO_OPEN_TIME = f"the calendar has no open time within {SEARCH_LIMIT_DAYS} days"


class WeeklyHours(Mapping[int, tuple[Interval, ...]]):
    """A calendar's open intervals per weekday (0=Mon), checked, sorted, touching ones joined, and
    frozen so that a Calendar hashes (the per-day cache is keyed by it). A closed day is absent."""

    __slots__ = ("week", "_hash")

    def __init__(self, hours: Mapping[int, Iterable[Sequence[int]]]) -> None:
        week: list[tuple[Interval, ...]] = [()] * 7
        for day, intervals in hours.items():
            if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
                raise ValueError(f"weekday {day!r} is not 0 (Monday) to 6 (Sunday)")
            week[day] = _checked_intervals(day, intervals)
        self.week: tuple[tuple[Interval, ...], ...] = tuple(week)
        self._hash = hash(self.week)

    def __getitem__(self, day: int) -> tuple[Interval, ...]:
        if isinstance(day, int) and 0 <= day <= 6 and self.week[day]:
            return self.week[day]
        raise KeyError(day)

    def __iter__(self) -> Iterator[int]:
        return (day for day in range(7) if self.week[day])

    def __len__(self) -> int:
        return sum(1 for intervals in self.week if intervals)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WeeklyHours):
            return self.week == other.week
        return dict(self) == other if isinstance(other, Mapping) else NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"WeeklyHours({dict(self)!r})"


def _checked_intervals(day: int, intervals: Iterable[Sequence[int]]) -> tuple[Interval, ...]:
    """One weekday's intervals sorted with touching ones joined; ValueError if one is out of range."""
    spans: list[list[int]] = []
    try:
        ordered = sorted(tuple(pair) for pair in intervals)
    except TypeError:
        raise ValueError(f"{DAY_LABELS[day]}: {intervals!r} is not a list of (open, close) minutes") from None
    for interval in ordered:
        if len(interval) != 2 or not all(isinstance(m, int) and not isinstance(m, bool) for m in interval):
            raise ValueError(f"{DAY_LABELS[day]}: {interval!r} is not a pair of minutes")
        start, end = interval
        if not 0 <= start < end <= DAY_MINUTES:
            raise ValueError(f"{DAY_LABELS[day]}: {_range_text(start, end)} is not within 00:00-24:00")
        if spans and start < spans[-1][1]:
            earlier = _range_text(*spans[-1])
            raise ValueError(f"{DAY_LABELS[day]}: {_range_text(start, end)} overlaps {earlier}")
        if spans and start == spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return tuple((start, end) for start, end in spans)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    """The zone of an IANA name; ValueError if there is none (checked when a Calendar is made)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Calendar:
    """When a service level's clock runs: weekly wall-clock hours in a zone, less holiday dates."""

    time_zone: str  # IANA name, e.g. "Europe/London"
    hours: Mapping[int, tuple[tuple[int, int], ...]]  # weekday 0=Mon -> minutes of the day, 0..1440
    holidays: frozenset[date] = frozenset()  # local dates closed all day

    def __post_init__(self) -> None:
        _zone(self.time_zone)
        if not isinstance(self.hours, WeeklyHours):
            object.__setattr__(self, "hours", WeeklyHours(self.hours))
        holidays = frozenset(self.holidays)
        if not all(type(day) is date for day in holidays):
            raise ValueError("holidays must be dates")
        object.__setattr__(self, "holidays", holidays)


TWENTY_FOUR_SEVEN = Calendar("UTC", {day: ((0, DAY_MINUTES),) for day in range(7)})


def add_business_time(
    calendar: Calendar, start: datetime, amount: timedelta, pauses: Sequence[Span] = ()
) -> datetime:
    """The instant when `amount` of open, unpaused time has passed since `start`."""
    if amount < timedelta(0):
        raise ValueError("the amount of business time must not be negative")
    begin, remaining = _us(start), amount // _ONE_US
    if remaining == 0:
        return start.astimezone(UTC)
    try:
        for low, high in _open_pieces(calendar, begin, None, _merged(pauses)):
            if high - low >= remaining:
                return _instant(low + remaining)
            remaining -= high - low
    except OverflowError:
        raise ValueError("the deadline falls beyond the year 9999") from None
    raise ValueError(_NO_OPEN_TIME)


def business_time_between(
    calendar: Calendar, start: datetime, end: datetime, pauses: Sequence[Span] = ()
) -> timedelta:
    """Open, unpaused time in [start, end) (zero when end <= start)."""
    low, high = _us(start), _us(end)
    if high <= low:
        return timedelta(0)
    pieces = _open_pieces(calendar, low, high, _merged(pauses))
    return timedelta(microseconds=sum(b - a for a, b in pieces))


def open_intervals(calendar: Calendar, start: datetime, end: datetime) -> Iterator[Span]:
    """The calendar's open intervals clipped to [start, end), as aware UTC instants, in order."""
    pending: list[int] | None = None
    for low, high in _open_pieces(calendar, _us(start), _us(end), []):
        if pending and pending[1] == low:
            pending[1] = high  # one open stretch that crosses a day boundary
            continue
        if pending:
            yield _instant(pending[0]), _instant(pending[1])
        pending = [low, high]
    if pending:
        yield _instant(pending[0]), _instant(pending[1])


def _open_pieces(
    calendar: Calendar, start: int, end: int | None, pauses: list[list[int]]
) -> Iterator[Interval]:
    """Open, unpaused pieces of [start, end) in order (end None: on until SEARCH_LIMIT_DAYS pass
    without an open minute), as UTC microseconds; a pause over whole days is jumped, not walked."""
    if not any(calendar.hours.week):
        return
    day, idle, index = start // _DAY_US, 0, 0
    while end is None or day * _DAY_US < end:
        day_start = max(start, day * _DAY_US)
        while index < len(pauses) and pauses[index][1] <= day_start:
            index += 1
        if index < len(pauses) and pauses[index][0] <= day_start and pauses[index][1] >= (day + 1) * _DAY_US:
            day, idle = pauses[index][1] // _DAY_US, 0
            continue
        found = False
        for low, high in _open_in_day(calendar, day):
            low, high = max(low, start), high if end is None else min(high, end)
            if low < high:
                found = True
                yield from _unpaused(low, high, pauses, index)
        idle = 0 if found else idle + 1
        if end is None and idle > SEARCH_LIMIT_DAYS:
            return
        day += 1


def _unpaused(low: int, high: int, pauses: list[list[int]], index: int) -> Iterator[Interval]:
    """[low, high) less the pauses (sorted, disjoint, none before `index` reaching `low`)."""
    while index < len(pauses) and pauses[index][0] < high:
        pause_start, pause_end = pauses[index]
        if pause_start > low:
            yield low, pause_start
        low = max(low, pause_end)
        if low >= high:
            return
        index += 1
    yield low, high


@lru_cache(maxsize=16_384)
def _open_in_day(calendar: Calendar, day: int) -> tuple[Interval, ...]:
    """The open intervals of UTC day `day` (days since the epoch), as UTC microseconds, in order."""
    first = day * _DAY_S
    pieces: list[list[int]] = []
    for start, end, offset in _offset_segments(calendar.time_zone, first, first + _DAY_S):
        wall_start, wall_end = start + offset, end + offset  # within a segment wall = utc + offset
        for local_day in range(wall_start // _DAY_S, (wall_end - 1) // _DAY_S + 1):
            base = local_day * _DAY_S
            for open_minute, close_minute in _wall_hours(calendar, local_day):
                low = max(wall_start, base + open_minute * 60) - offset
                high = min(wall_end, base + close_minute * 60) - offset
                if low < high and pieces and pieces[-1][1] == low:
                    pieces[-1][1] = high
                elif low < high:
                    pieces.append([low, high])
    return tuple((low * _US, high * _US) for low, high in pieces)


def _wall_hours(calendar: Calendar, local_day: int) -> tuple[Interval, ...]:
    """The open minutes of a local date (days since 1970-01-01 on the wall), none on a holiday."""
    if calendar.holidays and date.fromordinal(_EPOCH_ORDINAL + local_day) in calendar.holidays:
        return ()
    return calendar.hours.week[(local_day + _EPOCH_WEEKDAY) % 7]


def _offset_segments(time_zone: str, first: int, last: int) -> list[tuple[int, int, int]]:
    """[first, last) in UTC seconds cut where the zone's offset changes: (start, end, offset)."""
    zone = _zone(time_zone)
    samples = [*range(first, last, _SAMPLE_S), last - 1]
    segments, start, offset = [], first, _offset(zone, first)
    for before, point in zip(samples, samples[1:], strict=False):
        after = _offset(zone, point)
        if after != offset:
            change = _change_point(zone, before, point, after)
            segments.append((start, change, offset))
            start, offset = change, after
    segments.append((start, last, offset))
    return segments


def _change_point(zone: ZoneInfo, before: int, after: int, new_offset: int) -> int:
    """The first second in (before, after] at which the zone's offset is `new_offset`."""
    while after - before > 1:
        middle = (before + after) // 2
        if _offset(zone, middle) == new_offset:
            after = middle
        else:
            before = middle
    return after


def _offset(zone: ZoneInfo, second: int) -> int:
    offset = datetime.fromtimestamp(second, zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset // timedelta(seconds=1)


def _merged(pauses: Sequence[Span]) -> list[list[int]]:
    """Pauses as sorted, disjoint UTC microsecond spans (empty and backwards ones count for nothing)."""
    merged: list[list[int]] = []
    for low, high in sorted((_us(a), _us(b)) for a, b in pauses):
        if high <= low:
            continue
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def _us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime; ValueError for a naive one."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; business time needs aware datetimes")
    return (moment - _EPOCH) // _ONE_US


def _instant(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


# Weekly hours as an admin writes them: "Mon-Fri 09:00-17:30; Sat 10:00-12:00".
_CLAUSE = re.compile(r"(?P<days>[^\d]+?)\s+(?P<ranges>\d.*)")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def parse_hours(text: str) -> dict[int, tuple[tuple[int, int], ...]]:
    """Weekly hours from text like "Mon-Fri 09:00-12:30, 13:30-17:30; Sat 10:00-12:00" (a day not
    named is closed); ValueError naming the piece that is wrong."""
    week: dict[int, list[Sequence[int]]] = {}
    for clause in filter(None, (part.strip() for part in re.split(r"[;\n]", text))):
        match = _CLAUSE.fullmatch(clause.replace("\u2013", "-").replace("\u2014", "-"))
        if match is None:
            raise ValueError(f"{clause!r}: write the days, then the hours, e.g. 'Mon-Fri 09:00-17:00'")
        intervals = [_parse_range(part) for part in match["ranges"].split(",") if part.strip()]
        for day in _parse_days(match["days"]):
            week.setdefault(day, []).extend(intervals)
    return dict(WeeklyHours(week))


def format_hours(hours: Mapping[int, Iterable[Sequence[int]]]) -> str:
    """Weekly hours as parse_hours reads them, runs of days with the same hours written as one."""
    week = hours.week if isinstance(hours, WeeklyHours) else WeeklyHours(hours).week
    clauses: list[str] = []
    day = 0
    while day < 7:
        last = day
        while last + 1 < 7 and week[last + 1] == week[day]:
            last += 1
        if week[day]:
            days = DAY_LABELS[day] if last == day else f"{DAY_LABELS[day]}-{DAY_LABELS[last]}"
            clauses.append(f"{days} {', '.join(_range_text(a, b) for a, b in week[day])}")
        day = last + 1
    return "; ".join(clauses)


def _parse_days(text: str) -> list[int]:
    """Days from "Mon-Fri", "Sat, Sun" or "Fri-Mon" (a range may wrap past Sunday)."""
    days: list[int] = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        first, _, last = (name.strip() for name in part.partition("-"))
        day, stop = _day_index(first), _day_index(last or first)
        days.append(day)
        while day != stop:
            day = (day + 1) % 7
            days.append(day)
    if not days:
        raise ValueError(f"{text!r} names no day")
    return days


def _day_index(name: str) -> int:
    lowered = name.lower()
    for index, full in enumerate(_DAY_NAMES):
        if len(lowered) >= 3 and full.startswith(lowered):
            return index
    raise ValueError(f"{name!r} is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")


def _parse_range(text: str) -> Interval:
    """Minutes of the day from "09:00-17:30" (24:00 is the day's end)."""
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a time range like 09:00-17:30")
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_m > 59 or end_m > 59 or end > DAY_MINUTES:
        raise ValueError(f"{text.strip()!r} is not within 00:00-24:00")
    if end <= start:
        raise ValueError(f"{text.strip()!r} ends before it starts: past midnight, write two days' hours")
    return start, end


def _range_text(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def holidays_from_ical(
    data: bytes | str, *, today: date | None = None, years: int = 3
) -> list[tuple[date, str]]:
    """The all-day events of an iCalendar file as (date, summary), sorted, one per date: every day
    of a multi-day event, and a recurring one's dates from `today` through `years` years ahead.
    Timed events (meetings) are left out. ValueError, saying why, if the file is not usable."""
    try:
        parsed = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise ValueError(f"not an iCalendar file: {error}") from None
    if not isinstance(parsed, icalendar.Calendar):
        raise ValueError("not an iCalendar file: it has no VCALENDAR")
    first = today or date.today()
    window = (first, first + timedelta(days=366 * years))
    found: dict[date, str] = {}
    for event in parsed.walk("VEVENT"):
        summary = str(event.get("SUMMARY") or "").strip() or "Holiday"
        for day in _event_days(event, summary, window):
            found.setdefault(day, summary)
        if len(found) > ICAL_MAX_DAYS:
            raise ValueError(f"the file holds more than {ICAL_MAX_DAYS} holiday dates")
    return sorted(found.items())


def _event_days(event: icalendar.Event, summary: str, window: tuple[date, date]) -> list[date]:
    """The dates an all-day event closes (none for a timed one)."""
    try:
        start, end = event.start, event.end
        rules, extra, skipped = event.rrules, event.rdates, event.exdates
    except ValueError as error:
        raise ValueError(f"event {summary!r}: {error}") from None
    if isinstance(start, datetime):
        return []
    length = (end - start).days if type(end) is date else 1
    if length > 366:
        raise ValueError(f"event {summary!r} lasts {length} days; a holiday lasts at most a year")
    if rules or extra:
        starts = _occurrences(start, rules, [when for when, _ in extra], skipped, summary, window)
    else:
        starts = [start]
    return [first + timedelta(days=offset) for first in starts for offset in range(max(length, 1))]


def _occurrences(
    start: date, rules: list, extra: list, skipped: list, summary: str, window: tuple[date, date]
) -> list[date]:
    """A recurring event's start dates within the window (RRULE and RDATE, less EXDATE)."""
    anchor = datetime.combine(start, time())
    dates = rruleset()
    try:
        for rule in rules:
            if str(rule.get("FREQ", [""])[0]).upper() in {"SECONDLY", "MINUTELY", "HOURLY"}:
                raise ValueError("an all-day holiday cannot repeat more than daily")
            dates.rrule(rrulestr(rule.to_ical().decode(), dtstart=anchor, ignoretz=True))
        for when in extra:
            dates.rdate(datetime.combine(_as_date(when), time()))
        for when in skipped:
            dates.exdate(datetime.combine(_as_date(when), time()))
        found = dates.between(*(datetime.combine(day, time()) for day in window), inc=True)
    except (ValueError, TypeError) as error:
        raise ValueError(f"event {summary!r}: cannot expand its recurrence: {error}") from None
    return [when.date() for when in found]


def _as_date(when: date) -> date:
    return when.date() if isinstance(when, datetime) else when
