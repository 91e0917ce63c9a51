"""Hour-by-hour simulation of a schedule in its own time zone.

The month is walked one real (UTC) hour at a time from local midnight of its first day to local
midnight after its last, so a month with a DST change has 743 or 745 elapsed hours. Each real
hour is mapped to local wall-clock time and counts the minutes the schedule wants the resource
running in it: in the repeated autumn hour the local window is counted twice (it really runs
twice), the skipped spring hour does not exist. The schedule is evaluated as a desired state
each hour (as Instance Scheduler does), so an event set inside a skipped hour still takes effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from mlscope.costs.schedules.model import MINUTES_PER_DAY, Schedule
from mlscope.errors import InputError


@dataclass(frozen=True)
class MonthHours:
    year: int
    month: int
    timezone: str
    elapsed_hours: float  # real hours in the month in this zone (743/744/745 for 31 days)
    running_hours: float
    running_hours_by_day: tuple[float, ...]  # per local calendar day

    @property
    def days_running(self) -> int:
        return sum(1 for h in self.running_hours_by_day if h > 0)


def parse_month(text: str) -> tuple[int, int]:
    """YYYY-MM → (year, month)."""
    try:
        parsed = datetime.strptime(text.strip(), "%Y-%m")
    except ValueError:
        raise InputError(f"'{text}' is not a month", "write it as YYYY-MM, e.g. 2026-03") from None
    return parsed.year, parsed.month


def month_bounds(tz: ZoneInfo, year: int, month: int) -> tuple[datetime, datetime]:
    """Local midnight at the start of the month and of the next month, in UTC."""
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def elapsed_hours(timezone: str, year: int, month: int) -> float:
    start, end = month_bounds(ZoneInfo(timezone), year, month)
    return (end - start).total_seconds() / 3600


def _overlap(spans: list[tuple[int, int]], lo: int, hi: int) -> int:
    return sum(max(0, min(e, hi) - max(b, lo)) for b, e in spans)


@dataclass(frozen=True)
class SpanHours:
    elapsed_hours: float
    running_hours: float
    running_hours_by_day: tuple[float, ...]  # per local calendar day, first to last


def simulate_span(schedule: Schedule, first: date, last: date) -> SpanHours:
    """Real elapsed and running hours from local midnight of `first` to the end of `last`."""
    tz = ZoneInfo(schedule.timezone)
    start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    by_day: dict[date, float] = {}
    spans_cache: dict[date, list[tuple[int, int]]] = {}

    def spans(day: date) -> list[tuple[int, int]]:
        if day not in spans_cache:
            spans_cache[day] = schedule.day_intervals(day)
        return spans_cache[day]

    now = start
    while now < end:
        local = now.astimezone(tz)
        day = local.date()
        minute = local.hour * 60 + local.minute
        # A real hour may cross local midnight in zones with a half-hour offset: split it.
        first_part = _overlap(spans(day), minute, min(minute + 60, MINUTES_PER_DAY))
        rest = minute + 60 - MINUTES_PER_DAY
        by_day[day] = by_day.get(day, 0.0) + first_part / 60
        if rest > 0:
            nxt = day + timedelta(days=1)
            by_day[nxt] = by_day.get(nxt, 0.0) + _overlap(spans(nxt), 0, rest) / 60
        now += timedelta(hours=1)
    days = tuple(by_day.get(first + timedelta(days=i), 0.0)
                 for i in range((last - first).days + 1))
    return SpanHours((end - start).total_seconds() / 3600, sum(days), days)


@lru_cache(maxsize=4096)
def simulate_month(schedule: Schedule, year: int, month: int) -> MonthHours:
    last = date(year, month, _days_in(year, month))
    span = simulate_span(schedule, date(year, month, 1), last)
    return MonthHours(year, month, schedule.timezone, span.elapsed_hours, span.running_hours,
                      span.running_hours_by_day)


def _days_in(year: int, month: int) -> int:
    return (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days


def month_sequence(year: int, month: int, count: int) -> list[tuple[int, int]]:
    out = []
    for i in range(count):
        index = year * 12 + month - 1 + i
        out.append((index // 12, index % 12 + 1))
    return out
