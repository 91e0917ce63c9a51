"""Instance Scheduler periods: fields, nth/last weekdays, month days, months, errors."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.costs.schedules import (
    ScheduleSyntaxError,
    parse_custodian,
    parse_instance_scheduler,
    parse_period_text,
    period_fields,
)
from mlscope.costs.schedules.scheduler_periods import parse_period
from mlscope.errors import InputError


def test_office_hours_period_equals_the_custodian_tag() -> None:
    period = parse_instance_scheduler(["begintime=07:00;endtime=19:00;weekdays=mon-fri"], "pt")
    assert period.periods == parse_custodian("off=(M-F,19);on=(M-F,7);tz=pt").periods
    assert period.timezone == "America/Los_Angeles"


def test_weekday_forms() -> None:
    p = parse_period({"weekdays": "0-2, fri#2, sunL"})
    sat_last = date(2026, 5, 31)  # the last Sunday of May 2026
    assert p.matches_day(date(2026, 5, 4))  # Monday
    assert p.matches_day(date(2026, 5, 8))  # the second Friday
    assert not p.matches_day(date(2026, 5, 15))  # the third Friday
    assert p.matches_day(sat_last) and not p.matches_day(date(2026, 5, 24))
    assert not p.matches_day(date(2026, 5, 7))  # Thursday


def test_monthdays_months_and_last_day() -> None:
    p = parse_period({"monthdays": "1-3,L", "months": "jan-mar,dec"})
    assert p.matches_day(date(2028, 2, 29)) and not p.matches_day(date(2028, 2, 28))
    assert p.matches_day(date(2026, 12, 2)) and not p.matches_day(date(2026, 6, 2))
    step = parse_period({"monthdays": "1/7"})
    assert [d for d in range(1, 32) if step.matches_day(date(2026, 1, d))] == [1, 8, 15, 22, 29]


def test_one_sided_periods_keep_their_missing_side() -> None:
    # begintime only starts and leaves it running; endtime only stops (test_scheduler_semantics).
    assert parse_period({"begintime": "22:00"}).end_minute is None
    assert parse_period({"endtime": "06:00"}).begin_minute is None
    assert parse_period({"begintime": "09:00", "endtime": "23:59"}).end_minute == 1440


@pytest.mark.parametrize(("text", "token"), [
    ("begintime=7am;endtime=19:00", "7am"),
    ("begintime=07:00;endtime=25:00", "25:00"),
    ("begintime=19:00;endtime=07:00", "07:00"),
    ("begintime=07:00;weekdays=mon-fry", "mon-fry"),
    ("begintime=07:00;weekday=mon", "weekday"),
    ("monthdays=15X", "15X"),
    ("months=jan-foo", "jan-foo"),
    ("monthdays=20-5", "20-5"),
    ("begintime", "begintime"),
])
def test_bad_periods_point_at_the_token(text: str, token: str) -> None:
    with pytest.raises(ScheduleSyntaxError) as err:
        parse_period_text(text)
    assert err.value.token.strip().lower() == token.lower()
    assert text.lower()[err.value.position:].startswith(token.lower())


def test_schedule_needs_a_period() -> None:
    with pytest.raises(InputError, match="at least one period"):
        parse_instance_scheduler([], "UTC")


days = st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)


@settings(max_examples=100, deadline=None)
@given(begin=st.integers(0, 23 * 60), length=st.integers(1, 24 * 60), weekdays=days,
       monthdays=st.one_of(st.none(), st.lists(st.integers(1, 31), min_size=1, unique=True)),
       months=st.one_of(st.none(), st.lists(st.integers(1, 12), min_size=1, unique=True)))
def test_period_fields_round_trip(begin: int, length: int, weekdays: list[int],
                                  monthdays: list[int] | None, months: list[int] | None) -> None:
    end = min(begin + length, 1440)
    if end == 1439:
        end = 1440  # 23:59 reads as end of day
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    fields = {"begintime": f"{begin // 60:02d}:{begin % 60:02d}",
              "endtime": "23:59" if end == 1440 else f"{end // 60:02d}:{end % 60:02d}",
              "weekdays": ",".join(names[d] for d in weekdays)}
    if monthdays:
        fields["monthdays"] = ",".join(map(str, monthdays))
    if months:
        fields["months"] = ",".join(map(str, months))
    period = parse_period(fields)
    assert parse_period(period_fields(period)) == period
    text = ";".join(f"{k}={v}" for k, v in period_fields(period).items())
    assert parse_period_text(text) == period
