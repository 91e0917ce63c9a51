"""Cloud Custodian offhours grammar: random valid expressions round-trip, invalid ones point
at the offending token (parity with c7n itself: test_custodian_parity.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.costs.schedules import ScheduleSyntaxError, parse_custodian, to_custodian
from mlscope.costs.schedules.offhours_tag import (
    OffhoursTag,
    escape_tag,
    grid_from_events,
    parse_offhours_tag,
)
from mlscope.errors import InputError, UnknownNameError

LETTERS = "MTWHFSU"

day_spec = st.one_of(
    st.sampled_from(LETTERS),
    st.tuples(st.sampled_from(LETTERS), st.sampled_from(LETTERS)).map(lambda t: f"{t[0]}-{t[1]}"),
)
item = st.tuples(day_spec, st.integers(0, 23))


def _expand(days: str) -> list[int]:
    if "-" not in days:
        return [LETTERS.index(days)]
    a, b = (LETTERS.index(x) for x in days.split("-"))
    return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(b + 1)]


def _spec(items: list[tuple[str, int]]) -> str:
    parts = [f"({d},{h})" for d, h in items]
    return parts[0] if len(parts) == 1 else "[" + ",".join(parts) + "]"


def _events(on: list[tuple[str, int]], off: list[tuple[str, int]]) -> dict[tuple[int, int], bool]:
    out: dict[tuple[int, int], bool] = {}
    for kind, items in ((True, on), (False, off)):
        for days, hour in items:
            for d in _expand(days):
                out[(d, hour)] = kind
    return out


def _consistent(on: list[tuple[str, int]], off: list[tuple[str, int]]) -> bool:
    ons = {(d, h) for days, h in on for d in _expand(days)}
    offs = {(d, h) for days, h in off for d in _expand(days)}
    return not ons & offs


def _expected_grid(events: dict[tuple[int, int], bool]) -> list[list[bool]]:
    """Independent oracle: walk three weeks hour by hour, keep the last."""
    state = False
    grid = [[False] * 24 for _ in range(7)]
    for step in range(3 * 168):
        d, h = divmod(step % 168, 24)
        state = events.get((d, h), state)
        grid[d][h] = state
    return grid


@settings(max_examples=150, deadline=None)
@given(on=st.lists(item, min_size=1, max_size=4), off=st.lists(item, min_size=1, max_size=4),
       tz=st.sampled_from(["pt", "et", "cet", "utc", "Europe/Berlin", "Asia/Kolkata", "gmt"]),
       trailing=st.booleans(), upper=st.booleans())
def test_random_valid_expressions_parse_to_the_hours_their_events_give(
        on: list[tuple[str, int]], off: list[tuple[str, int]], tz: str,
        trailing: bool, upper: bool) -> None:
    if not _consistent(on, off):
        return
    expr = f"off={_spec(off)};on={_spec(on)};tz={tz}" + (";" if trailing else "")
    expr = expr.upper() if upper else expr
    schedule = parse_custodian(expr)
    assert [list(r) for r in schedule.weekly_grid()] == _expected_grid(_events(on, off))
    # The canonical tag written back means the same hours.
    grid = schedule.weekly_grid()
    if any(any(r) for r in grid) and not all(all(r) for r in grid):
        again = parse_custodian(to_custodian(schedule))
        assert again.weekly_grid() == grid
        assert again.timezone == schedule.timezone


ESCAPES = {"(": "u28", ")": "u29", "[": "u5b", "]": "u5d", ",": "u2c", ";": "u3b", "=": "u3d",
           "-": "u2d"}


@settings(max_examples=60, deadline=None)
@given(on=st.lists(item, min_size=1, max_size=3), off=st.lists(item, min_size=1, max_size=3))
def test_escaped_form_means_the_same(on: list[tuple[str, int]],
                                     off: list[tuple[str, int]]) -> None:
    if not _consistent(on, off):
        return
    plain = f"off={_spec(off)};on={_spec(on)};tz=pt"
    escaped = "".join(ESCAPES.get(c, c) for c in plain)
    assert parse_custodian(escaped).periods == parse_custodian(plain).periods
    assert parse_custodian(escape_tag(plain)).events == parse_custodian(plain).events


BAD_TOKENS = [("X", "unknown day"), ("Q", "unknown day"), ("24", "hour out of range"),
              ("99", "hour out of range")]


@settings(max_examples=80, deadline=None)
@given(on=st.lists(item, min_size=1, max_size=3), off=st.lists(item, min_size=1, max_size=3),
       which=st.sampled_from(["on", "off"]), bad=st.sampled_from(BAD_TOKENS))
def test_bad_day_or_hour_is_named(on: list[tuple[str, int]], off: list[tuple[str, int]],
                                  which: str, bad: tuple[str, str]) -> None:
    token, why = bad
    items = list(on if which == "on" else off)
    days, hour = items[0]
    items[0] = (days, token) if token.isdigit() else (token, hour)  # type: ignore[assignment]
    parts = {"on": on, "off": off, which: items}
    expr = f"off={_spec(parts['off'])};on={_spec(parts['on'])};tz=pt"
    with pytest.raises(ScheduleSyntaxError) as err:
        parse_custodian(expr)
    assert why in err.value.problem
    where = expr.index(f"{which}=") + len(which) + 1
    assert err.value.position == expr.index(token, where)


@pytest.mark.parametrize(("expr", "token", "position"), [
    ("off=(M-F,19);on=(M-F,7);tz=mars", "mars", 28),
    ("of=(M-F,19)", "of", 1),
    ("off=(M-F 19)", "(M-F 19)", 5),
    ("off=(M-F,19) on=(M-F,7)", "off=(M-F,19) on=(M-F,7)", 1),
    ("off=(M-F,19);off=(U,3)", "off", 1),
    ("offu3du28Xu2c19u29", "X", 10),
])
def test_invalid_expression_names_token_and_position(expr: str, token: str,
                                                     position: int) -> None:
    with pytest.raises(ScheduleSyntaxError) as err:
        parse_custodian(expr)
    assert err.value.token == token
    assert err.value.position + 1 == position
    assert f"position {position}: '{token}'" in err.value.one_line()


def test_defaults_weekends_and_aliases() -> None:
    default = parse_custodian("on")
    assert default.timezone == "America/New_York"
    assert default.weekly_grid() == parse_custodian("off=(M-F,19);on=(M-F,7);tz=et").weekly_grid()
    # Only `off` given: `on` is the policy default (M-F 7): weekends stay off.
    only_off = parse_custodian("off=(M-F,21);tz=ct")
    assert only_off.timezone == "America/Chicago"
    assert only_off.weekly_grid()[0][7:21] == (True,) * 14
    assert not any(only_off.weekly_grid()[5]) and not any(only_off.weekly_grid()[6])
    # A wrapping range: Friday to Monday.
    wrap = parse_offhours_tag("off=(F-M,20);on=(F-M,8)")
    assert wrap.on[0][0] == (4, 5, 6, 0)
    assert parse_custodian("'off=(M-F,19);on=(M-F,7);tz=Europe/Berlin'").timezone == \
        "Europe/Berlin"
    assert parse_custodian("off=(M-F,19);on=(M-F,7);tz=europe/berlin").timezone == \
        "Europe/Berlin"
    # Custodian's alias list includes nzst; the escaped '/' of its own docstring example.
    assert parse_custodian("tz=nzst").timezone == "Pacific/Auckland"
    assert parse_custodian("offu3du28M-Fu2c18u29u3btzu3dAustraliau2fSydney").timezone == \
        "Australia/Sydney"


def test_same_hour_on_and_off_is_an_error() -> None:
    with pytest.raises(InputError, match="same hour"):
        parse_offhours_tag("off=(M,7);on=(M,7)")
    with pytest.raises(InputError, match="same hour"):
        grid_from_events(OffhoursTag((((0,), 7),), (((0,), 7),), "Etc/UTC"))


def test_unknown_timezone_did_you_mean() -> None:
    from mlscope.costs.schedules import resolve_timezone

    with pytest.raises(UnknownNameError) as err:
        resolve_timezone("Europe/Berlinn")
    assert "Europe/Berlin" in err.value.suggestions
