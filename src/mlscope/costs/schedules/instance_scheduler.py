"""AWS Instance Scheduler periods and schedules → `Schedule`.

A period has `begintime`/`endtime` (HH:MM, 24 h), `weekdays` (mon-sun or 0-6 with 0 = Monday,
ranges, lists, `fri#2` = second Friday, `friL` = last Friday), `monthdays` (1-31, ranges,
`1/7` steps, `L` = last day) and `months` (jan-dec or 1-12, ranges, steps). A schedule is a list
of periods and a `timezone`; the resource runs while any period is active. As in Instance
Scheduler, a period with only a begin time runs to midnight, with only an end time from
midnight; an overnight window is two periods.

On the command line a period is written `begintime=07:00;endtime=19:00;weekdays=mon-fri`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mlscope.costs.schedules.model import (
    MINUTES_PER_DAY,
    WEEKDAY_NAMES,
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
FIX = ("periods look like begintime=07:00;endtime=19:00;weekdays=mon-fri "
       "(weekdays mon-sun or 0-6, monthdays 1-31 or L, months jan-dec or 1-12)")


def _fail(expr: str, token: str, position: int, why: str) -> ScheduleSyntaxError:
    return ScheduleSyntaxError("Instance Scheduler period", expr, token, position, why, FIX)


def _time(field: str, text: str, expr: str, offset: int) -> int:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise _fail(expr, text, offset, f"{field} must be HH:MM (00:00-23:59)")
    return int(m.group(1)) * 60 + int(m.group(2))


def _number(token: str, names: tuple[str, ...], low: int, high: int, expr: str, offset: int,
            what: str) -> int:
    token = token.strip().lower()
    if token[:3] in names and token in (token[:3], _full_name(token[:3], names)):
        return names.index(token[:3]) + (low if what == "month" else 0)
    if token.isdigit() and low <= int(token) <= high:
        return int(token)
    raise _fail(expr, token, offset, f"unknown {what} (use {names[0]}-{names[-1]} or {low}-{high})")


def _full_name(short: str, names: tuple[str, ...]) -> str:
    full = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday",
            "fri": "friday", "sat": "saturday", "sun": "sunday", "jan": "january",
            "feb": "february", "mar": "march", "apr": "april", "jun": "june", "jul": "july",
            "aug": "august", "sep": "september", "oct": "october", "nov": "november",
            "dec": "december"}
    return full.get(short, short)


def _items(text: str, offset: int) -> Iterable[tuple[str, int]]:
    pos = 0
    for part in text.split(","):
        lead = len(part) - len(part.lstrip())
        yield part.strip(), offset + pos + lead
        pos += len(part) + 1


def _range(item: str, names: tuple[str, ...], low: int, high: int, expr: str, offset: int,
           what: str) -> list[int]:
    step = 1
    if "/" in item:
        item, step_text = item.split("/", 1)
        if not step_text.isdigit() or int(step_text) < 1:
            raise _fail(expr, step_text, offset + len(item) + 1, "step must be a positive number")
        step = int(step_text)
    if "-" in item:
        first_text, last_text = item.split("-", 1)
        first = _number(first_text, names, low, high, expr, offset, what)
        last = _number(last_text, names, low, high, expr, offset + len(first_text) + 1, what)
        if last < first:
            raise _fail(expr, item, offset, f"{what} range runs backwards")
        return list(range(first, last + 1, step))
    first = _number(item, names, low, high, expr, offset, what)
    return list(range(first, high + 1, step)) if step > 1 else [first]


def _weekdays(text: str, expr: str, offset: int) -> frozenset[WeekdaySpec]:
    specs: set[WeekdaySpec] = set()
    for item, at in _items(text, offset):
        m = re.fullmatch(r"(\w+?)\s*(?:#([1-5])|\s*(l))?", item.lower())
        if m and (m.group(2) or m.group(3)):
            day = _number(m.group(1), WEEKDAY_NAMES, 0, 6, expr, at, "weekday")
            specs.add(WeekdaySpec(day, int(m.group(2)) if m.group(2) else -1))
            continue
        specs.update(WeekdaySpec(d) for d in _range(item, WEEKDAY_NAMES, 0, 6, expr, at,
                                                    "weekday"))
    return frozenset(specs)


def _monthdays(text: str, expr: str, offset: int) -> frozenset[int]:
    days: set[int] = set()
    for item, at in _items(text, offset):
        if item.lower() == "l":
            days.add(-1)
        elif item.lower().endswith("w"):
            raise _fail(expr, item, at, "nearest-weekday days (15W) are not supported")
        else:
            days.update(_range(item, (), 1, 31, expr, at, "month day"))
    return frozenset(days)


def _months(text: str, expr: str, offset: int) -> frozenset[int]:
    months: set[int] = set()
    for item, at in _items(text, offset):
        months.update(_range(item, MONTH_NAMES, 1, 12, expr, at, "month"))
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
        raise _fail(expr, str(fields["endtime"]), offsets["endtime"],
                    f"endtime must be after begintime {fmt_minute(begin)} "
                    "(an overnight window is two periods)")
    weekdays = monthdays = months = None
    if fields.get("weekdays") not in (None, ""):
        weekdays = _weekdays(str(fields["weekdays"]), expr, offsets["weekdays"])
    if fields.get("monthdays") not in (None, ""):
        monthdays = _monthdays(str(fields["monthdays"]), expr, offsets["monthdays"])
    if fields.get("months") not in (None, ""):
        months = _months(str(fields["months"]), expr, offsets["months"])
    return Period(begin if begin is not None else 0, end if end is not None else MINUTES_PER_DAY,
                  weekdays, monthdays, months)


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
    out: dict[str, str] = {"begintime": fmt_minute(period.begin_minute)}
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
        out["monthdays"] = ",".join("L" if d == -1 else str(d) for d in sorted(period.monthdays))
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
