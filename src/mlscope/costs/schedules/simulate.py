"""Hour-by-hour simulation of a schedule in its own time zone.

The month is walked one real (UTC) hour at a time from local midnight of its first day to local
midnight after its last, so a month with a DST change has 743 or 745 elapsed hours. Each real
hour is mapped to local wall-clock time and counts the minutes the schedule wants the resource
running in it: in the repeated autumn hour the local window is counted twice (it really runs
twice), the skipped spring hour does not exist.

Instance Scheduler schedules are a desired state at every moment (running, stopped or "any",
which keeps the last state). Custodian schedules are actions: once an hour (at each real hour
from local midnight) the resources whose tag names the current local hour are stopped or
started, so an action named for the skipped spring hour does not happen that day, and the
repeated autumn hour acts twice - exactly as Custodian's hourly runs would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from mlscope.costs.schedules.model import MINUTES_PER_DAY, RUN, STOP, Schedule
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


# The walk starts this long before the span so that the state it begins with (Custodian's
# last event, Instance Scheduler's last running/stopped decision) is settled: every accepted
# schedule has at least one start and one stop a week, and at most one a year falls into a
# skipped DST hour.
WARM_UP = timedelta(days=14)


@dataclass(frozen=True)
class SpanHours:
    elapsed_hours: float
    running_hours: float
    running_hours_by_day: tuple[float, ...]  # per local calendar day, first to last


def hourly_states(schedule: Schedule, first: date, last: date) -> list[tuple[datetime, bool]]:
    """(UTC start of each real hour, running at its start) from local midnight of `first`
    to the end of `last`; for Custodian schedules, the state after that hour's actions."""
    tz = ZoneInfo(schedule.timezone)
    start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    out: list[tuple[datetime, bool]] = []
    _walk(schedule, start, end, lambda now, minutes, _day: out.append((now, minutes > 0)))
    return out


@lru_cache(maxsize=256)
def _local_hours(timezone: str, start: datetime, steps: int
                 ) -> tuple[tuple[tuple[int, int], date], ...]:
    """((weekday, hour), date) of local time at each real hour of a walk (warm-up included)."""
    tz = ZoneInfo(timezone)
    warm = int(WARM_UP.total_seconds() // 3600)
    out = []
    for k in range(-warm, steps):
        local = (start + timedelta(hours=k)).astimezone(tz)
        out.append(((local.weekday(), local.hour), local.date()))
    return tuple(out)


def _walk(schedule: Schedule, start: datetime, end: datetime,
          record: Callable[[datetime, float, date], None]) -> None:
    """Walk real hours from `start` - WARM_UP to `end`; report each hour from `start` on with
    its running minutes and the local day they belong to (split at local midnight)."""
    tz = ZoneInfo(schedule.timezone)
    steps = int((end - start).total_seconds() // 3600)
    warm = int(WARM_UP.total_seconds() // 3600)
    if schedule.events is not None:
        on, off = schedule.events.on, schedule.events.off
        running = False
        for k, (key, day) in enumerate(_local_hours(schedule.timezone, start, steps), -warm):
            # Custodian acts at each hourly run on the resources tagged for that local hour;
            # skip-days (holidays) keep the onhour policy from starting them.
            if key in off:
                running = False
            if key in on and day not in schedule.holidays:
                running = True
            if k >= 0:
                record(start + timedelta(hours=k), 60.0 if running else 0.0, day)
        return
    cache: dict[date, list[tuple[int, int, int]]] = {}

    def segments(day: date) -> list[tuple[int, int, int]]:
        if day not in cache:
            cache[day] = schedule.day_segments(day)
        return cache[day]

    state = False
    for k in range(-warm, steps):
        now = start + timedelta(hours=k)
        local = now.astimezone(tz)
        day = local.date()
        minute = local.hour * 60 + local.minute
        # A real hour may cross local midnight in zones with a half-hour offset: split it.
        parts = [(day, minute, min(minute + 60, MINUTES_PER_DAY))]
        if minute + 60 > MINUTES_PER_DAY:
            parts.append((day + timedelta(days=1), 0, minute + 60 - MINUTES_PER_DAY))
        for part_day, lo, hi in parts:
            run_minutes = 0
            for seg_lo, seg_hi, desired in segments(part_day):
                a, b = max(lo, seg_lo), min(hi, seg_hi)
                if a >= b:
                    continue
                state = True if desired == RUN else False if desired == STOP else state
                run_minutes += (b - a) if state else 0
            if k >= 0:
                record(now, float(run_minutes), part_day)


def simulate_span(schedule: Schedule, first: date, last: date) -> SpanHours:
    """Real elapsed and running hours from local midnight of `first` to the end of `last`."""
    tz = ZoneInfo(schedule.timezone)
    start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    by_day: dict[date, float] = {}

    def record(_now: datetime, minutes: float, day: date) -> None:
        by_day[day] = by_day.get(day, 0.0) + minutes / 60

    _walk(schedule, start, end, record)
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
