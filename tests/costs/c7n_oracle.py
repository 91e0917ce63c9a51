"""Cloud Custodian itself as the oracle: what c7n's OffHour/OnHour filters make of a tag value,
hour by hour, and a generator of tag values (valid, mutated, escaped, with spaces).

Shared by tests/costs/test_custodian_parity.py and benchmarks/custodian_parity.py. Nothing
here uses mlscope's parser: the verdicts come from c7n's filters and their own parse results.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from c7n.filters.offhours import OffHour, OnHour, ScheduleParser, Time
from dateutil.tz import tzstr

DEFAULTS_OFF = {"type": "offhour", "default_tz": "et", "offhour": 19}
DEFAULTS_ON = {"type": "onhour", "default_tz": "et", "onhour": 7}
WARM_UP_HOURS = 14 * 24  # as mlscope's walk: long enough that the start state is settled
KIND = {"off": OffHour, "on": OnHour}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class FilterReading:
    acts: bool  # no parse error, no exception, not opted out
    schedule: dict[str, Any] | None  # the schedule c7n's filter matched against
    tz: Any  # c7n's (dateutil) zone for it
    filt: Time


def read_filter(kind: str, value: str) -> FilterReading:
    """Call c7n's filter once on a resource carrying the tag, capturing what it matched."""
    filt = KIND[kind](dict(DEFAULTS_OFF if kind == "off" else DEFAULTS_ON))
    captured: dict[str, Any] = {}
    real_match = filt.match

    def spy(now: datetime, schedule: dict[str, Any]) -> bool:
        captured["schedule"], captured["tz"] = schedule, now.tzinfo
        return bool(real_match(now, schedule))

    filt.match = spy  # type: ignore[method-assign]
    handler = _Records()
    log = logging.getLogger("custodian.offhours")
    log.addHandler(handler)
    level, log.level = log.level, logging.WARNING
    propagate, log.propagate = log.propagate, False
    try:
        filt({"InstanceId": "i-0", "Tags": [{"Key": "maid_offhours", "Value": value}]})
    finally:
        log.removeHandler(handler)
        log.level, log.propagate = level, propagate
    acts = not handler.records and not filt.opted_out and "schedule" in captured
    return FilterReading(acts, captured.get("schedule"), captured.get("tz"), filt)


@dataclass
class Verdict:
    accepted: bool  # both filters act on the value
    deliberate: str | None  # why mlscope refuses a value Custodian accepts (half-applied)
    off: FilterReading
    on: FilterReading


def _matches(reading: FilterReading) -> set[tuple[int, int]]:
    """Every (weekday, hour) at which c7n's own `match` fires for this filter's schedule."""
    assert reading.schedule is not None
    out = set()
    base = datetime(2024, 1, 1)  # a Monday
    for step in range(168):
        now = base + timedelta(hours=step)
        if type(reading.filt).match(reading.filt, now, reading.schedule):
            out.add((now.weekday(), now.hour))
    return out


def verdict(value: str) -> Verdict:
    off, on = read_filter("off", value), read_filter("on", value)
    if not (off.acts and on.acts):
        return Verdict(False, None, off, on)
    # Values Custodian accepts but only half applies: mlscope refuses them on purpose.
    normal = Time.unescape_tag_restrictions(value.lower()).strip("'").strip('"')
    normal = ";".join(p for p in normal.split(";") if p)
    raw = ScheduleParser.raw_data(normal)
    pieces = [p.split("=")[0] for p in normal.split(";")]
    parses = any(k in raw for k in ("on", "off"))
    why = None
    off_hours, on_hours = _matches(off), _matches(on)
    if isinstance(off.tz, tzstr) or isinstance(on.tz, tzstr):
        why = "a zone only dateutil's POSIX TZ-string reader accepts"
    elif parses and len(pieces) != len(set(pieces)):
        why = "a key given twice"
    elif not off_hours or not on_hours:
        why = "a filter that never acts"
    elif off.schedule is not None and on.schedule is not None and (
            off.schedule["tz"] != on.schedule["tz"] or off.schedule["tz"] == ""):
        why = "zones that differ between the filters"
    elif not parses and normal not in ("", "on") and any(
            p and len(p.split("=")) != 2 for part in normal.split(" ") for p in part.split(";")):
        why = "text Custodian ignores"
    elif off_hours & on_hours:
        why = "on and off at the same hour"
    return Verdict(True, why, off, on)


_LOCAL: dict[tuple[int, datetime, int], list[datetime]] = {}


def local_hours(tz: Any, start: datetime, count: int) -> list[datetime]:
    """What c7n's `datetime.now(tz).replace(minute=0, ...)` returns at each hourly run (kept
    per zone object and month: dateutil's conversions are the slow part of the walk)."""
    key = (id(tz), start, count)
    if key not in _LOCAL:
        _LOCAL[key] = _local_hours(tz, start, count)
    return _LOCAL[key]


def _local_hours(tz: Any, start: datetime, count: int) -> list[datetime]:
    return [(start + timedelta(hours=k)).astimezone(tz).replace(minute=0, second=0,
                                                                 microsecond=0)
            for k in range(-WARM_UP_HOURS, count)]


def c7n_states(v: Verdict, start: datetime, count: int) -> list[bool]:
    """Running state after each hourly run: c7n's OffHour stops, its OnHour starts."""
    assert v.off.schedule is not None and v.on.schedule is not None
    off_match, on_match = type(v.off.filt).match, type(v.on.filt).match
    state, out = False, []
    for off_now, on_now in zip(local_hours(v.off.tz, start, count),
                               local_hours(v.on.tz, start, count), strict=True):
        if off_match(v.off.filt, off_now, v.off.schedule):
            state = False
        if on_match(v.on.filt, on_now, v.on.schedule):
            state = True
        out.append(state)
    return out[WARM_UP_HOURS:]


# --- generated tag values -------------------------------------------------------------------

# Zones with DST in three hemispheres/rules, each with its DST months, plus zones without DST.
ZONES: list[tuple[str, tuple[int, ...]]] = [
    ("pt", (3, 11)), ("America/Los_Angeles", (3, 11)), ("america/new_york", (3, 11)),
    ("et", (3, 11)), ("", (3, 11)),
    ("cet", (3, 10)), ("Europe/Berlin", (3, 10)), ("europe/london", (3, 10)), ("bst", (3, 10)),
    ("Australia/Sydney", (4, 10)), ("aet", (4, 10)), ("nzst", (4, 9)),
    ("utc", (1, 6)), ("gmt", (2,)), ("Asia/Kolkata", (7,)), ("jst", (5,)), ("Etc/GMT+5", (8,)),
    ("mars", (1,)), ("Europe/Berlinn", (1,)), ("America/Port-au-Prince", (3, 11)),
]
LETTERS = "MTWHFSU"
ESCAPE = {"(": "u28", ")": "u29", "[": "u5b", "]": "u5d", ",": "u2c", ";": "u3b", "=": "u3d",
          "/": "u2f", "-": "u2d"}
JUNK = [*"();=,[]- MTWHFSUmtx0123456789/'\"", "  ", "; ", " ;", "--", "24", "7"]


def _days(rng: random.Random) -> str:
    a = rng.choice(LETTERS)
    r = rng.random()
    if r < 0.45:
        return a
    if r < 0.9:
        return f"{a}-{rng.choice(LETTERS)}"
    return rng.choice([f"{a}--{rng.choice(LETTERS)}", f"{a}-X-{rng.choice(LETTERS)}",
                       f"-{a}", f"{a}-"])


def _spec(rng: random.Random) -> str:
    items = [f"({_days(rng)},{rng.randint(0, 23)})" for _ in range(rng.randint(1, 3))]
    if len(items) == 1 and rng.random() < 0.8:
        return items[0] if rng.random() < 0.9 else items[0].strip("()")
    return ("[" + ",".join(items) + "]") if rng.random() < 0.85 else ",".join(items)


def random_tag(rng: random.Random) -> tuple[str, tuple[int, ...]]:
    """(tag value, DST months of its zone) - about half are values Custodian acts on."""
    zone, months = rng.choice(ZONES)
    special = rng.random()
    if special < 0.04:
        return rng.choice(["", "on", "off", "ON", "hello", "on;off", "'on'"]), (3, 11)
    parts = []
    if rng.random() < 0.85:
        parts.append(f"off={_spec(rng)}")
    if rng.random() < 0.85:
        parts.append(f"on={_spec(rng)}")
    if zone and rng.random() < 0.9:
        parts.append(f"tz={zone}")
    if rng.random() < 0.05 and parts:
        parts.append(rng.choice(parts))  # a key given twice
    rng.shuffle(parts)
    value = ";".join(parts) + (";" if rng.random() < 0.15 else "")
    if rng.random() < 0.25:
        value = value.upper() if rng.random() < 0.5 else value.lower()
    if rng.random() < 0.12:
        value = f"'{value}'" if rng.random() < 0.5 else f'"{value}"'
    if rng.random() < 0.3:  # mutations: a space next to ';', junk inserted, a char deleted
        for _ in range(rng.randint(1, 2)):
            at = rng.randint(0, len(value))
            op = rng.random()
            if op < 0.4 and ";" in value:
                i = rng.choice([i for i, c in enumerate(value) if c == ";"])
                value = value[:i] + rng.choice([" ;", "; "]) + value[i + 1:]
            elif op < 0.75:
                value = value[:at] + rng.choice(JUNK) + value[at:]
            elif value:
                at = min(at, len(value) - 1)
                value = value[:at] + value[at + 1:]
    if rng.random() < 0.2:  # Custodian's escaped form, whole or in part, any case
        keep = rng.random() < 0.7
        value = "".join(ESCAPE[c] if c in ESCAPE and (keep or rng.random() < 0.5) else c
                        for c in value)
        if rng.random() < 0.2:
            value = value.upper()
    return value, months


def month_start(tz: Any, year: int, month: int) -> tuple[datetime, int]:
    """Local midnight of the month (in c7n's zone) in UTC, and the real hours in the month."""
    start = datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
    nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz).astimezone(UTC)
    return start, int((nxt - start).total_seconds() // 3600)
