"""Sections: monthly cost by environment (with and without schedules) and the overrun risk."""

from __future__ import annotations

from typing import Any

from mlscope.report.model import Section, engine_function
from mlscope.spec.models import ProjectSpec


def cost_report(spec: ProjectSpec) -> dict[str, Any]:
    run_rate = engine_function("mlscope.costs", "monthly_costs", "cost engine")
    result: dict[str, Any] = run_rate(spec)
    return result


def build_monthly(spec: ProjectSpec, costs: dict[str, Any]) -> Section:
    sec = Section("monthly-cost", "Monthly cost",
                  "What running the system costs each month in each environment, and what "
                  "off-hours schedules save.")
    sec.data = costs
    return sec


def build_risk(spec: ProjectSpec, costs: dict[str, Any]) -> Section:
    sec = Section("budget-risk", "Budget and overrun risk",
                  "The monthly budget, the range of likely costs, and the chance of going over.")
    sec.data = costs
    return sec
