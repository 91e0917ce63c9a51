"""Schedules (and the budget) exported as Terraform, Cloud Custodian or Instance Scheduler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlscope.costs.exports.plan import build_plans, events
from mlscope.costs.schedules import period_fields
from mlscope.errors import InputError
from mlscope.spec.models import ProjectSpec

FORMATS = ("terraform", "custodian", "instance-scheduler")


@dataclass
class ExportResult:
    text: str
    summary: list[dict[str, Any]]
    warnings: list[str]


def export_schedules(spec: ProjectSpec, fmt: str) -> ExportResult:
    from mlscope.costs.exports.custodian_policies import render_custodian
    from mlscope.costs.exports.instance_scheduler_config import render_instance_scheduler
    from mlscope.costs.exports.terraform import render_terraform

    if fmt not in FORMATS:
        raise InputError(f"unknown export format '{fmt}'", f"use one of {', '.join(FORMATS)}")
    plans, warnings = build_plans(spec)
    if not plans and not (fmt == "terraform" and spec.budget.monthly_usd):
        raise InputError("nothing to export: no notebook or EC2 resource has a schedule",
                         "add `schedule:` to an environment with notebook or ec2 resources")
    if fmt != "instance-scheduler":
        for plan in plans:
            if not plan.schedule.is_weekly:
                raise InputError(
                    f"the schedule of {plan.environment} uses months or month days, which "
                    f"{fmt} cannot express", "export it with --format instance-scheduler")
    if fmt != "custodian" and any(p.schedule.holidays for p in plans):
        warnings.append(f"holidays are not expressible in {fmt}: resources will start on them "
                        "(Custodian's skip-days keeps them off)")
    if fmt == "instance-scheduler" and any(p.targets.notebooks for p in plans):
        warnings.append("Instance Scheduler manages EC2, RDS and Auto Scaling groups, not "
                        "SageMaker notebooks: use the terraform or custodian format for them")
    if fmt == "terraform" and spec.budget.monthly_usd and not spec.budget.alert_emails:
        warnings.append("budget.alert_emails is empty: the budget has no notifications")
    text = (render_terraform(spec, plans) if fmt == "terraform" else
            render_custodian(plans) if fmt == "custodian" else render_instance_scheduler(plans))
    summary = [{"name": p.name, "environment": p.environment, "timezone": p.schedule.timezone,
                "resources": p.resources, "notebooks": p.targets.notebooks,
                "ec2_instance_ids": p.targets.ec2_ids,
                "periods": [period_fields(x) for x in p.schedule.periods],
                "events": ([{"action": e.action, "cron": e.cron()} for e in events(p.schedule)]
                           if p.schedule.is_weekly else [])}
               for p in plans]
    return ExportResult(text, summary, warnings)
