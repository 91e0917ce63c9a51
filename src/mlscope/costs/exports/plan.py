"""What the exports carry: per environment, a schedule and the resources it starts and stops.

Every format is rendered from this plan, and the start/stop events come from the schedule's
weekly grid, so Terraform crons, Custodian tags and Instance Scheduler periods mean the same
hours.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from mlscope.costs.lines import effective_schedule
from mlscope.costs.schedules import Schedule
from mlscope.spec.costs import Ec2Resource, NotebookResource, SchedulableResource
from mlscope.spec.models import ProjectSpec

CRON_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass
class Targets:
    notebooks: list[str] = field(default_factory=list)  # SageMaker notebook instance names
    ec2_ids: list[str] = field(default_factory=list)
    ec2_tagged: bool = False  # EC2 resources without ids: selected by tag in Custodian


@dataclass
class SchedulePlan:
    name: str  # e.g. mlscope-dev
    environment: str
    schedule: Schedule
    targets: Targets
    resources: list[str]


@dataclass(frozen=True)
class Event:
    action: str  # "start" or "stop"
    hour: int
    weekdays: tuple[int, ...]  # 0 = Monday

    def cron(self) -> str:
        """EventBridge Scheduler cron: minutes hours day-of-month month day-of-week year."""
        return f"cron(0 {self.hour} ? * {cron_days(self.weekdays)} *)"


def cron_days(days: tuple[int, ...]) -> str:
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [CRON_DAYS[r[0]] if len(r) == 1 else f"{CRON_DAYS[r[0]]}-{CRON_DAYS[r[-1]]}"
             for r in runs]
    return ",".join(parts)


def events(schedule: Schedule) -> list[Event]:
    """Start/stop events (whole hours, local time) that produce the schedule's weekly state."""
    grid = schedule.weekly_grid()
    flat = [grid[d][h] for d in range(7) for h in range(24)]
    grouped: dict[tuple[str, int], list[int]] = {}
    for i, running in enumerate(flat):
        if running != flat[i - 1]:
            grouped.setdefault(("start" if running else "stop", i % 24), []).append(i // 24)
    return [Event(action, hour, tuple(days))
            for (action, hour), days in sorted(grouped.items(),
                                               key=lambda kv: (kv[0][1], kv[0][0]))]


def project_tag(spec: ProjectSpec) -> tuple[str, str]:
    """(cost-allocation tag key, value) that marks this project's resources and costs."""
    key = spec.billing.tag_keys.project[0] if spec.billing is not None else "project"
    return key, spec.project.name


def safe_name(text: str, limit: int = 64) -> str:
    """An AWS-safe name; a long one keeps a hash of the whole so truncation cannot collide."""
    clean = re.sub(r"[^0-9A-Za-z_.-]+", "-", text).strip("-")
    if len(clean) <= limit:
        return clean
    digest = hashlib.sha1(clean.encode()).hexdigest()[:8]
    return f"{clean[:limit - 9]}-{digest}"


def notebook_names(res: NotebookResource) -> list[str]:
    if res.names:
        return list(res.names)
    return [res.name] if res.count == 1 else [f"{res.name}-{i + 1}" for i in range(res.count)]


def build_plans(spec: ProjectSpec) -> tuple[list[SchedulePlan], list[str]]:
    """One plan per (environment, distinct schedule); warnings for what cannot be exported."""
    plans: dict[tuple[str, Schedule], SchedulePlan] = {}
    warnings: list[str] = []
    for env in spec.environments:
        for res in env.resources:
            if not isinstance(res, SchedulableResource):
                continue
            schedule = effective_schedule(env, res)
            if schedule is None:
                continue
            if not isinstance(res, NotebookResource | Ec2Resource):
                warnings.append(f"{env.name}/{res.name}: {res.kind} schedules are priced but not "
                                "exported (endpoints and services are deleted or scaled to zero "
                                "by your deployment tooling, not stopped)")
                continue
            key = (env.name, schedule)
            if key not in plans:
                same_env = sum(1 for k in plans if k[0] == env.name)
                suffix = f"-{same_env + 1}" if same_env else ""
                # The project is in every name: two projects can share one AWS account.
                plans[key] = SchedulePlan(safe_name(f"mlscope-{spec.project.name}-{env.name}"
                                                    f"{suffix}"), env.name,
                                          schedule, Targets(), [])
            plan = plans[key]
            plan.resources.append(res.name)
            if isinstance(res, NotebookResource):
                plan.targets.notebooks.extend(notebook_names(res))
            elif res.instance_ids:
                plan.targets.ec2_ids.extend(res.instance_ids)
            else:
                plan.targets.ec2_tagged = True
                warnings.append(f"{env.name}/{res.name}: no instance_ids; Terraform/boto3 "
                                "schedules need them, Custodian selects by tag "
                                f"mlscope:environment={env.name}")
    return list(plans.values()), warnings
