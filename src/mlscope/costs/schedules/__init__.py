"""Off-hours schedules: Cloud Custodian and Instance Scheduler formats, simulated hour by hour."""

from mlscope.costs.schedules.model import (
    ALWAYS_ON_UTC,
    Period,
    Schedule,
    ScheduleSyntaxError,
    resolve_timezone,
)
from mlscope.costs.schedules.offhours_tag import parse_custodian, to_custodian
from mlscope.costs.schedules.scheduler_periods import (
    parse_instance_scheduler,
    parse_period_text,
    period_fields,
)
from mlscope.costs.schedules.simulate import (
    MonthHours,
    elapsed_hours,
    hourly_states,
    month_sequence,
    parse_month,
    simulate_month,
    simulate_span,
)

__all__ = [
    "ALWAYS_ON_UTC",
    "MonthHours",
    "Period",
    "Schedule",
    "ScheduleSyntaxError",
    "elapsed_hours",
    "hourly_states",
    "month_sequence",
    "parse_custodian",
    "parse_instance_scheduler",
    "parse_month",
    "parse_period_text",
    "period_fields",
    "resolve_timezone",
    "simulate_month",
    "simulate_span",
    "to_custodian",
]
