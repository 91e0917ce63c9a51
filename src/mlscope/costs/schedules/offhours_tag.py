"""Cloud Custodian offhours tag values → `Schedule`, read exactly as Custodian reads them.

The reading follows c7n 0.9.53 (`c7n/filters/offhours.py`: `Time.get_tag_value`,
`Time.process_resource_schedule`, `ScheduleParser`) step by step, because the property test in
tests/costs/test_custodian_parity.py holds mlscope to what c7n's own OffHour/OnHour filters do:

1. the value is lower-cased, the escapes `u28 u29 u5b u5d u2c u3b u3d u2f u2d` are replaced
   (one after the other, in that order) by `( ) [ ] , ; = / -`, quotes are stripped;
2. `off` opts the resource out; empty `;`-pieces are dropped;
3. each filter (`off` for OffHour, `on` for OnHour) parses the whole value when its key
   appears (keys are found by splitting on spaces and `;`); components are separated by `;`
   only, each must be `key=value`, and a value is a list of `(days,hour)` items where brackets
   and parentheses are simply removed; days are one of `m t w h f s u` or a range (wrapping,
   unknown parts between `-` are dropped); an hour is 0-23;
4. a filter whose key is absent uses the policy default (on `(M-F,7)`, off `(M-F,19)`), with
   the tag's `tz` if any; a missing `tz` is `et`; zones are Custodian's aliases or IANA names.

Custodian then acts once an hour on the resources whose schedule names the current local
hour. Where Custodian would only half apply a value (one filter acts, the other ignores it or
cannot read it; the same hour both on and off; a key given twice; text it silently ignores)
mlscope refuses it with one line that says what Custodian would do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from mlscope.costs.schedules.model import (
    TZ_ALIASES,
    OffhoursEvents,
    Schedule,
    ScheduleSyntaxError,
    periods_from_grid,
    steady_grid,
)
from mlscope.errors import InputError

DAY_LETTERS = {"m": 0, "t": 1, "w": 2, "h": 3, "f": 4, "s": 5, "u": 6}
Items = tuple[tuple[tuple[int, ...], int], ...]
DEFAULT_ON: Items = (((0, 1, 2, 3, 4), 7),)
DEFAULT_OFF: Items = (((0, 1, 2, 3, 4), 19),)
DEFAULT_TZ = "et"
# c7n Time.TAG_RESTRICTIONS and their escapes, replaced in this order.
ESCAPES = (("u28", "("), ("u29", ")"), ("u5b", "["), ("u5d", "]"), ("u2c", ","),
           ("u3b", ";"), ("u3d", "="), ("u2f", "/"), ("u2d", "-"))
EXAMPLE = "e.g. off=(M-F,19);on=(M-F,7);tz=pt or off=[(M-F,21),(U,18)];on=[(M-F,6),(U,10)]"
FIX = (f"components are separated by ';' without spaces, days are M T W H F S U or a range "
       f"like M-F, hours 0-23; {EXAMPLE}")


@dataclass(frozen=True)
class OffhoursTag:
    """The parsed tag: on/off events as (weekdays, hour), and the resolved IANA zone."""

    on: Items
    off: Items
    tz: str


class CustodianRefusal(ScheduleSyntaxError):
    """A value Custodian reads, but only half applies: mlscope says what Custodian would do."""


def decode(raw: str) -> str:
    """Custodian's normalisation of a tag value (lower case, escapes, quotes, empty pieces)."""
    value = raw.lower()
    for code, char in ESCAPES:
        value = value.replace(code, char)
    return value.strip("'").strip('"')


def raw_data(value: str) -> dict[str, str]:
    """c7n ScheduleParser.raw_data: key=value pieces split on spaces and ';' (last one wins)."""
    data: dict[str, str] = {}
    for part in value.split(" "):
        for piece in part.split(";"):
            kv = piece.split("=")
            if len(kv) == 2:
                data[kv[0]] = kv[1]
    return data


def _expand_days(text: str) -> tuple[int, ...] | None:
    if text in DAY_LETTERS:
        return (DAY_LETTERS[text],)
    known = [DAY_LETTERS[d] for d in text.split("-") if d in DAY_LETTERS]
    if len(known) != 2:
        return None
    first, last = known
    if first > last:  # wrapping range: F-M = F S U M
        return tuple(range(first, 7)) + tuple(range(last + 1))
    return tuple(range(first, last + 1))


def parse_items(lexeme: str) -> Items | None:
    """c7n ScheduleParser.parse_resource_schedule: `[(m-f,19),(u,18)]` → items, or None."""
    items = []
    for expr in lexeme.replace("[", "").replace("]", "").split(",("):
        tokens = expr.replace("(", "").replace(")", "").split(",")
        if len(tokens) != 2:
            return None
        hour_text = tokens[1]
        if not (hour_text.isascii() and hour_text.isdigit()) or int(hour_text) > 23:
            return None
        days = _expand_days(tokens[0])
        if not days:
            return None
        items.append((days, int(hour_text)))
    return tuple(items)


@lru_cache(maxsize=1)
def _zone_names() -> tuple[frozenset[str], dict[str, str]]:
    zones = frozenset(available_timezones())
    # c7n: zones whose name is not in title case are looked up by their lower-case name.
    lower = {z.lower(): z for z in zones if z.title() != z and z.lower() not in TZ_ALIASES}
    return zones, lower


def custodian_zone(tz: str) -> str | None:
    """c7n Time.get_tz for a lower-cased zone: alias, non-title-case name or title-cased name."""
    zones, lower = _zone_names()
    found = TZ_ALIASES.get(tz) or lower.get(tz)
    if found:
        return found
    titled = tz.title()
    return titled if titled in zones else None


@dataclass(frozen=True)
class _Filter:
    """What one of Custodian's filters makes of the value."""

    items: Items | None  # None: a parse error (Custodian logs it and never acts)
    tz: str | None
    keys: tuple[str, ...]  # the keys of its ';'-pieces when it parsed the value itself
    parsed: bool


def _read_filter(value: str, kind: str, default: Items) -> _Filter:
    raw = raw_data(value)
    if kind in raw:
        keys: list[str] = []
        schedule: dict[str, object] = {}
        for piece in value.split(";"):
            kv = piece.split("=")
            if len(kv) != 2:
                return _Filter(None, None, tuple(keys), True)
            key, text = kv
            keys.append(key)
            if key != "tz":
                items = parse_items(text)
                if items is None:
                    return _Filter(None, None, tuple(keys), True)
                schedule[key] = items
            else:
                schedule[key] = text
        if any(k not in ("on", "off", "tz") for k in raw):
            return _Filter(None, None, tuple(keys), True)
        tz = str(schedule.get("tz") or DEFAULT_TZ)
        found = schedule.get(kind)
        return _Filter(found if isinstance(found, tuple) else (), tz, tuple(keys), True)
    if any(k not in ("on", "off", "tz") for k in raw):
        return _Filter(None, None, (), False)
    return _Filter(default, raw.get("tz", DEFAULT_TZ), (), False)


def _acts(reading: _Filter) -> bool:
    """Custodian's filter reads the value and resolves its zone ('' is the machine's zone)."""
    if reading.items is None or reading.tz is None:
        return False
    return reading.tz == "" or custodian_zone(reading.tz) is not None


def _position(expr: str, token: str, after: str = "") -> int:
    """Where `token` is in the value as written (escaped values: as near as can be said)."""
    text = expr.lower()
    start = max(text.find(after.lower()), 0) if after else 0
    found = text.find(token.lower(), start)
    return found if found >= 0 else max(text.find(token.lower()), 0)


def _syntax(expr: str, found: tuple[str, str, str], why: str) -> ScheduleSyntaxError:
    token, detail, after = found
    at = _position(expr, token, after)
    return ScheduleSyntaxError("offhours schedule", expr, _as_written(expr, token, at), at,
                               f"{why}: {detail}", FIX)


def _as_written(expr: str, token: str, at: int) -> str:
    written = expr[at:at + len(token)]
    return written if token and written.lower() == token.lower() else (token or expr)


def _refuse(expr: str, token: str, why: str, fix: str = FIX) -> CustodianRefusal:
    at = _position(expr, token)
    return CustodianRefusal("offhours schedule", expr, _as_written(expr, token, at), at, why,
                            fix)


def _explain_items(lexeme: str) -> tuple[str, str]:
    for expr in lexeme.replace("[", "").replace("]", "").split(",("):
        tokens = expr.replace("(", "").replace(")", "").split(",")
        if len(tokens) != 2:
            return expr or lexeme, "expected (days,hour)"
        days, hour = tokens
        if not (hour.isascii() and hour.isdigit()):
            return hour or expr, "expected an hour 0-23"
        if int(hour) > 23:
            return hour, "hour out of range 0-23"
        if not _expand_days(days):
            unknown = [d for d in days.split("-") if d and d not in DAY_LETTERS]
            return (unknown[0] if unknown else days or expr), "unknown day (use M T W H F S U)"
    return lexeme, "cannot be read"


def _bad_piece(value: str) -> tuple[str, str, str]:
    """(token, what is wrong with it, text before it) for the first piece Custodian cannot
    read, for the error message."""
    for piece in value.split(";"):
        kv = piece.split("=")
        if len(kv) != 2:
            why = ("expected key=value, components separated by ';' without spaces"
                   if len(kv) > 2 else "expected key=value")
            return piece, why, ""
        key, text = kv
        if key not in ("on", "off", "tz"):
            return key or piece, "unknown key (use on, off or tz)", ""
        if key != "tz" and parse_items(text) is None:
            token, why = _explain_items(text)
            return token, why, piece
    for key in raw_data(value):
        if key not in ("on", "off", "tz"):
            return key or value, "unknown key (use on, off or tz)", ""
    return value, "cannot be read", ""


def parse_offhours_tag(expr: str) -> OffhoursTag:
    """The tag value as Custodian's OffHour and OnHour filters read it (see the module doc)."""
    value = decode(expr)
    if value == "off":
        raise _syntax(expr, ("off", "Custodian never stops or starts it", ""),
                      "'off' opts the resource out")
    value = ";".join(p for p in value.split(";") if p)
    off = _read_filter(value, "off", DEFAULT_OFF)
    on = _read_filter(value, "on", DEFAULT_ON)
    off_ok, on_ok = _acts(off), _acts(on)
    if not off_ok and not on_ok:
        bad = off if off.items is None else on
        if bad.items is None:
            raise _syntax(expr, _bad_piece(value), "Custodian cannot read it and never acts")
        if bad.tz and any(c.isdigit() for c in bad.tz):
            raise _refuse(expr, bad.tz, "not a time zone name: Custodian (dateutil) may read "
                                        "it as a POSIX TZ string with a fixed offset, or not "
                                        "act at all", "use an alias such as pt or an IANA name")
        raise _syntax(expr, (bad.tz or "tz=", "use an alias such as pt, et, cet or an IANA "
                                              "name such as Europe/Berlin", "tz="),
                      "unknown time zone: Custodian cannot resolve it and never acts")
    if not off_ok or not on_ok:
        broken, works = (off, "starts") if not off_ok else (on, "stops")
        which = "offhour" if broken is off else "onhour"
        token = _bad_piece(value)[0] if broken.items is None else (broken.tz or "tz")
        raise _refuse(expr, token, f"Custodian's {which} filter cannot read this value or its "
                                   f"zone, while the other still {works} the resource")
    for kind, reading in (("off", off), ("on", on)):
        keys = reading.keys
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise _refuse(expr, dupes[0], f"'{dupes[0]}' is given twice: Custodian would use "
                                          "only the last one")
        if reading.parsed and kind not in keys:
            stray = next((k for k in keys if k.strip() == kind), kind)
            verb = "stop" if kind == "off" else "start"
            raise _refuse(expr, stray, f"Custodian reads '{stray}=' as another key than "
                                       f"'{kind}=' (a space next to ';'), so it would never "
                                       f"{verb} the resource")
    if not off.parsed and not on.parsed and value not in ("", "on"):
        ignored = [p for part in value.split(" ") for p in part.split(";")
                   if p and len(p.split("=")) != 2]
        if ignored:
            raise _refuse(expr, ignored[0], f"Custodian ignores '{ignored[0]}' and applies the "
                                            "policy's default schedule",
                          "write 'on' for the defaults, or off=(...);on=(...)")
    assert off.items is not None and on.items is not None and off.tz is not None
    if off.tz != on.tz:
        raise _refuse(expr, "tz", f"Custodian's offhour filter would use the zone "
                                  f"'{off.tz}' and its onhour filter '{on.tz}'",
                      "write tz=ZONE once, without spaces, e.g. tz=pt")
    if off.tz == "":
        raise _refuse(expr, "tz=", "an empty tz: Custodian would use the local zone of the "
                                   "machine it runs on", "write tz=ZONE, e.g. tz=pt")
    zone = custodian_zone(off.tz)
    assert zone is not None
    clash = _same_hour(on.items, off.items)
    if clash:
        day, hour = clash
        raise _refuse(expr, f"{hour}", f"on and off at the same hour ({'MTWHFSU'[day]} "
                                       f"{hour}:00): Custodian would both stop and start the "
                                       "resource then, whichever policy runs last winning",
                      "give each day different on and off hours")
    return OffhoursTag(on.items, off.items, zone)


def _same_hour(on: Items, off: Items) -> tuple[int, int] | None:
    ons = {(d, h) for days, h in on for d in days}
    both = sorted(ons & {(d, h) for days, h in off for d in days})
    return both[0] if both else None


def tag_events(tag: OffhoursTag) -> OffhoursEvents:
    return OffhoursEvents(frozenset((d, h) for days, h in tag.on for d in days),
                          frozenset((d, h) for days, h in tag.off for d in days))


def grid_from_events(tag: OffhoursTag) -> tuple[tuple[bool, ...], ...]:
    """The steady weekly on/off state that hourly on/off events produce."""
    clash = _same_hour(tag.on, tag.off)
    if clash:
        raise InputError(f"on and off at the same hour ({'MTWHFSU'[clash[0]]} {clash[1]}:00)",
                         "give each day different on and off hours")
    return steady_grid(tag_events(tag))


def parse_custodian(expr: str) -> Schedule:
    """A Cloud Custodian offhours tag value as a schedule of hourly events."""
    tag = parse_offhours_tag(expr)
    events = tag_events(tag)
    return Schedule(tag.tz, periods_from_grid(steady_grid(events)), source=expr, events=events)


def to_custodian(schedule: Schedule, tz_name: str | None = None) -> str:
    """The offhours tag value for a weekly, whole-hour schedule (holidays go to skip-days)."""
    grid = schedule.weekly_grid()
    ons: dict[int, list[int]] = {}
    offs: dict[int, list[int]] = {}
    flat = [grid[d][h] for d in range(7) for h in range(24)]
    for i, running in enumerate(flat):
        before = flat[i - 1]  # index -1 wraps to Sunday 23:00, as the week does
        if running != before:
            (ons if running else offs).setdefault(i % 24, []).append(i // 24)
    if not ons and not offs:
        if flat[0]:
            raise InputError("an always-on schedule has no offhours",
                             "leave the resource untagged instead")
        raise InputError("a never-on schedule cannot be written as offhours",
                         "give at least one running period")
    return f"off={_fmt_events(offs)};on={_fmt_events(ons)};tz={tz_name or schedule.timezone}"


def custodian_tz_name(zone: str) -> str:
    """How to write an IANA zone in a policy's `default_tz`, which Custodian does not lower-case
    (Time.get_tz: an alias, or a name that title-casing leaves as it is): `Etc/UTC` → `utc`."""
    candidates = [zone, zone.lower(), *sorted(a for a, z in TZ_ALIASES.items() if z == zone)]
    for name in candidates:
        if custodian_zone(name) == zone and (name == zone.lower() or name.title() == name
                                             or name in TZ_ALIASES):
            return name
    # UTC, GMT, CET...: their lower-case names are aliases of a locality with the same clock.
    alias = zone.lower()
    if alias in TZ_ALIASES and _same_clock(zone, TZ_ALIASES[alias]):
        return alias
    raise InputError(f"Cloud Custodian cannot name the time zone {zone}",
                     "use another IANA zone for this schedule")


def _same_clock(a: str, b: str) -> bool:
    za, zb = ZoneInfo(a), ZoneInfo(b)
    for year in (2025, 2026, 2027):
        for month in range(1, 13):
            for day in (1, 15):
                when = datetime(year, month, day, 12, tzinfo=UTC)
                if when.astimezone(za).utcoffset() != when.astimezone(zb).utcoffset():
                    return False
    return True


# Tag value rules of the services the Custodian export tags (max 256 characters each).
# SageMaker: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ (its Tag API reference); EC2 allows any character.
TAG_VALUE_RULES: dict[str, re.Pattern[str] | None] = {
    "sagemaker-notebook": re.compile(r"[\w\s.:/=+\-@]*"),
    "ec2": None,
}


def tag_value_for(resource_type: str, value: str) -> str:
    """The offhours tag value as that service accepts it: escaped where `( ) , ;` are not."""
    rule = TAG_VALUE_RULES[resource_type]
    out = value if rule is None or rule.fullmatch(value) else escape_tag(value)
    if len(out) > 256 or (rule is not None and not rule.fullmatch(out)):
        raise InputError(f"the offhours tag '{out}' is not a valid {resource_type} tag value",
                         "simplify the schedule (fewer on/off items)")
    return out


def escape_tag(value: str) -> str:
    """Custodian's escaped form, for services whose tag values forbid `( ) [ ] , ; = / -`."""
    out = value
    for code, char in reversed(ESCAPES):
        out = out.replace(char, code)
    return out


def _day_runs(days: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _fmt_events(events: dict[int, list[int]]) -> str:
    letters = "MTWHFSU"
    items = []
    for hour, days in sorted(events.items(), key=lambda kv: (min(kv[1]), kv[0])):
        for first, last in _day_runs(days):
            span = letters[first] if first == last else f"{letters[first]}-{letters[last]}"
            items.append(f"({span},{hour})")
    return items[0] if len(items) == 1 else "[" + ",".join(items) + "]"
