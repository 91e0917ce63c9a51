"""Instance Scheduler parity: its documented period semantics, case by case, with the running
hours of each case worked out by hand here (not by mlscope).

Semantics (Instance Scheduler on AWS, configuration/running_period.py, instance_schedule.py,
setbuilders/*.py): a period on a day it does not match wants the instance stopped; with
begintime and endtime, running in [begin, end) and stopped outside; begintime only: running
from it, "any" (leave as is) before it; endtime only: "any" before it, stopped from it. The
schedule runs the instance if any period says running, else leaves it if any says any, else
stops it. The instance starts the month stopped (nothing ran before).

June 2026 starts on a Monday and has 30 days: Mondays 1 8 15 22 29, Tuesdays 2 9 16 23 30,
four each of Wednesday (3 10 17 24) to Sunday (7 14 21 28): 22 weekdays, 8 weekend days.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlscope.costs.schedules import (
    ScheduleSyntaxError,
    parse_instance_scheduler,
    parse_period_text,
    simulate_month,
)

JUNE = (2026, 6)
OFFICE = "begintime=09:00;endtime=17:00"  # 8 h
WEEKDAYS_JUNE = 5 + 5 + 4 + 4 + 4  # Mon..Fri counts in June 2026

CASES: list[tuple[str, list[str], str, tuple[int, int], float]] = [
    # (name, periods, time zone, month, running hours by hand)
    ("office hours mon-fri", [f"{OFFICE};weekdays=mon-fri"], "UTC", JUNE, 22 * 8),
    ("times only, every day", [OFFICE], "UTC", JUNE, 30 * 8),
    ("days only: all day on weekends", ["weekdays=sat,sun"], "UTC", JUNE, 8 * 24),
    # begintime only: starts Monday 09:00, keeps running ("any") until a day that does not
    # match (Saturday 00:00): 15 + 4 x 24 = 111 h a week; the last Mon 29 + Tue 30 = 15 + 24.
    ("begintime only", ["begintime=09:00;weekdays=mon-fri"], "UTC", JUNE, 4 * 111 + 39),
    ("endtime only never starts", ["endtime=17:00;weekdays=mon-fri"], "UTC", JUNE, 0),
    # The two one-sided periods: "any" from the begin-only period outranks the end-only
    # period's stop, so it runs from Monday 20:00 to Saturday 06:00 (4 + 4 x 24 + 6 = 106 h),
    # and Mon 29 20:00 to the end of Tue 30: 4 + 24.
    ("one-sided overnight pair", ["begintime=20:00;weekdays=mon-fri",
                                  "endtime=06:00;weekdays=tue-sat"], "UTC", JUNE, 4 * 106 + 28),
    # Bounded overnight: 4 h on 22 weekday evenings, 6 h on 21 Tue-Sat mornings (5+4+4+4+4).
    ("bounded overnight pair", ["begintime=20:00;endtime=23:59;weekdays=mon-fri",
                                "begintime=00:00;endtime=06:00;weekdays=tue-sat"], "UTC", JUNE,
     22 * 4 + 21 * 6),
    ("wrapping weekday range", [f"{OFFICE};weekdays=fri-mon"], "UTC", JUNE, (4 + 4 + 4 + 5) * 8),
    ("wrapping numeric range 6-0", ["weekdays=6-0"], "UTC", JUNE, (4 + 5) * 24),
    ("weekdays L is Sunday", ["weekdays=L"], "UTC", JUNE, 4 * 24),
    ("weekdays ^ is Monday", [f"{OFFICE};weekdays=^"], "UTC", JUNE, 5 * 8),
    ("weekdays *", [f"{OFFICE};weekdays=*"], "UTC", JUNE, 30 * 8),
    ("weekdays ?", [f"{OFFICE};weekdays=?"], "UTC", JUNE, 30 * 8),
    ("first Monday", ["weekdays=mon#1"], "UTC", JUNE, 24),
    ("second Friday (12th)", [f"{OFFICE};weekdays=fri#2"], "UTC", JUNE, 8),
    ("last Friday (26th)", [f"{OFFICE};weekdays=friL"], "UTC", JUNE, 8),
    ("last Friday by number", [f"{OFFICE};weekdays=4L"], "UTC", JUNE, 8),
    ("fifth Monday (29th)", [f"{OFFICE};weekdays=mon#5"], "UTC", JUNE, 8),
    ("no fifth Wednesday", [f"{OFFICE};weekdays=wed#5"], "UTC", JUNE, 0),
    # Instance Scheduler only sees an upper-case L; "fril" is truncated to "fri".
    ("lower-case l is every Friday", [f"{OFFICE};weekdays=fril"], "UTC", JUNE, 4 * 8),
    ("full day names", [f"{OFFICE};weekdays=monday-friday"], "UTC", JUNE, 22 * 8),
    ("upper case and numbers", [f"{OFFICE};weekdays=MON-FRI", f"{OFFICE};weekdays=0-4"], "UTC",
     JUNE, 22 * 8),
    ("weekday step mon/2 = mon wed fri sun", [f"{OFFICE};weekdays=mon/2"], "UTC", JUNE,
     (5 + 4 + 4 + 4) * 8),
    ("weekday range step mon-fri/2", [f"{OFFICE};weekdays=mon-fri/2"], "UTC", JUNE,
     (5 + 4 + 4) * 8),
    ("month days 1-7", [f"{OFFICE};monthdays=1-7"], "UTC", JUNE, 7 * 8),
    ("last day of June", [f"{OFFICE};monthdays=L"], "UTC", JUNE, 8),
    ("last day of February", [f"{OFFICE};monthdays=L"], "UTC", (2026, 2), 8),
    ("6 to the last day", [f"{OFFICE};monthdays=6-L"], "UTC", JUNE, 25 * 8),
    ("3 to the last, every 2nd (3..29)", [f"{OFFICE};monthdays=3-L/2"], "UTC", JUNE, 14 * 8),
    ("30-L in June", [f"{OFFICE};monthdays=30-L"], "UTC", JUNE, 8),
    ("30-L in February: none", [f"{OFFICE};monthdays=30-L"], "UTC", (2026, 2), 0),
    ("every 7th from the 1st", [f"{OFFICE};monthdays=1/7"], "UTC", JUNE, 5 * 8),
    ("15W: the 15th is a Monday", [f"{OFFICE};monthdays=15W"], "UTC", JUNE, 8),
    ("6W: Saturday 6th -> Friday 5th", [f"{OFFICE};monthdays=6W;weekdays=fri"], "UTC", JUNE, 8),
    ("7W: Sunday 7th -> Monday 8th", [f"{OFFICE};monthdays=7W;weekdays=mon"], "UTC", JUNE, 8),
    ("1W: Saturday 1 Aug -> Monday 3rd", [f"{OFFICE};monthdays=1W;weekdays=mon"], "UTC",
     (2026, 8), 8),
    ("31W: Sunday 31 May -> Friday 29th", [f"{OFFICE};monthdays=31W;weekdays=fri"], "UTC",
     (2026, 5), 8),
    ("month days *", [f"{OFFICE};monthdays=*"], "UTC", JUNE, 30 * 8),
    ("31 in June is skipped", [f"{OFFICE};monthdays=31"], "UTC", JUNE, 0),
    ("months jun", [f"{OFFICE};months=jun"], "UTC", JUNE, 30 * 8),
    ("wrapping months nov-feb, June", [f"{OFFICE};months=nov-feb"], "UTC", JUNE, 0),
    ("wrapping months nov-feb, January", [f"{OFFICE};months=nov-feb"], "UTC", (2026, 1), 31 * 8),
    ("month step jan/2 skips June", [f"{OFFICE};months=jan/2"], "UTC", JUNE, 0),
    ("months $ is December", [f"{OFFICE};months=$"], "UTC", (2026, 12), 31 * 8),
    # Weekdays 1-15 June: 1-5, 8-12 and 15.
    ("weekdays and month days together", [f"{OFFICE};weekdays=mon-fri;monthdays=1-15"], "UTC",
     JUNE, 11 * 8),
    ("last day that is a Friday: none in June", [f"{OFFICE};weekdays=fri;monthdays=L"], "UTC",
     JUNE, 0),
    ("last day that is a Friday: 31 July", [f"{OFFICE};weekdays=fri;monthdays=L"], "UTC",
     (2026, 7), 8),
    # begin-only on Saturday 22:00: stopped at Sunday 00:00 (Sunday does not match).
    ("begin-only Saturday night", ["begintime=22:00;weekdays=sat"], "UTC", JUNE, 4 * 2),
    # 09-17 running, then the end-only period says "any" until 20:00: runs 09-20.
    ("end-only stretches a period", [f"{OFFICE};weekdays=mon-fri",
                                     "endtime=20:00;weekdays=mon-fri"], "UTC", JUNE, 22 * 11),
    # Friday: 09-17 running, 17-18 "any" (keeps running), from 18 running to Saturday 00:00.
    ("begin-only Friday evening", [f"{OFFICE};weekdays=mon-fri",
                                   "begintime=18:00;weekdays=fri"], "UTC", JUNE,
     (5 + 5 + 4 + 4) * 8 + 4 * 15),
    # Friday 19:00 to Saturday 00:00 only: Saturday matches neither period.
    ("weekend idiom stops on Saturday", ["begintime=19:00;weekdays=fri",
                                         "endtime=07:00;weekdays=mon"], "UTC", JUNE, 4 * 5),
    ("endtime 23:59 is the end of the day", ["begintime=09:00;endtime=23:59;weekdays=mon-fri"],
     "UTC", JUNE, 22 * 15),
    ("minutes count", ["begintime=08:30;endtime=17:15;weekdays=mon-fri"], "UTC", JUNE,
     22 * 8.75),
    ("overlapping periods merge", ["begintime=08:00;endtime=12:00;weekdays=mon-fri",
                                   "begintime=10:00;endtime=14:00;weekdays=mon-fri"], "UTC",
     JUNE, 22 * 6),
    ("weekend mid-days in June only", ["begintime=10:00;endtime=14:00;weekdays=sat-sun;"
                                       "months=jun"], "UTC", JUNE, 8 * 4),
    # March 2026 in Los Angeles (clocks forward Sunday the 8th): 22 weekdays, wall clock.
    ("office hours across US DST", [f"{OFFICE};weekdays=mon-fri"], "America/Los_Angeles",
     (2026, 3), 22 * 8),
    ("nights across EU spring DST", ["begintime=00:00;endtime=06:00"], "Europe/Berlin",
     (2026, 3), 31 * 6 - 1),
    ("nights across EU autumn DST", ["begintime=00:00;endtime=06:00"], "Europe/Berlin",
     (2026, 10), 31 * 6 + 1),
    ("nights across Sydney DST end (5 Apr)", ["begintime=00:00;endtime=06:00"],
     "Australia/Sydney", (2026, 4), 30 * 6 + 1),
    # Sundays 1 8 15 22 from 01:00: 23 h; the 29th loses 02:00-03:00: 22 h.
    ("begin-only Sundays across DST", ["begintime=01:00;weekdays=sun"], "Europe/Berlin",
     (2026, 3), 4 * 23 + 22),
    # 02:30 does not exist on 29 March: it starts at 03:00 (21 real hours to midnight).
    ("begin-only inside the skipped hour", ["begintime=02:30;weekdays=sun"], "Europe/Berlin",
     (2026, 3), 4 * 21.5 + 21),
]


@pytest.mark.parametrize(("name", "periods", "tz", "month", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_documented_semantics(name: str, periods: list[str], tz: str, month: tuple[int, int],
                              expected: float) -> None:
    schedule = parse_instance_scheduler(periods, tz)
    assert simulate_month(schedule, *month).running_hours == pytest.approx(expected), name


def test_there_are_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("text", "token"), [
    ("monthdays=32", "32"),
    ("monthdays=0", "0"),
    ("monthdays=20-5", "20-5"),
    ("monthdays=15w", "15w"),
    ("monthdays=LW", "LW"),
    ("weekdays=mon-fry", "mon-fry"),
    ("weekdays=mon#6", "mon#6"),
    ("weekdays=mon/0", "mon/0"),
    ("weekdays=mo", "mo"),
    ("months=jan-foo", "jan-foo"),
    ("months=13", "13"),
    ("begintime=7am", "7am"),
    ("begintime=19:00;endtime=07:00", "07:00"),
    ("begintime=07:00;weekday=mon", "weekday"),
    ("begintime", "begintime"),
])
def test_unparseable_periods_name_the_token(text: str, token: str) -> None:
    with pytest.raises(ScheduleSyntaxError) as err:
        parse_period_text(text)
    assert err.value.token == token
    assert text[err.value.position:].startswith(token)
    assert "\n" not in err.value.one_line()


def test_cli_and_validate_name_the_token_exit_2(run: Callable[..., Any],
                                                tmp_path: Path) -> None:
    res = run("cost", "schedule", "--period", "begintime=09:00;monthdays=3-L/0", "--instance",
              "m5.large", "--month", "2026-06", "--json")
    assert res.code == 2 and "'3-L/0'" in res.err and "Traceback" not in res.err
    spec = tmp_path / "mlscope.yaml"
    spec.write_text("project: {name: p}\nenvironments:\n  - name: dev\n    schedule:\n"
                    "      timezone: UTC\n      periods: [{monthdays: '6-32'}]\n"
                    "    resources: [{kind: ec2, name: x, instance: m5.large}]\n")
    res = run("validate", str(spec))
    assert res.code == 2 and f"{spec}:4:" in res.err and "'6-32'" in res.err
    assert "Traceback" not in res.err
