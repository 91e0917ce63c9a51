"""The common meaning of every schedule format: periods of running time in one time zone.

Cloud Custodian tag values and AWS Instance Scheduler periods both become a `Schedule`: a set of
`Period`s (days + a time window, Instance Scheduler style) in an IANA zone, plus holidays on
which the resource stays off. The simulator and every exporter work from this one form, so the
same schedule means the same hours whichever format it came from or goes to.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from mlscope.errors import InputError, UnknownNameError

MINUTES_PER_DAY = 1440
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Cloud Custodian's aliases (c7n 0.9.53, c7n/filters/offhours.py Time.TZ_ALIASES), each tied
# to a locality so that daylight saving time is followed.
TZ_ALIASES: dict[str, str] = {
    "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles", "pst": "America/Los_Angeles",
    "ast": "America/Phoenix", "at": "America/Phoenix",
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "cst": "America/Chicago", "cdt": "America/Chicago", "ct": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "gmt": "Etc/GMT", "gt": "Etc/GMT", "bst": "Europe/London", "ist": "Europe/Dublin",
    "cet": "Europe/Berlin", "it": "Asia/Kolkata", "jst": "Asia/Tokyo", "kst": "Asia/Seoul",
    "sgt": "Asia/Singapore", "aet": "Australia/Sydney", "brt": "America/Sao_Paulo",
    "nzst": "Pacific/Auckland", "utc": "Etc/UTC",
}


def resolve_timezone(name: str) -> str:
    """An alias (pt, et, cet, ...) or IANA name → the canonical IANA name."""
    text = name.strip()
    alias = TZ_ALIASES.get(text.lower())
    if alias:
        return alias
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: 'Australia/' is a folder
        # IANA names are case-sensitive; accept a case-insensitive match before giving up.
        by_lower = {z.lower(): z for z in available_timezones()}
        if text.lower() in by_lower:
            return by_lower[text.lower()]
        raise UnknownNameError("time zone", text, [*TZ_ALIASES, *available_timezones()]) from None
    return text


@dataclass(frozen=True)
class WeekdaySpec:
    """A weekday (0 = Monday), optionally only its nth (1-5) or last (-1) occurrence in a month."""

    weekday: int
    nth: int | None = None

    def matches(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.nth is None:
            return True
        if self.nth == -1:
            return day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        return (day.day - 1) // 7 + 1 == self.nth


RUN, ANY, STOP = 1, 0, -1  # Instance Scheduler's desired states: running, any (leave), stopped


@dataclass(frozen=True)
class Period:
    """An Instance Scheduler period: on matching days, running from `begin` to `end` minute.

    As Instance Scheduler decides (running_period.py): on a day the period does not match it
    wants the instance stopped; with both times it is running in [begin, end) and stopped
    outside; with only a begin time it is running from it and "any" (leave as is) before;
    with only an end time "any" before it and stopped from it; with neither running all day.
    """

    begin_minute: int | None = None
    end_minute: int | None = None
    weekdays: frozenset[WeekdaySpec] | None = None
    monthdays: MonthDays | None = None
    months: frozenset[int] | None = None

    def __post_init__(self) -> None:
        for value in (self.begin_minute, self.end_minute):
            if value is not None and not 0 <= value <= MINUTES_PER_DAY:
                raise InputError(f"minute {value} is outside the day", "use 00:00-23:59")
        if (self.begin_minute is not None and self.end_minute is not None
                and self.begin_minute >= self.end_minute):
            raise InputError(
                f"a period must begin before it ends (begin {fmt_minute(self.begin_minute)}, "
                f"end {fmt_minute(self.end_minute)}); Instance Scheduler would never start it",
                "write an overnight window as two periods: one with only begintime, one "
                "with only endtime on the next days")

    def matches_day(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        if self.monthdays is not None and not self.monthdays.matches(day):
            return False
        return self.weekdays is None or any(w.matches(day) for w in self.weekdays)

    def segments(self, day: date) -> list[tuple[int, int, int]]:
        """(start, end, desired state) over the local day [0, 1440)."""
        if not self.matches_day(day):
            return [(0, MINUTES_PER_DAY, STOP)]
        begin, end = self.begin_minute, self.end_minute
        if begin is None and end is None:
            return [(0, MINUTES_PER_DAY, RUN)]
        if end is None:
            assert begin is not None
            return _clean([(0, begin, ANY), (begin, MINUTES_PER_DAY, RUN)])
        if begin is None:
            return _clean([(0, end, ANY), (end, MINUTES_PER_DAY, STOP)])
        return _clean([(0, begin, STOP), (begin, end, RUN), (end, MINUTES_PER_DAY, STOP)])

    @property
    def one_sided(self) -> bool:
        return (self.begin_minute is None) != (self.end_minute is None)

    @property
    def is_weekly(self) -> bool:
        """True when the period repeats every week (no month, month-day or nth-weekday rule)."""
        return (self.months is None and self.monthdays is None
                and all(w.nth is None for w in self.weekdays or ()))


def _clean(parts: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    return [p for p in parts if p[1] > p[0]]


@dataclass(frozen=True)
class MonthDays:
    """Instance Scheduler month days: numbers (those past the month's end are skipped, as its
    MonthdaySetBuilder does), ranges ending in L (`6-L`, `3-L/2`), `L` and `15W` forms."""

    days: frozenset[int] = frozenset()  # fixed day numbers 1-31
    last: bool = False  # L: the last day of the month
    to_last: tuple[tuple[int, int], ...] = ()  # (first, step): first..last day, every step
    nearest_weekday: frozenset[int] = frozenset()  # 15W: the weekday nearest the 15th

    def matches(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if day.day in self.days:
            return True
        if self.last and day.day == last:
            return True
        if any(first <= day.day and (day.day - first) % step == 0 for first, step in self.to_last):
            return True
        return any(nearest_weekday(day.year, day.month, n) == day.day
                   for n in self.nearest_weekday)


def nearest_weekday(year: int, month: int, day: int) -> int | None:
    """The working day nearest `day` that stays in the month (MonthdaySetBuilder's W rule)."""
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return None
    weekday = date(year, month, day).weekday()
    if weekday == 5:
        return day - 1 if day > 1 else day + 2
    if weekday == 6:
        return day + 1 if day < last else day - 2
    return day


@dataclass(frozen=True)
class OffhoursEvents:
    """Cloud Custodian's hourly events: (weekday, hour) pairs of local time, 0 = Monday.

    Custodian runs once an hour and stops (starts) the resources whose schedule names that
    local hour; between events a resource keeps its state.
    """

    on: frozenset[tuple[int, int]]
    off: frozenset[tuple[int, int]]


@dataclass(frozen=True)
class Schedule:
    """When a resource runs, in a time zone: Instance Scheduler periods (a desired state at any
    moment) or Custodian events (actions at whole local hours). Holidays are local dates on
    which it stays off (periods) or is not started (events, as Custodian's skip-days)."""

    timezone: str
    periods: tuple[Period, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)
    source: str = ""  # the expression it was parsed from, for messages
    events: OffhoursEvents | None = None

    @property
    def is_weekly(self) -> bool:
        return self.events is not None or all(p.is_weekly for p in self.periods)

    def with_holidays(self, holidays: frozenset[date]) -> Schedule:
        return Schedule(self.timezone, self.periods, self.holidays | holidays, self.source,
                        self.events)

    def day_segments(self, day: date) -> list[tuple[int, int, int]]:
        """The desired state (RUN, ANY, STOP) over the local day, as sorted segments.

        Instance Scheduler: running if any period says running, else "any" if one says any,
        else stopped.
        """
        if day in self.holidays:
            return [(0, MINUTES_PER_DAY, STOP)]
        per_period = [p.segments(day) for p in self.periods]
        cuts = sorted({0, MINUTES_PER_DAY, *(x for segs in per_period for s in segs
                                             for x in s[:2])})
        out: list[tuple[int, int, int]] = []
        for lo, hi in pairwise(cuts):
            states = [next(s[2] for s in segs if s[0] <= lo < s[1]) for segs in per_period]
            state = RUN if RUN in states else ANY if ANY in states else STOP
            if out and out[-1][2] == state:
                out[-1] = (out[-1][0], hi, state)
            else:
                out.append((lo, hi, state))
        return out

    def day_intervals(self, day: date) -> list[tuple[int, int]]:
        """Local minutes [begin, end) in which the resource runs on `day` (wall clock)."""
        return _day_intervals(self, day)

    def weekly_grid(self) -> tuple[tuple[bool, ...], ...]:
        """7 × 24 steady running flags (Monday first) for a weekly, whole-hour schedule."""
        if not self.is_weekly:
            raise InputError("this schedule is not weekly (it uses months, month days or nth "
                             "weekdays)", "only Instance Scheduler periods can express it")
        if self.events is not None:
            return steady_grid(self.events)
        for period in self.periods:
            for minute in (period.begin_minute, period.end_minute):
                if minute is not None and minute % 60 and minute != MINUTES_PER_DAY - 1:
                    raise InputError(
                        f"period time {fmt_minute(minute)} is not on a whole hour",
                        "Cloud Custodian and the exports need whole-hour start and stop times")
        plain = Schedule(self.timezone, self.periods)
        state = False
        grid = [[False] * 24 for _ in range(7)]
        for step in range(2 * 168):  # the second week is the steady state
            weekday, hour = divmod(step % 168, 24)
            # 2024-01-01 is a Monday: any date with the right weekday serves a weekly schedule.
            segs = plain.day_segments(date(2024, 1, 1 + weekday))
            desired = next(s[2] for s in segs if s[0] <= hour * 60 < s[1])
            state = True if desired == RUN else False if desired == STOP else state
            if step >= 168:
                grid[weekday][hour] = state
        return tuple(tuple(row) for row in grid)


@lru_cache(maxsize=8192)
def _day_intervals(schedule: Schedule, day: date) -> list[tuple[int, int]]:
    if schedule.events is not None:
        if day in schedule.holidays:
            return []
        row = steady_grid(schedule.events)[day.weekday()]
        return [(h * 60, h * 60 + 60) for h in range(24) if row[h]]
    # The state at midnight comes from the two weeks before ("any" keeps the last state).
    state = False
    for back in range(14, 0, -1):
        for _lo, _hi, desired in schedule.day_segments(day - timedelta(days=back)):
            state = True if desired == RUN else False if desired == STOP else state
    out: list[tuple[int, int]] = []
    for lo, hi, desired in schedule.day_segments(day):
        state = True if desired == RUN else False if desired == STOP else state
        if state:
            if out and out[-1][1] == lo:
                out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
    return out


@lru_cache(maxsize=64)
def steady_grid(events: OffhoursEvents) -> tuple[tuple[bool, ...], ...]:
    """The weekly on/off state that hourly events settle into (the second week of a walk)."""
    state = False
    grid = [[False] * 24 for _ in range(7)]
    for step in range(2 * 168):
        key = divmod(step % 168, 24)
        if key in events.off:
            state = False
        if key in events.on:
            state = True
        if step >= 168:
            grid[key[0]][key[1]] = state
    return tuple(tuple(row) for row in grid)


def fmt_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def periods_from_grid(grid: tuple[tuple[bool, ...], ...]) -> tuple[Period, ...]:
    """Weekly 7 × 24 flags → periods, one per distinct daily window, days merged."""
    windows: dict[tuple[int, int], set[int]] = {}
    for weekday, hours in enumerate(grid):
        hour = 0
        while hour < 24:
            if hours[hour]:
                start = hour
                while hour < 24 and hours[hour]:
                    hour += 1
                windows.setdefault((start * 60, hour * 60), set()).add(weekday)
            else:
                hour += 1
    return tuple(
        Period(begin, end, frozenset(WeekdaySpec(d) for d in sorted(days)))
        for (begin, end), days in sorted(windows.items(), key=lambda kv: (min(kv[1]), kv[0])))


ALWAYS_ON_UTC = Schedule("Etc/UTC", (Period(),), source="always on")


class ScheduleSyntaxError(InputError):
    """A schedule expression that does not parse; names the offending token and its position."""

    def __init__(self, what: str, expr: str, token: str, position: int, why: str,
                 fix: str) -> None:
        super().__init__(f"invalid {what} '{expr}': {why} at position {position + 1}: '{token}'",
                         fix)
        self.token = token
        self.position = position
