"""What the generated DAGs hold, derived from the spec: tasks, schedules and per-environment params.

The retraining DAG follows the spec's architecture (which AWS service each step uses) and its
release settings (model name, environments, gates). After-hours DAGs come from the same
start/stop events as the Terraform, Custodian and Instance Scheduler exports, so every export
means the same hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlscope.architecture.build import build_architecture
from mlscope.costs.exports.plan import cron_days, events, notebook_names
from mlscope.costs.lines import effective_schedule
from mlscope.spec.costs import Ec2Resource, EndpointResource, NotebookResource
from mlscope.spec.models import ProjectSpec

VARIABLE = "mlscope_env"  # Airflow Variable naming the environment this Airflow runs in
RETRIES = 2
RETRAIN_HOUR_UTC = 3


def slug(text: str) -> str:
    """A Python- and dag_id-safe name: lowercase letters, digits, underscores."""
    clean = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return clean if clean and clean[0].isalpha() else f"p_{clean}"


def retrain_cron(runs_per_month: float) -> str | None:
    """A cron for the spec's retraining cadence (UTC, at a quiet hour); None for manual only."""
    if runs_per_month <= 0:
        return None
    if runs_per_month >= 28:
        return f"0 {RETRAIN_HOUR_UTC} * * *"
    if runs_per_month >= 3.5:
        return f"0 {RETRAIN_HOUR_UTC} * * 1"
    if runs_per_month >= 1.8:
        return f"0 {RETRAIN_HOUR_UTC} 1,15 * *"
    return f"0 {RETRAIN_HOUR_UTC} 1 * *"


@dataclass(frozen=True)
class Step:
    task_id: str
    what: str  # one line for the DAG's docs
    service: str  # the AWS service the architecture names for it ("" when none)


@dataclass
class RetrainPlan:
    dag_id: str
    project: str
    owner: str
    schedule: str | None
    tags: list[str]
    steps: list[Step]
    model_name: str
    local_training: bool  # mlscope's reference trainer can run the step (recommender/ALS)


@dataclass(frozen=True)
class AfterHoursJob:
    dag_id: str
    environment: str
    action: str  # "stop" or "start"
    cron: str
    timezone: str
    resources: tuple[str, ...]


@dataclass
class DagPlan:
    spec: ProjectSpec
    retrain: RetrainPlan
    after_hours: list[AfterHoursJob] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


def _service(graph: Any, kind: str) -> str:
    for comp in graph.components.values():
        if comp.kind == kind:
            return str(comp.aws)
    return ""


def _steps(spec: ProjectSpec) -> list[Step]:
    graph = build_architecture(spec)
    ingest = _service(graph, "ingestion")
    validate = ", ".join(sorted({c.label for c in graph.components.values()
                                 if c.kind == "data_validation"})) or "schema and range checks"
    train = _service(graph, "training") or _service(graph, "distributed_training")
    return [
        Step("load_config", f"read params/<env>.json for the Airflow Variable `{VARIABLE}`", ""),
        Step("extract", "snapshot the training data into this run's S3 prefix"
             + (" (after the Glue job, when params name one)" if "Glue" in ingest else ""),
             "Amazon S3" + (f", {ingest}" if ingest else "")),
        Step("validate_data", f"row count, value ranges, duplicates ({validate})",
             _service(graph, "data_validation")),
        Step("train", "train the model (mlscope's trainer, or a SageMaker training job)",
             train),
        Step("evaluate", "score the held-out set (ndcg@10, precision@10, rmse)",
             _service(graph, "model_evaluation")),
        Step("register", "register the version in the model registry (audited)",
             _service(graph, "model_registry")),
        Step("promote_dev", "move the dev alias through the dev gates", ""),
        Step("qa_gates", "promote to qa through the qa gates (metrics, champion, simulation)",
             _service(graph, "qa_environment")),
    ]


def _after_hours(spec: ProjectSpec, base: str) -> tuple[list[AfterHoursJob], dict[str, Any]]:
    """One DAG per (environment, start/stop event); the targets go to the params files."""
    jobs: list[AfterHoursJob] = []
    targets: dict[str, Any] = {}
    for env in spec.environments:
        by_schedule: dict[Any, list[str]] = {}
        env_targets: dict[str, Any] = {"notebooks": [], "endpoints": [], "ec2_instance_ids": [],
                                       "holidays": [d.isoformat() for d in env.holidays]}
        for res in env.resources:
            if not isinstance(res, NotebookResource | Ec2Resource | EndpointResource):
                continue
            schedule = effective_schedule(env, res)
            if schedule is None:
                continue
            by_schedule.setdefault(schedule, []).append(res.name)
            if isinstance(res, NotebookResource):
                env_targets["notebooks"].extend(notebook_names(res))
            elif isinstance(res, Ec2Resource):
                env_targets["ec2_instance_ids"].extend(res.instance_ids)
            else:
                env_targets["endpoints"].append(
                    {"name": res.name, "config": f"{res.name}-config"})
        for index, (schedule, names) in enumerate(by_schedule.items()):
            suffix = f"_{index + 1}" if len(by_schedule) > 1 else ""
            for event in events(schedule):
                days = cron_days(event.weekdays)
                jobs.append(AfterHoursJob(
                    # events() yields one event per (action, hour): the id is unique.
                    f"{base}_{slug(env.name)}{suffix}_{event.action}_{event.hour:02d}h",
                    env.name, event.action, f"0 {event.hour} * * {days}", schedule.timezone,
                    tuple(names)))
        if by_schedule:
            targets[env.name] = env_targets
    return jobs, targets


def _params(spec: ProjectSpec, plan: RetrainPlan, targets: dict[str, Any],
            environments: list[str]) -> dict[str, dict[str, Any]]:
    project = slug(spec.project.name).replace("_", "-")
    out: dict[str, dict[str, Any]] = {}
    for env in environments:
        small = env == "dev"  # dev runs the heavy steps small
        out[env] = {
            "environment": env,
            "project": spec.project.name,
            "aws_conn_id": "aws_default",
            "region": spec.project.region,
            "data": {"bucket": f"{project}-data-{env}", "raw_key": "raw/ratings.inter",
                     "work_prefix": "airflow/retraining"},
            "extract": {"glue_job": None},
            "validate": {"min_rows": 1000, "value_min": 0.5, "value_max": 5.0,
                         "max_duplicate_share": 0.01},
            "train": {
                "backend": "local" if plan.local_training else "sagemaker",
                "factors": 16 if small else (spec.model.factors or 64),
                "iterations": 5 if small else (spec.model.iterations or 15),
                "max_rows": 200_000 if small else None,
                "sagemaker": {"role_arn": None, "image_uri": None,
                              "instance_type": f"ml.{spec.training.instance}"
                              if spec.training.instance else "ml.m5.xlarge",
                              "max_runtime_s": 6 * 3600},
            },
            # The gates are the committed spec's (mlscope's release policy), found at
            # release.spec or $MLSCOPE_SPEC on the worker: never copied here.
            "release": {"model_name": plan.model_name, "tracking_uri": spec.release.tracking_uri,
                        "state_dir": None, "spec": None},
            "after_hours": targets.get(env, {}),
        }
    return out


def build_plan(spec: ProjectSpec) -> DagPlan:
    base = slug(spec.project.name)
    owner = spec.project.owner or f"{spec.project.name}-team"
    local = spec.project.use_case == "recommender" or spec.model.kind == "als"
    retrain = RetrainPlan(
        dag_id=f"{base}_retraining", project=spec.project.name, owner=owner,
        schedule=retrain_cron(spec.training.runs_per_month),
        tags=["mlscope", spec.project.name, "retraining"], steps=_steps(spec),
        model_name=spec.release.model_name or spec.project.name, local_training=local)
    jobs, targets = _after_hours(spec, base)
    environments = list(dict.fromkeys([*spec.release.environments,
                                       *(e.name for e in spec.environments)]))
    return DagPlan(spec, retrain, jobs, environments,
                   _params(spec, retrain, targets, environments))
