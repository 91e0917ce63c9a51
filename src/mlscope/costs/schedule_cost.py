"""What one schedule saves on one instance type in one month."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from mlscope.costs.schedules import (
    Schedule,
    parse_custodian,
    parse_instance_scheduler,
    period_fields,
    simulate_month,
    to_custodian,
)
from mlscope.costs.unit_prices import instance_price
from mlscope.errors import ConflictError, InputError


def build_schedule(expr: str | None, periods: Sequence[str], timezone: str | None,
                   holidays: Iterable[date] = ()) -> Schedule:
    """A schedule from a Custodian expression, or from Instance Scheduler periods + zone."""
    if expr and periods:
        raise ConflictError("both an offhours expression and Instance Scheduler periods given",
                            "use --expr or --period, not both")
    if expr:
        if timezone:
            raise ConflictError("--tz is for --period; an offhours expression carries tz=",
                                "append ;tz=ZONE to the expression")
        schedule = parse_custodian(expr)
    elif periods:
        schedule = parse_instance_scheduler(periods, timezone or "UTC")
    else:
        raise InputError("no schedule given",
                         "pass --expr 'off=(M-F,19);on=(M-F,7);tz=pt' or --period "
                         "'begintime=07:00;endtime=19:00;weekdays=mon-fri' "
                         "--tz America/Los_Angeles")
    return schedule.with_holidays(frozenset(holidays))


def schedule_cost(schedule: Schedule, instance: str, region: str, year: int, month: int,
                  count: int = 1, spot: bool = False) -> dict[str, Any]:
    """Running hours and cost of `count` instances under `schedule`, against always-on."""
    if count < 1:
        raise InputError(f"count must be at least 1 (got {count})", "pass --count 1 or more")
    price = instance_price(instance, region, spot)
    hours = simulate_month(schedule, year, month)
    cost = hours.running_hours * price.usd * count
    always = hours.elapsed_hours * price.usd * count
    try:
        custodian: str | None = to_custodian(schedule)
    except InputError:
        custodian = None  # not weekly or not whole hours: Custodian cannot say it
    return {
        "month": f"{year:04d}-{month:02d}",
        "timezone": schedule.timezone,
        "instance": instance,
        "region": region,
        "count": count,
        "purchase": "spot" if spot else "on-demand",
        "running_hours": round(hours.running_hours, 4),
        "always_on_hours": round(hours.elapsed_hours, 4),
        "cost_usd": round(cost, 4),
        "always_on_cost_usd": round(always, 4),
        "savings_usd": round(always - cost, 4),
        "savings_pct": round(100 * (always - cost) / always, 2) if always else 0.0,
        "usd_per_hour": price.usd,
        "price_quality": price.quality,
        "price_source": price.source,
        "price_date": price.date,
        "days_running": hours.days_running,
        "holidays": sorted(d.isoformat() for d in schedule.holidays
                           if (d.year, d.month) == (year, month)),
        "instance_scheduler_periods": [period_fields(p) for p in schedule.periods],
        "custodian_tag": custodian,
        "warnings": (["the schedule never runs in this month: it costs $0 and saves 100 %"]
                     if hours.running_hours == 0 else
                     ["the schedule runs every hour of this month: it saves nothing"]
                     if hours.running_hours >= hours.elapsed_hours else []),
        "hours_note": "real elapsed hours in the schedule's time zone (DST months have 743 or "
                      "745 hours in 31 days)",
    }
