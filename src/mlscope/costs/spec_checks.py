"""Checks the cost engine adds to spec validation: every schedule parses.

The spec layer holds pure models; parsing a schedule needs the schedule engine, so the CLI
passes these checks to `load_spec`/`validate_file`, which report each problem with its
file:line like any other spec error (`mlscope validate`, `mlscope cost ...`).
"""

from __future__ import annotations

from mlscope.costs.schedules import parse_custodian, parse_instance_scheduler
from mlscope.errors import InputError
from mlscope.spec.costs import ScheduleSpec
from mlscope.spec.loader import Loc, SpecCheck
from mlscope.spec.models import ProjectSpec


def _problem(value: ScheduleSpec | None) -> str | None:
    if value is None or value == "always-on":
        return None
    try:
        if isinstance(value, str):
            parse_custodian(value)
        else:
            parse_instance_scheduler(value.periods, value.timezone)
    except InputError as exc:
        return exc.one_line()
    return None


def schedule_problems(spec: ProjectSpec) -> list[tuple[Loc, str]]:
    """(location, problem) for every schedule in `environments` that does not parse."""
    out: list[tuple[Loc, str]] = []
    for i, env in enumerate(spec.environments):
        problem = _problem(env.schedule)
        if problem:
            out.append((("environments", i, "schedule"), problem))
        for j, res in enumerate(env.resources):
            problem = _problem(getattr(res, "schedule", None))
            if problem:
                out.append((("environments", i, "resources", j, "schedule"), problem))
    return out


COST_CHECKS: tuple[SpecCheck, ...] = (schedule_problems,)
