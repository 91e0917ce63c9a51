"""Custodian parity, against the installed c7n itself.

For thousands of generated tag values (valid, mutated, escaped `uXX` forms, spaces, quotes,
cases): mlscope accepts exactly the values both of c7n's OffHour and OnHour filters act on,
except the ones Custodian only half applies, which mlscope refuses saying what Custodian would
do; and for every accepted value the running state of every real hour of a month (DST months
of US, European and Australian/NZ zones) equals what c7n's filters decide, driven hour by hour.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("c7n", reason="c7n is a test dependency: pip install -e '.[test]'")

from c7n_oracle import c7n_states, month_start, random_tag, read_filter, verdict

from mlscope.costs.schedules import hourly_states, parse_custodian
from mlscope.costs.schedules.offhours_tag import CustodianRefusal
from mlscope.errors import InputError

SEEN: dict[str, int] = {"values": 0, "accepted": 0, "refused": 0, "deliberate": 0, "hours": 0}


def check_value(value: str, months: tuple[int, ...], rng: random.Random) -> None:
    v = verdict(value)
    SEEN["values"] += 1
    try:
        schedule = parse_custodian(value)
    except InputError as exc:
        assert "Custodian" in exc.one_line() and "\n" not in exc.one_line()
        if v.accepted:  # only the values Custodian half applies, refused on purpose
            assert v.deliberate and isinstance(exc, CustodianRefusal), (
                f"{value!r}: c7n acts on it, mlscope refused: {exc.one_line()}")
            SEEN["deliberate"] += 1
        else:
            SEEN["refused"] += 1
        return
    assert v.accepted and not v.deliberate, f"{value!r}: mlscope accepts, c7n: {v.deliberate}"
    SEEN["accepted"] += 1
    year, month = 2026, rng.choice(months)
    first = date(year, month, 1)
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    ours = hourly_states(schedule, first, last)
    start, count = month_start(v.off.tz, year, month)
    assert ours[0][0] == start and len(ours) == count, (value, schedule.timezone)
    theirs = c7n_states(v, start, count)
    for (when, running), expected in zip(ours, theirs, strict=True):
        assert running == expected, f"{value!r} at {when:%Y-%m-%d %H:%M} UTC"
    SEEN["hours"] += count


@settings(max_examples=2200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_mlscope_reads_tags_as_custodian_does(seed: int) -> None:
    rng = random.Random(seed)
    value, months = random_tag(rng)
    check_value(value, months, rng)


def test_the_generated_values_cover_both_sides() -> None:
    # Run after the property test in this module: it must have exercised enough of each kind.
    if SEEN["values"] < 2000:
        pytest.skip("run with the property test above")
    print("custodian parity:", SEEN)
    assert SEEN["accepted"] >= 500 and SEEN["refused"] >= 300 and SEEN["deliberate"] >= 20


@pytest.mark.parametrize(("value", "why"), [
    ("off=(M-F,19); on=(M-F,7)", "never start"),  # c7n reads ' on' as another key
    (" off=(M-F,19);on=(M-F,7)", "never stop"),
    ("off=(M-F,19);off=(U,3)", "only the last one"),
    ("off=(M,7);on=(M,7)", "both stop and start"),
    ("hello", "ignores 'hello'"),
    ("off=(M-F,19);tz=pt extra", "zone"),
])
def test_half_applied_values_are_refused_saying_what_custodian_does(value: str,
                                                                   why: str) -> None:
    v = verdict(value)
    assert v.off.acts or v.on.acts  # c7n acts on them ...
    assert v.deliberate or not v.accepted
    with pytest.raises(CustodianRefusal) as err:
        parse_custodian(value)  # ... but only in part: mlscope says how
    assert why in err.value.one_line() and "\n" not in err.value.one_line()


@pytest.mark.parametrize("value", [
    "offu3du28M-Fu2c18u29u3btzu3dAustraliau2fSydney",  # c7n's own docstring example
    "off=u5bu28M-Fu2c18u29u2cu28Su2c13u29u5d",  # ditto
    "off=M-F,19;on=M-F,7",  # no brackets: c7n removes them anyway
    "off=(M--F,19);on=(M-F,7)",  # empty day-range parts are dropped
    "off=(M-F,19);on=(M-F,7);tz=nzst",
    "OFF=(M-F,19);ON=(M-F,7);TZ=PT;",
])
def test_values_custodian_acts_on_are_accepted(value: str) -> None:
    assert verdict(value).accepted and not verdict(value).deliberate
    parse_custodian(value)


def test_the_shortcut_equals_the_filters_own_call_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parity walk calls c7n's `match` on the schedule and zone c7n's filter parsed; here
    the filters' own `__call__` (with `datetime.now` patched) gives the same states."""
    import c7n.filters.offhours as offhours

    class Now(datetime):
        current = datetime(2026, 1, 1, tzinfo=UTC)

        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return cls.current.astimezone(tz)

    class Module:
        datetime = Now

    value = "off=[(M-F,21),(U,18)];on=[(M-F,6),(U,10)];tz=pt"
    v = verdict(value)
    start, count = month_start(v.off.tz, 2026, 11)
    monkeypatch.setattr(offhours, "datetime", Module)
    off, on = read_filter("off", value).filt, read_filter("on", value).filt
    resource = {"InstanceId": "i-0", "Tags": [{"Key": "maid_offhours", "Value": value}]}
    state, states = False, []
    for k in range(-14 * 24, count):
        Now.current = start + timedelta(hours=k)
        if off(resource):
            state = False
        if on(resource):
            state = True
        if k >= 0:
            states.append(state)
    monkeypatch.undo()
    assert states == c7n_states(verdict(value), start, count)
    assert sum(states) == 21 * 15 + 5 * 8  # 21 weekdays 06-21, 5 Sundays 10-18 in Nov 2026
