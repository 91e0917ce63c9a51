"""Spec sections `environments` and `budget` (owned by the cost engine).

Each environment (dev, qa, prod, ...) lists its resources; a schedule (Cloud Custodian offhours
string, or Instance Scheduler periods + time zone) applies to the resources that can be stopped.
An uncertain figure may be a number or a `[low, high]` pair read as its P10 and P90.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from mlscope.spec.base import SpecModel


def _quantity(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value} is not a number that can be priced")
    if value < 0:
        raise ValueError(f"{value:g} is negative: a quantity cannot be below zero")
    return value


def _to_range(value: object) -> object:
    # Every uncertain figure here is a quantity (hours, runs, GB, workers, growth): NaN, inf
    # and negatives would be priced as nonsense (a negative bill), so they are refused.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (_quantity(float(value)), _quantity(float(value)))
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError("a range is [low, high] (its P10 and P90)")
        low, high = (_quantity(float(v)) for v in value)
        if low > high:
            raise ValueError(f"range [{low}, {high}] runs backwards: write [low, high]")
        return (low, high)
    return value


RangeValue = Annotated[tuple[float, float], BeforeValidator(_to_range)]


class InstanceSchedulerSpec(SpecModel):
    """AWS Instance Scheduler style: periods (field dicts or `k=v;k=v` text) and a time zone."""

    timezone: str = Field(description="IANA name (or alias pt, et, cet, ...).")
    periods: list[dict[str, Any] | str] = Field(min_length=1)


ScheduleSpec = str | InstanceSchedulerSpec


class ResourceBase(SpecModel):
    # NaN and infinity are not quantities; the cost engine checks schedules (the spec layer
    # stays pure models: see mlscope.costs.spec_checks).
    model_config = ConfigDict(allow_inf_nan=False)

    name: str = Field(min_length=1)
    region: str | None = Field(None, description="Overrides the environment's region.")
    usd_per_hour: float | None = Field(None, gt=0, description="Price when the catalog has none.")


class SchedulableResource(ResourceBase):
    schedule: ScheduleSpec | None = Field(
        None, description="Overrides the environment schedule; 'always-on' opts out.")


class NotebookResource(SchedulableResource):
    """SageMaker notebook instances (stopped by schedules and, optionally, after idle time)."""

    kind: Literal["notebook"]
    instance: str = "ml.t3.medium"
    count: int = Field(1, ge=1)
    names: list[str] | None = Field(None, description="Notebook instance names (for exports).")
    idle_stop_minutes: int | None = Field(
        None, gt=0, description="Auto-stop after this many idle minutes (lifecycle script).")
    active_hours_per_day: RangeValue | None = Field(
        None, description="Hours a day someone really uses it; needed with idle_stop_minutes.")

    @model_validator(mode="after")
    def _idle_needs_activity(self) -> NotebookResource:
        if self.idle_stop_minutes and self.active_hours_per_day is None:
            raise ValueError("idle_stop_minutes needs active_hours_per_day ([low, high] hours)")
        return self


class Ec2Resource(SchedulableResource):
    kind: Literal["ec2"]
    instance: str
    count: int = Field(1, ge=1)
    instance_ids: list[str] = Field(default_factory=list, description="For exports.")


class ScalingResource(SchedulableResource):
    """Instances behind autoscaling: the average count lies between min and max."""

    instance: str | None = None
    min_instances: int = Field(1, ge=0)
    max_instances: int | None = Field(None, ge=1)
    typical_instances: float | None = Field(None, ge=0, description="Most likely average.")
    sizing: str | None = Field(
        None, description="A saved `mlscope estimate serving --artifact ... --json` result: "
        "the min/typical/max instances of this instance type come from it.")
    # The spec file's folder, set by the loader, so a relative sizing path works from anywhere.
    _base_dir: Path | None = PrivateAttr(None)

    def set_source(self, spec_path: str | Path) -> None:
        path = Path(spec_path)
        self._base_dir = path if path.is_dir() else path.parent

    def sizing_path(self) -> Path | None:
        if self.sizing is None:
            return None
        p = Path(self.sizing)
        return p if p.is_absolute() or self._base_dir is None else self._base_dir / p

    @model_validator(mode="after")
    def _scaling_range(self) -> ScalingResource:
        counts = {"min_instances", "max_instances", "typical_instances"} & self.model_fields_set
        if self.sizing is not None and counts:
            raise ValueError(f"give either sizing or {', '.join(sorted(counts))}: the sizing "
                             "file sets the instance counts")
        top = self.max_instances if self.max_instances is not None else self.min_instances
        if top < self.min_instances:
            raise ValueError("max_instances is below min_instances")
        if self.typical_instances is not None and not (
                self.min_instances <= self.typical_instances <= top):
            raise ValueError("typical_instances must lie between min_instances and max_instances")
        if self.instance is None and self.usd_per_hour is None:
            raise ValueError("give an instance type or usd_per_hour")
        return self


class EndpointResource(ScalingResource):
    """A SageMaker real-time endpoint. A schedule means it is deleted/scaled to zero off hours."""

    kind: Literal["endpoint"]


class EcsServiceResource(ScalingResource):
    """An ECS service on EC2 instances (or Fargate tasks priced with usd_per_hour)."""

    kind: Literal["ecs_service"]


class TrainingResource(ResourceBase):
    """Training jobs per month: from the estimator (the spec's training section) or declared."""

    kind: Literal["training"]
    from_estimator: bool = Field(
        False, description="Price one run with mlscope's estimator (implied without hours).")
    instance: str | None = None
    count: int = Field(1, ge=1)
    hours_per_run: RangeValue | None = None
    runs_per_month: RangeValue | None = Field(
        None, description="Defaults to training.runs_per_month.")
    rerun_rate: float = Field(0.0, ge=0, le=1, description="Share of runs that must rerun.")
    spot: bool = False
    spot_overhead: RangeValue = Field(
        (0.0, 0.0), description="Extra time lost to spot interruptions, as a fraction [P10, P90].")

    @model_validator(mode="after")
    def _priced(self) -> TrainingResource:
        # Without hours_per_run, one run is priced by the estimator from the spec's training.
        if self.hours_per_run is not None and self.instance is None and self.usd_per_hour is None:
            raise ValueError("hours_per_run needs an instance (or usd_per_hour)")
        return self


class BatchResource(ResourceBase):
    kind: Literal["batch"]
    instance: str | None = None
    count: int = Field(1, ge=1)
    hours_per_month: RangeValue
    spot: bool = False


class MwaaResource(ResourceBase):
    """An Amazon MWAA environment: billed every hour it exists (it cannot be stopped)."""

    kind: Literal["mwaa"]
    environment_class: str = "mw1.small"
    workers: RangeValue = Field((1.0, 1.0), description="Average workers (1 is included).")
    worker_usd_per_hour: float | None = Field(None, gt=0)


class StorageResource(ResourceBase):
    kind: Literal["storage"]
    storage_class: Literal[
        "s3-standard", "s3-standard-ia", "s3-intelligent-tiering", "ebs-gp3", "ebs-gp2",
        "ebs-io2", "ebs-st1", "ebs-sc1", "sagemaker-ml-storage"] = "s3-standard"
    gb: float = Field(ge=0, description="GB stored in the first month.")
    growth_gb_per_month: RangeValue = (0.0, 0.0)
    growth_pct_per_month: RangeValue = (0.0, 0.0)
    usd_per_gb_month: float | None = Field(None, gt=0)


class TransferResource(ResourceBase):
    kind: Literal["transfer"]
    direction: Literal["internet-out", "inter-region", "cross-az", "nat-processed"]
    gb_per_month: RangeValue
    usd_per_gb: float | None = Field(None, gt=0)


Resource = Annotated[
    NotebookResource | Ec2Resource | EndpointResource | EcsServiceResource | TrainingResource
    | BatchResource | MwaaResource | StorageResource | TransferResource,
    Field(discriminator="kind"),
]


class EnvironmentSection(SpecModel):
    model_config = ConfigDict(allow_inf_nan=False)

    name: str = Field(min_length=1)
    region: str | None = Field(None, description="Defaults to project.region.")
    schedule: ScheduleSpec | None = Field(
        None, description="Offhours string like off=(M-F,19);on=(M-F,7);tz=pt, or "
                          "{timezone, periods} in Instance Scheduler form.")
    holidays: list[date] = Field(default_factory=list, description="Days kept off (skip-days).")
    resources: list[Resource] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> EnvironmentSection:
        names = [r.name for r in self.resources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"resource names repeat: {', '.join(dupes)}")
        return self


class BudgetSection(SpecModel):
    model_config = ConfigDict(allow_inf_nan=False)

    monthly_usd: float | None = Field(None, gt=0)
    training_usd: float | None = Field(None, gt=0)
    alert_emails: list[str] = Field(default_factory=list)
    alert_thresholds_pct: list[float] = Field(
        default_factory=lambda: [80.0, 100.0], description="Actual-spend alerts, % of budget.")
    forecast_alert_pct: float | None = Field(100.0, gt=0,
                                             description="Forecasted-spend alert, % of budget.")
