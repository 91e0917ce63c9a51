"""AWS Instance Scheduler periods and schedules → `Schedule`, with its documented semantics.

A period has `begintime`/`endtime` (HH:MM, 24 h), `weekdays`, `monthdays` and `months`. The
field values follow Instance Scheduler's set builders (configuration/setbuilders/*.py):
comma-separated items, each a name or number, a range `a-b` (weekdays and months wrap:
`fri-mon`, `nov-feb`, `6-0`), a step `a/n` (from a to the last value) or `a-b/n`, `*` or `?`
for all, `^` for the first value and the last-value wildcard (`L` for weekdays = Sunday and
month days = the last day, `$` for months). Weekdays are mon-sun (three significant letters:
`monday` = `mon`) or 0-6 with 0 = Monday, plus `fri#2` (second Friday) and `friL` / `4L` (last
Friday; the `L` must be upper case, as in Instance Scheduler, where `fril` is every Friday).
Month days are 1-31 (days past the month's end are skipped), `L`, `6-L`, `3-L/2` and `15W`
(the weekday nearest the 15th, staying in the month). Months are jan-dec or 1-12.

What a period wants (running_period.py): on a day it does not match, stopped; with both times,
running in [begintime, endtime) and stopped outside; begintime only, running from it and
"any" (leave the instance as it is) before; endtime only, "any" before and stopped from it.
The schedule runs the instance when any period wants it running, else leaves it when any says
"any", else stops it. `endtime=23:59` is read as the end of the day. A period whose begintime
is not before its endtime never runs in Instance Scheduler and is refused here.

On the command line a period is written `begintime=07:00;endtime=19:00;weekdays=mon-fri`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlscope.costs.schedules.model import (
    MINUTES_PER_DAY,
    WEEKDAY_NAMES,
    MonthDays,
    Period,
    Schedule,
    ScheduleSyntaxError,
    WeekdaySpec,
    fmt_minute,
    resolve_timezone,
)
from mlscope.errors import InputError

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
PERIOD_KEYS = ("name", "description", "begintime", "endtime", "weekdays", "monthdays", "months")
FIX = ("periods look like begintime=07:00;endtime=19:00;weekdays=mon-fri (weekdays mon-sun or "
       "0-6, fri#2, friL; monthdays 1-31, L, 6-L, 1/7, 15W; months jan-dec or 1-12; * for all)")


def _fail(expr: str, token: str, position: int, why: str) -> ScheduleSyntaxError:
    return ScheduleSyntaxError("Instance Scheduler period", expr, token, position, why, FIX)


def _time(field: str, text: str, expr: str, offset: int) -> int:
    m = re.fullmatch(r"(\d{1,2}):(\d{1,2})", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise _fail(expr, text.strip(), offset, f"{field} must be HH:MM (00:00-23:59)")
    return int(m.group(1)) * 60 + int(m.group(2))


@dataclass(frozen=True)
class _Builder:
    """One of Instance Scheduler's set builders, reduced to what the fields need."""

    what: str
    names: tuple[str, ...]  # value names, three significant letters; () for numbers only
    low: int
    high: int
    wrap: bool
    separators: str  # characters after which the item is not truncated or lower-cased
    last_wildcard: str
    ignorecase: bool = True

    def fmt(self, item: str) -> str:
        s = item.strip()
        if len(s) == 1 and s in "*?^" + self.last_wildcard:
            return s
        rest = ""
        for char in self.separators:
            if char in s:
                i = s.index(char)
                s, rest = s[:i], s[i:]
                break
        if self.names:
            s = "-".join(t[:3] for t in s.split("-"))
        if self.ignorecase:
            s = s.lower()
        return s + rest

    def by_name(self, text: str) -> int | None:
        if self.names and text in self.names:
            return self.names.index(text) + self.low
        if text == "^":
            return self.low
        if text == self.last_wildcard:
            return self.high
        if not self.names and text.isdigit() and text == str(int(text)) and (
                self.low <= int(text) <= self.high):
            return int(text)  # numeric builders name their values by their digits
        return None

    def by_value(self, text: str) -> int | None:
        s = text
        while len(s) > 1 and s[0] == "0":
            s = s[1:]
        if s.isdigit() and self.low <= int(s) <= self.high:
            return int(s)
        return None

    def span(self, start: int, end: int, step: int, item: str, expr: str, at: int) -> list[int]:
        if start > end and not self.wrap:
            raise _fail(expr, item, at, f"{self.what} range runs backwards")
        size = self.high - self.low + 1
        out, current, skip = [start], start, step
        while current != end:
            current = (current - self.low + 1) % size + self.low
            skip -= 1
            if skip == 0:
                out.append(current)
                skip = step
        return out

    def standard(self, s: str, item: str, expr: str, at: int) -> list[int] | None:
        lookups: tuple[Callable[[str], int | None], ...] = (self.by_name, self.by_value)
        for fn in lookups:
            single = fn(s)
            if single is not None:
                return [single]
        for fn in lookups:
            parts = s.split("-")
            if len(parts) == 2 and fn(parts[0]) is not None and fn(parts[1]) is not None:
                return self.span(fn(parts[0]) or 0, fn(parts[1]) or 0, 1, item, expr, at)
        if len(s) == 1 and s in "*?":
            return list(range(self.low, self.high + 1))
        pieces = s.split("/")
        if len(pieces) == 2:
            if not pieces[1].strip().isdigit() or int(pieces[1]) <= 0:
                raise _fail(expr, item, at, "the step after '/' must be a whole number above 0")
            step = int(pieces[1])
            for fn in lookups:
                first = fn(pieces[0])
                if first is not None:
                    return self.span(first, self.high, step, item, expr, at)
            for fn in lookups:
                parts = pieces[0].split("-")
                if len(parts) == 2 and fn(parts[0]) is not None and fn(parts[1]) is not None:
                    return self.span(fn(parts[0]) or 0, fn(parts[1]) or 0, step, item, expr, at)
        return None


WEEKDAYS = _Builder("weekday", WEEKDAY_NAMES, 0, 6, True, "/#L", "L")
MONTHS = _Builder("month", MONTH_NAMES, 1, 12, True, "/", "$")
# Month days are built for 31 days; days past a shorter month's end simply never match, as
# MonthdaySetBuilder skips them. "L" is kept symbolic (the last day of each month).
MONTHDAYS = _Builder("month day", (), 1, 31, False, "/W", "L", ignorecase=False)


def _items(text: str, offset: int) -> Iterable[tuple[str, int]]:
    pos = 0
    for part in str(text).split(","):
        lead = len(part) - len(part.lstrip())
        yield part, offset + pos + lead
        pos += len(part) + 1


def _weekdays(text: str, expr: str, offset: int) -> frozenset[WeekdaySpec]:
    specs: set[WeekdaySpec] = set()
    for item, at in _items(text, offset):
        s = WEEKDAYS.fmt(item)
        values = WEEKDAYS.standard(s, item.strip(), expr, at)
        if values is not None:
            specs.update(WeekdaySpec(v) for v in values)
            continue
        m = re.fullmatch(r"(.*)#(.*)", s)
        if m:
            day = WEEKDAYS.by_name(m.group(1))
            day = day if day is not None else WEEKDAYS.by_value(m.group(1))
            if day is not None:
                if not m.group(2).isdigit() or not 1 <= int(m.group(2)) <= 5:
                    raise _fail(expr, item.strip(), at, "the occurrence after '#' must be 1-5")
                specs.add(WeekdaySpec(day, int(m.group(2))))
                continue
        if s.endswith("L") and len(s) > 1:
            day = WEEKDAYS.by_name(s[:-1])
            day = day if day is not None else WEEKDAYS.by_value(s[:-1])
            if day is not None:
                specs.add(WeekdaySpec(day, -1))
                continue
        raise _fail(expr, item.strip(), at, "unknown weekday (use mon-sun or 0-6, ranges, "
                                            "fri#2, friL, * for all)")
    return frozenset(specs)


def _monthdays(text: str, expr: str, offset: int) -> MonthDays:
    days: set[int] = set()
    last = False
    to_last: list[tuple[int, int]] = []
    nearest: set[int] = set()
    for item, at in _items(text, offset):
        s = MONTHDAYS.fmt(item)
        m = re.fullmatch(r"(\d+)-L(?:/(\d+))?", s) or re.fullmatch(r"L/(\d+)", s)
        if s == "L" or (m and s.startswith("L")):
            last = True
            continue
        if m:
            first = MONTHDAYS.by_name(m.group(1))
            if first is None:
                raise _fail(expr, item.strip(), at, "unknown month day (use 1-31)")
            step = int(m.group(2) or 1)
            if step <= 0:
                raise _fail(expr, item.strip(), at, "the step after '/' must be above 0")
            to_last.append((first, step))
            continue
        values = MONTHDAYS.standard(s, item.strip(), expr, at)
        if values is not None:
            days.update(values)
            continue
        w = re.fullmatch(r"(\d{1,2})W", s)
        if w and MONTHDAYS.by_value(w.group(1)) is not None:
            nearest.add(int(w.group(1)))
            continue
        raise _fail(expr, item.strip(), at, "unknown month day (use 1-31, ranges, L, 6-L, "
                                            "1/7, 15W, * for all)")
    return MonthDays(frozenset(days), last, tuple(sorted(to_last)), frozenset(nearest))


def _months(text: str, expr: str, offset: int) -> frozenset[int]:
    months: set[int] = set()
    for item, at in _items(text, offset):
        values = MONTHS.standard(MONTHS.fmt(item), item.strip(), expr, at)
        if values is None:
            raise _fail(expr, item.strip(), at, "unknown month (use jan-dec or 1-12, ranges, "
                                                "* for all)")
        months.update(values)
    return frozenset(months)


def parse_period(fields: Mapping[str, Any], expr: str | None = None) -> Period:
    """One period from its Instance Scheduler fields (`begintime`, `endtime`, `weekdays`, ...)."""
    expr = expr if expr is not None else ";".join(f"{k}={v}" for k, v in fields.items())
    offsets = {k: expr.find(f"{k}=") + len(k) + 1 for k in fields}
    for key in fields:
        if key not in PERIOD_KEYS:
            raise _fail(expr, key, max(expr.find(key), 0), "unknown period field "
                        f"(use {', '.join(PERIOD_KEYS[2:])})")
    begin = end = None
    if fields.get("begintime") not in (None, ""):
        begin = _time("begintime", str(fields["begintime"]), expr, offsets["begintime"])
    if fields.get("endtime") not in (None, ""):
        end = _time("endtime", str(fields["endtime"]), expr, offsets["endtime"])
        # endtime 23:59 means "until the end of the day" in Instance Scheduler configurations.
        end = MINUTES_PER_DAY if end == MINUTES_PER_DAY - 1 else end
    if begin is not None and end is not None and begin >= end:
        raise _fail(expr, str(fields["endtime"]).strip(), offsets["endtime"],
                    f"endtime must be after begintime {fmt_minute(begin)}: Instance Scheduler "
                    "would never run this period (an overnight window is a begintime-only "
                    "period plus an endtime-only one)")
    weekdays = months = None
    monthdays = None
    if fields.get("weekdays") not in (None, ""):
        weekdays = _weekdays(str(fields["weekdays"]), expr, offsets["weekdays"])
    if fields.get("monthdays") not in (None, ""):
        monthdays = _monthdays(str(fields["monthdays"]), expr, offsets["monthdays"])
    if fields.get("months") not in (None, ""):
        months = _months(str(fields["months"]), expr, offsets["months"])
    return Period(begin, end, weekdays, monthdays, months)


def parse_period_text(text: str) -> Period:
    """`begintime=07:00;endtime=19:00;weekdays=mon-fri` → a period."""
    fields: dict[str, str] = {}
    pos = 0
    for part in text.split(";"):
        if part.strip():
            if "=" not in part:
                raise _fail(text, part.strip(), pos + len(part) - len(part.lstrip()),
                            "expected field=value")
            key, value = part.split("=", 1)
            if key.strip().lower() in fields:
                raise _fail(text, key.strip(), pos, "field given twice")
            fields[key.strip().lower()] = value
        pos += len(part) + 1
    if not fields:
        raise _fail(text, text, 0, "empty period")
    return parse_period(fields, text)


def parse_instance_scheduler(periods: Iterable[Mapping[str, Any] | str], timezone: str,
                             name: str = "") -> Schedule:
    """An Instance Scheduler schedule: its periods (dicts or `k=v;...` text) and time zone."""
    parsed = tuple(parse_period_text(p) if isinstance(p, str) else parse_period(p)
                   for p in periods)
    if not parsed:
        raise InputError("an Instance Scheduler schedule needs at least one period",
                         "add e.g. begintime=07:00;endtime=19:00;weekdays=mon-fri")
    return Schedule(resolve_timezone(timezone), parsed, source=name or "instance-scheduler")


def period_fields(period: Period) -> dict[str, str]:
    """A period back to Instance Scheduler fields (the exporter's inverse of `parse_period`)."""
    out: dict[str, str] = {}
    if period.begin_minute is not None:
        out["begintime"] = fmt_minute(period.begin_minute)
    if period.end_minute is not None:
        end = period.end_minute
        out["endtime"] = "23:59" if end == MINUTES_PER_DAY else fmt_minute(end)
    if period.weekdays is not None:
        parts = []
        for spec in sorted(period.weekdays, key=lambda w: (w.weekday, w.nth or 0)):
            name = WEEKDAY_NAMES[spec.weekday]
            parts.append(name if spec.nth is None else
                         f"{name}L" if spec.nth == -1 else f"{name}#{spec.nth}")
        out["weekdays"] = ",".join(_compress(parts, WEEKDAY_NAMES))
    if period.monthdays is not None:
        md = period.monthdays
        items = [str(d) for d in sorted(md.days)]
        items += [f"{first}-L" if step == 1 else f"{first}-L/{step}" for first, step in md.to_last]
        items += [f"{d}W" for d in sorted(md.nearest_weekday)]
        if md.last:
            items.append("L")
        out["monthdays"] = ",".join(items)
    if period.months is not None:
        out["months"] = ",".join(MONTH_NAMES[m - 1] for m in sorted(period.months))
    return out


def _compress(parts: list[str], names: tuple[str, ...]) -> list[str]:
    """mon,tue,wed,thu,fri → mon-fri (plain day names only)."""
    out: list[str] = []
    run: list[int] = []
    for part in [*parts, ""]:
        if part in names and (not run or names.index(part) == run[-1] + 1):
            run.append(names.index(part))
            continue
        if run:
            out.append(names[run[0]] if len(run) == 1 else
                       f"{names[run[0]]},{names[run[1]]}" if len(run) == 2 else
                       f"{names[run[0]]}-{names[run[-1]]}")
            run = []
        if part in names:
            run = [names.index(part)]
        elif part:
            out.append(part)
    return out
