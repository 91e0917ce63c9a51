"""Hour-by-hour simulation: DST weeks in two zones, month ends, holidays, odd offsets."""

from __future__ import annotations

from datetime import date

import pytest

from mlscope.costs.schedules import (
    Period,
    Schedule,
    parse_custodian,
    parse_instance_scheduler,
    simulate_month,
    simulate_span,
)

OFFICE_PT = parse_custodian("off=(M-F,19);on=(M-F,7);tz=pt")
OFFICE_BERLIN = parse_custodian("off=(M-F,19);on=(M-F,7);tz=Europe/Berlin")
NIGHT_BERLIN = parse_custodian("off=(M-U,6);on=(M-U,0);tz=cet")  # 00:00-06:00 every day


def always(tz: str) -> Schedule:
    return Schedule(tz, (Period(),))


@pytest.mark.parametrize(("tz", "month", "hours"), [
    ("America/Los_Angeles", 3, 743), ("America/Los_Angeles", 11, 721),
    ("Europe/Berlin", 3, 743), ("Europe/Berlin", 10, 745),
    ("America/Los_Angeles", 1, 744), ("Asia/Kolkata", 3, 744), ("UTC", 2, 672),
])
def test_elapsed_hours_are_real_hours(tz: str, month: int, hours: int) -> None:
    result = simulate_month(always(tz), 2026, month)
    assert result.elapsed_hours == hours
    assert result.running_hours == hours


@pytest.mark.parametrize(("schedule", "first", "elapsed"), [
    (OFFICE_PT, date(2026, 3, 2), 167),  # spring forward Sun 2026-03-08
    (OFFICE_PT, date(2026, 10, 26), 169),  # fall back Sun 2026-11-01
    (OFFICE_BERLIN, date(2026, 3, 23), 167),  # Sun 2026-03-29
    (OFFICE_BERLIN, date(2026, 10, 19), 169),  # Sun 2026-10-25
])
def test_dst_weeks_keep_office_hours(schedule: Schedule, first: date, elapsed: int) -> None:
    # Monday to the Monday after the change: 8 days, the change is on the Sunday.
    span = simulate_span(schedule, first, date.fromordinal(first.toordinal() + 7))
    assert span.elapsed_hours == elapsed + 24
    assert span.running_hours == 6 * 12  # five weekdays + the next Monday, 12 h each


def test_night_window_across_dst_counts_real_hours() -> None:
    # 00:00-06:00 local: the night of the spring change lasts 5 real hours, of the autumn one 7.
    spring = simulate_span(NIGHT_BERLIN, date(2026, 3, 29), date(2026, 3, 29))
    autumn = simulate_span(NIGHT_BERLIN, date(2026, 10, 25), date(2026, 10, 25))
    assert (spring.running_hours, spring.elapsed_hours) == (5, 23)
    assert (autumn.running_hours, autumn.elapsed_hours) == (7, 25)


def test_month_totals_in_dst_months() -> None:
    # March 2026 has 22 weekdays, November 2026 21: office hours ignore the clock change.
    assert simulate_month(OFFICE_PT, 2026, 3).running_hours == 22 * 12
    assert simulate_month(OFFICE_PT, 2026, 11).running_hours == 21 * 12
    assert simulate_month(NIGHT_BERLIN, 2026, 3).running_hours == 31 * 6 - 1
    assert simulate_month(NIGHT_BERLIN, 2026, 10).running_hours == 31 * 6 + 1


def test_month_ends_and_last_day_periods() -> None:
    last_day = parse_instance_scheduler([{"monthdays": "L"}], "UTC")
    assert simulate_month(last_day, 2028, 2).running_hours == 24  # leap February
    assert simulate_month(last_day, 2028, 2).running_hours_by_day[28] == 24
    assert simulate_month(last_day, 2026, 4).running_hours_by_day[29] == 24
    # A Friday 31st: the office day counts in its own month, not the next.
    assert simulate_month(OFFICE_PT, 2026, 7).running_hours_by_day[30] == 12
    # The month starts at local midnight: a PT month is not a UTC month.
    jan = simulate_month(parse_custodian("off=(M-U,23);on=(M-U,0);tz=pt"), 2026, 1)
    assert jan.running_hours == 31 * 23


def test_holidays_are_off_all_day() -> None:
    holidays = frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 27)})
    with_holidays = OFFICE_PT.with_holidays(holidays)
    plain = simulate_month(OFFICE_PT, 2026, 12)
    off = simulate_month(with_holidays, 2026, 12)
    # Two weekday holidays (Thu, Fri) lose 12 h each; the Sunday was off anyway.
    assert plain.running_hours - off.running_hours == 24
    assert off.running_hours_by_day[23] == 0 and off.running_hours_by_day[24] == 0


def test_half_hour_zone_splits_hours_at_local_midnight() -> None:
    schedule = parse_instance_scheduler(["begintime=00:00;endtime=01:00"], "Asia/Kolkata")
    result = simulate_month(schedule, 2026, 6)
    assert result.running_hours == 30
    assert result.elapsed_hours == 720


def test_minute_precision_periods() -> None:
    schedule = parse_instance_scheduler(["begintime=08:30;endtime=17:15;weekdays=mon-fri"], "UTC")
    assert simulate_month(schedule, 2026, 6).running_hours == pytest.approx(22 * 8.75)
