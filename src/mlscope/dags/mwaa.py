"""MWAA honestly: an environment bills every hour it exists and cannot be stopped.

"Pausing" an MWAA environment means the plan of AWS's own sample (aws-samples
amazon-mwaa-examples, "stop-start-environment"; AWS Compute Blog "Automating stopping and
starting Amazon MWAA environments to reduce cost"): export the metadata database to S3, delete
the environment, recreate it from the same settings in the morning and import the metadata.
This module prices that plan for one environment's schedule: the hours it would not exist, less
the delete/create transitions (billed: the environment exists while it is created or deleted).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mlscope.core.units import HOURS_PER_MONTH
from mlscope.costs.exports.plan import events
from mlscope.costs.lines import effective_schedule
from mlscope.costs.unit_prices import mwaa_price
from mlscope.errors import InputError, UnknownNameError
from mlscope.spec.costs import MwaaResource, NotebookResource
from mlscope.spec.models import ProjectSpec

HOURS_PER_WEEK = 168.0
# Assumption, not a measurement: creating an environment takes 20-30 minutes and deleting one
# about as long (AWS's MWAA user guide), billed while it exists; 1 h per nightly cycle.
TRANSITION_HOURS = 1.0

PLAN = (
    "export the metadata database (DAG runs, variables, connections) to S3",
    "delete the environment (the S3 DAG bucket, IAM role and VPC stay)",
    "recreate it from the same settings and requirements/plugins object versions",
    "import the metadata; unpause the DAGs",
)
LIMITS = (
    "tasks running at the pause are lost: schedule the pause after the last run",
    "create and delete take 20-40 minutes each; the first run of the day waits for them",
    "task logs stay in CloudWatch, but the web server URL can change on recreation",
    "secrets belong in Secrets Manager rather than the metadata database",
)


@dataclass(frozen=True)
class PausePlan:
    environment: str
    environment_class: str
    region: str
    usd_per_hour: float
    price_source: str
    always_on_usd: float
    running_hours_per_week: float
    paused_hours: float  # per 730 h month, transitions billed
    cycles: float  # pauses per month
    saving_usd: float
    plan: tuple[str, ...] = PLAN
    limits: tuple[str, ...] = LIMITS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _schedule(spec: ProjectSpec, env_name: str) -> Any:
    env = next((e for e in spec.environments if e.name == env_name), None)
    if env is None:
        raise UnknownNameError("environment", env_name, [e.name for e in spec.environments])
    if env.schedule is not None and env.schedule != "always-on":
        return env, effective_schedule(env, NotebookResource(kind="notebook", name="mwaa"))
    for res in env.resources:  # no environment schedule: the first scheduled resource's
        if getattr(res, "schedule", None) not in (None, "always-on"):
            return env, effective_schedule(env, res)  # type: ignore[arg-type]
    raise InputError(f"environment {env_name} has no off-hours schedule",
                     f"give environments[{env_name}].schedule, e.g. off=(M-F,19);on=(M-F,7);tz=et")


def pause_plan(spec: ProjectSpec, env_name: str = "dev", environment_class: str | None = None,
               transition_hours: float = TRANSITION_HOURS) -> PausePlan:
    """What deleting env's MWAA environment off hours (and recreating it) would save a month."""
    env, schedule = _schedule(spec, env_name)
    mwaa = next((r for e in spec.environments for r in e.resources
                 if isinstance(r, MwaaResource)), None)
    klass = environment_class or (mwaa.environment_class if mwaa else "mw1.small")
    region = env.region or spec.project.region
    price = mwaa_price(klass, "environment", region)
    if price is None:
        raise InputError(f"no MWAA price for {klass} in {region}",
                         "the catalog lists mw1.small, mw1.medium and mw1.large in us-east-1")
    grid = schedule.weekly_grid()
    running = float(sum(sum(day) for day in grid))
    per_month = HOURS_PER_MONTH / HOURS_PER_WEEK
    starts = sum(len(e.weekdays) for e in events(schedule) if e.action == "start")
    cycles = starts * per_month
    off = (HOURS_PER_WEEK - running) * per_month
    paused = max(0.0, off - cycles * transition_hours)
    return PausePlan(env_name, klass, region, price.usd, price.source,
                     price.usd * HOURS_PER_MONTH, running, paused, cycles, paused * price.usd)
