"""The common meaning of every schedule format: periods of running time in one time zone.

Cloud Custodian tag values and AWS Instance Scheduler periods both become a `Schedule`: a set of
`Period`s (days + a time window, Instance Scheduler style) in an IANA zone, plus holidays on
which the resource stays off. The simulator and every exporter work from this one form, so the
same schedule means the same hours whichever format it came from or goes to.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from mlscope.errors import InputError, UnknownNameError

MINUTES_PER_DAY = 1440
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Cloud Custodian's aliases (c7n/filters/offhours.py Time.TZ_ALIASES), each tied to a locality so
# that daylight saving time is followed.
TZ_ALIASES: dict[str, str] = {
    "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles", "pst": "America/Los_Angeles",
    "ast": "America/Phoenix", "at": "America/Phoenix",
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "cst": "America/Chicago", "cdt": "America/Chicago", "ct": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "gmt": "Etc/GMT", "gt": "Etc/GMT", "bst": "Europe/London", "ist": "Europe/Dublin",
    "cet": "Europe/Berlin", "it": "Asia/Kolkata", "jst": "Asia/Tokyo", "kst": "Asia/Seoul",
    "sgt": "Asia/Singapore", "aet": "Australia/Sydney", "brt": "America/Sao_Paulo",
    "utc": "Etc/UTC",
}


def resolve_timezone(name: str) -> str:
    """An alias (pt, et, cet, ...) or IANA name → the canonical IANA name."""
    text = name.strip()
    alias = TZ_ALIASES.get(text.lower())
    if alias:
        return alias
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
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


@dataclass(frozen=True)
class Period:
    """Running time on matching days: [begin_minute, end_minute) of local wall-clock time.

    A missing day constraint matches every day. Instance Scheduler semantics: a period with only
    a begin time runs to midnight, one with only an end time runs from midnight.
    """

    begin_minute: int = 0
    end_minute: int = MINUTES_PER_DAY
    weekdays: frozenset[WeekdaySpec] | None = None
    monthdays: frozenset[int] | None = None  # -1 = last day of the month
    months: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.begin_minute < self.end_minute <= MINUTES_PER_DAY:
            raise InputError(
                f"a period must begin before it ends within one day "
                f"(begin {fmt_minute(self.begin_minute)}, end {fmt_minute(self.end_minute)})",
                "split an overnight window into two periods: one until 23:59, one from 00:00")

    def matches_day(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        if self.monthdays is not None:
            last = calendar.monthrange(day.year, day.month)[1]
            if day.day not in self.monthdays and not (-1 in self.monthdays and day.day == last):
                return False
        return self.weekdays is None or any(w.matches(day) for w in self.weekdays)

    @property
    def is_weekly(self) -> bool:
        """True when the period repeats every week (no month, month-day or nth-weekday rule)."""
        return (self.months is None and self.monthdays is None
                and all(w.nth is None for w in self.weekdays or ()))


@dataclass(frozen=True)
class Schedule:
    """When a resource runs: periods in a time zone; holidays (local dates) are off all day."""

    timezone: str
    periods: tuple[Period, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)
    source: str = ""  # the expression it was parsed from, for messages

    @property
    def is_weekly(self) -> bool:
        return all(p.is_weekly for p in self.periods)

    def with_holidays(self, holidays: frozenset[date]) -> Schedule:
        return Schedule(self.timezone, self.periods, self.holidays | holidays, self.source)

    def day_intervals(self, day: date) -> list[tuple[int, int]]:
        """Merged running intervals (minutes of the local day) on `day`."""
        if day in self.holidays:
            return []
        spans = sorted((p.begin_minute, p.end_minute) for p in self.periods if p.matches_day(day))
        merged: list[tuple[int, int]] = []
        for begin, end in spans:
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((begin, end))
        return merged

    def weekly_grid(self) -> tuple[tuple[bool, ...], ...]:
        """7 × 24 running flags (Monday first) for a weekly, whole-hour schedule."""
        if not self.is_weekly:
            raise InputError("this schedule is not weekly (it uses months, month days or nth "
                             "weekdays)", "only Instance Scheduler periods can express it")
        grid = []
        for weekday in range(7):
            # 2024-01-01 is a Monday: any date with the right weekday works for a weekly schedule.
            day = date(2024, 1, 1 + weekday)
            spans = Schedule(self.timezone, self.periods).day_intervals(day)
            for begin, end in spans:
                if begin % 60 or end % 60:
                    raise InputError(
                        f"period {fmt_minute(begin)}-{fmt_minute(end)} is not on whole hours",
                        "Cloud Custodian and the exports need whole-hour start and stop times")
            grid.append(tuple(any(b <= h * 60 < e for b, e in spans) for h in range(24)))
        return tuple(grid)


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
