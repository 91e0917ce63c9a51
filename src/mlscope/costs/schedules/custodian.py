"""Cloud Custodian offhours tag values → `Schedule`.

Grammar (c7n/filters/offhours.py): `off=SPEC;on=SPEC;tz=ZONE`, components separated by `;` or
spaces, a trailing `;` allowed, case-insensitive. SPEC is `(DAYS,HOUR)` or a list
`[(DAYS,HOUR),(DAYS,HOUR)]`; DAYS is one of M T W H F S U or a range such as `M-F` (wrapping
ranges like `F-M` allowed); HOUR is 0-23. A missing `on`/`off` takes the policy default
(`on=(M-F,7)`, `off=(M-F,19)`: weekends off); a missing `tz` is `et`; an empty value or `on`
means the defaults. Services that forbid `( ) [ ] , ; = -` in tag values (RDS, ECS, ...) use
Custodian's escaped form: `u28 u29 u5b u5d u2c u3b u3d u2d`, e.g. `offu3du28M-Fu2c19u29`.

Custodian acts once an hour on resources whose tag names the current hour: the resource is
on from an `on` hour until the next `off` hour. The steady weekly state that results is what this
module returns, as periods.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlscope.costs.schedules.model import (
    Schedule,
    ScheduleSyntaxError,
    periods_from_grid,
    resolve_timezone,
)
from mlscope.errors import InputError

DAY_LETTERS = {"m": 0, "t": 1, "w": 2, "h": 3, "f": 4, "s": 5, "u": 6}
DEFAULT_ON = ((0, 1, 2, 3, 4), 7)
DEFAULT_OFF = ((0, 1, 2, 3, 4), 19)
DEFAULT_TZ = "et"
ESCAPES = {"u28": "(", "u29": ")", "u5b": "[", "u5d": "]", "u2c": ",", "u3b": ";",
           "u3d": "=", "u2d": "-"}
EXAMPLE = "e.g. off=(M-F,19);on=(M-F,7);tz=pt or off=[(M-F,21),(U,18)];on=[(M-F,6),(U,10)]"


FIX = f"days are M T W H F S U or a range like M-F, hours 0-23; {EXAMPLE}"


def _syntax(expr: str, token: str, position: int, why: str) -> ScheduleSyntaxError:
    return ScheduleSyntaxError("offhours schedule", expr, token, position, why, FIX)


@dataclass(frozen=True)
class OffhoursTag:
    """The parsed tag: on/off events as (weekdays, hour), and the zone as written."""

    on: tuple[tuple[tuple[int, ...], int], ...]
    off: tuple[tuple[tuple[int, ...], int], ...]
    tz: str


def _unescape(raw: str) -> tuple[str, list[int]]:
    """Decode Custodian's `uXX` escapes; keep, per decoded char, its offset in the original.

    The decoded text keeps the original case (IANA zone names need it); callers lower it.
    """
    out: list[str] = []
    where: list[int] = []
    i = 0
    lowered = raw.lower()
    while i < len(raw):
        code = lowered[i:i + 3]
        if code in ESCAPES:
            out.append(ESCAPES[code])
            where.append(i)
            i += 3
        else:
            out.append(raw[i])
            where.append(i)
            i += 1
    return "".join(out), where


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        # People copy the quotes from the docs; Custodian strips them, so do we.
        inner = expr.strip().strip("'\"")
        lead = expr.index(inner) if inner else 0
        self.cased, where = _unescape(inner)
        self.where = [w + lead for w in where]
        self.text = self.cased.lower()
        self.pos = 0

    def fail(self, why: str, start: int | None = None,
             end: int | None = None) -> ScheduleSyntaxError:
        start = self.pos if start is None else start
        end = start + 1 if end is None else end
        if start >= len(self.text):
            return _syntax(self.expr, "<end>", len(self.expr), why)
        lo = self.where[start]
        hi = self.where[end - 1] + 1 if end - 1 < len(self.where) else len(self.expr)
        token = self.expr[lo:hi] or self.expr[lo:lo + 1]
        # An escape stands for one character: show the whole escape, not its first letter.
        if self.expr[lo:lo + 3].lower() in ESCAPES and hi - lo < 3:
            token = self.expr[lo:lo + 3]
        return _syntax(self.expr, token, lo, why)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str, why: str) -> None:
        if self.peek() != char:
            raise self.fail(why)
        self.pos += 1

    def parse(self) -> OffhoursTag:
        text = self.text
        if text in ("", "on"):
            return OffhoursTag((DEFAULT_ON,), (DEFAULT_OFF,), DEFAULT_TZ)
        if text == "off":
            raise _syntax(self.expr, "off", 0, "'off' opts a resource out of offhours")
        seen: dict[str, object] = {}
        while self.pos < len(self.text):
            if self.peek() in "; ":
                self.pos += 1
                continue
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos] not in "=; ":
                self.pos += 1
            key = self.text[start:self.pos]
            if key not in ("on", "off", "tz"):
                raise self.fail("unknown key (use on, off or tz)", start, max(self.pos, start + 1))
            if key in seen:
                raise self.fail(f"'{key}' given twice", start, self.pos)
            self.expect("=", f"expected '=' after '{key}'")
            if key == "tz":
                zstart = self.pos
                while self.pos < len(self.text) and self.text[self.pos] not in "; ":
                    self.pos += 1
                zone = self.cased[zstart:self.pos]
                if not zone:
                    raise self.fail("empty time zone", zstart)
                try:
                    resolve_timezone(zone)
                except InputError as exc:
                    raise _syntax(self.expr, zone, self.where[zstart],
                                              f"unknown time zone ({exc.fix})") from None
                seen[key] = zone
            else:
                seen[key] = self.parse_spec()
            if self.pos < len(self.text) and self.peek() not in "; ":
                raise self.fail("expected ';' between components")
        on = seen.get("on", (DEFAULT_ON,))
        off = seen.get("off", (DEFAULT_OFF,))
        tz = seen.get("tz", DEFAULT_TZ)
        assert isinstance(on, tuple) and isinstance(off, tuple) and isinstance(tz, str)
        return OffhoursTag(on, off, tz)

    def parse_spec(self) -> tuple[tuple[tuple[int, ...], int], ...]:
        if self.peek() == "[":
            self.pos += 1
            items = [self.parse_item()]
            while self.peek() == ",":
                self.pos += 1
                items.append(self.parse_item())
            self.expect("]", "expected ',' or ']' in the list")
            return tuple(items)
        if self.peek() != "(":
            raise self.fail("expected '(' or '['")
        return (self.parse_item(),)

    def parse_item(self) -> tuple[tuple[int, ...], int]:
        self.expect("(", "expected '('")
        days = self.parse_days()
        self.expect(",", "expected ',' between days and hour")
        start = self.pos
        while self.peek().isdigit():
            self.pos += 1
        if start == self.pos:
            raise self.fail("expected an hour 0-23", start, start + 1)
        hour = int(self.text[start:self.pos])
        if hour > 23:
            raise self.fail("hour out of range 0-23", start, self.pos)
        self.expect(")", "expected ')' after the hour")
        return days, hour

    def parse_day(self) -> int:
        char = self.peek()
        if char not in DAY_LETTERS:
            end = self.pos + 1
            while end < len(self.text) and self.text[end].isalpha():
                end += 1
            raise self.fail("unknown day (use M T W H F S U)", self.pos, end)
        self.pos += 1
        return DAY_LETTERS[char]

    def parse_days(self) -> tuple[int, ...]:
        first = self.parse_day()
        if self.peek() != "-":
            return (first,)
        self.pos += 1
        last = self.parse_day()
        if first <= last:
            return tuple(range(first, last + 1))
        return tuple(range(first, 7)) + tuple(range(last + 1))  # wrap: F-M = F S U M


def parse_offhours_tag(expr: str) -> OffhoursTag:
    return _Parser(expr).parse()


def grid_from_events(tag: OffhoursTag) -> tuple[tuple[bool, ...], ...]:
    """The steady weekly on/off state that hourly on/off events produce."""
    events: dict[tuple[int, int], bool] = {}
    for kind, items in ((True, tag.on), (False, tag.off)):
        for days, hour in items:
            for day in days:
                if events.get((day, hour), kind) != kind:
                    raise InputError(
                        f"on and off at the same hour ({'MTWHFSU'[day]} {hour}:00)",
                        "give each day different on and off hours")
                events[(day, hour)] = kind
    state = False
    grid = [[False] * 24 for _ in range(7)]
    for step in range(2 * 168):  # the second week is the steady state
        day, hour = divmod(step % 168, 24)
        state = events.get((day, hour), state)
        if step >= 168:
            grid[day][hour] = state
    return tuple(tuple(row) for row in grid)


def parse_custodian(expr: str) -> Schedule:
    """A Cloud Custodian offhours tag value as a schedule."""
    tag = parse_offhours_tag(expr)
    return Schedule(resolve_timezone(tag.tz), periods_from_grid(grid_from_events(tag)),
                    source=expr)


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
