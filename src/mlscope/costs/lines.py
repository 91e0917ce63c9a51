"""One cost line per resource: a point estimate per month, and a vectorised sampler.

The point estimate uses the median of every uncertain input; the sampler draws them
(shape: draws × months). "Always on" is the same resource with no schedule and no idle stop,
so the difference is what the schedule saves.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlscope.costs import montecarlo as mc
from mlscope.costs.schedules import (
    Schedule,
    parse_custodian,
    parse_instance_scheduler,
    simulate_month,
)
from mlscope.costs.unit_prices import (
    INTERNET_TIERS,
    UnitPrice,
    instance_price,
    internet_egress_tiers,
    mwaa_price,
    storage_price,
    storage_transfer_price,
    tiered_cost,
    transfer_price,
    user_price,
)
from mlscope.errors import InputError
from mlscope.spec.costs import (
    BatchResource,
    Ec2Resource,
    EnvironmentSection,
    MwaaResource,
    NotebookResource,
    ScalingResource,
    SchedulableResource,
    ScheduleSpec,
    StorageResource,
    TrainingResource,
    TransferResource,
)
from mlscope.spec.models import ProjectSpec

Sampler = Callable[[np.random.Generator, int], np.ndarray]
Months = list[tuple[int, int]]


@dataclass
class CostLine:
    environment: str
    resource: str
    kind: str
    region: str
    point_usd: np.ndarray  # per month, as configured (schedule, idle stop)
    always_on_usd: np.ndarray  # per month, running around the clock
    sample: Sampler
    uncertain: tuple[str, ...] = ()
    prices: list[tuple[str, UnitPrice]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    schedule: Schedule | None = None
    running_hours: np.ndarray | None = None
    always_on_hours: np.ndarray | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.environment}/{self.resource}"


def to_schedule(spec: ScheduleSpec, holidays: frozenset[Any] = frozenset()) -> Schedule:
    if isinstance(spec, str):
        schedule = parse_custodian(spec)
    else:
        schedule = parse_instance_scheduler(spec.periods, spec.timezone)
    return schedule.with_holidays(holidays)


def effective_schedule(env: EnvironmentSection, res: SchedulableResource) -> Schedule | None:
    chosen = res.schedule if res.schedule is not None else env.schedule
    if chosen is None or chosen == "always-on":
        return None
    return to_schedule(chosen, frozenset(env.holidays))


def utc_hours(months: Months) -> np.ndarray:
    """AWS bills in UTC: an unscheduled month has 24 × its days hours."""
    return np.array([24.0 * calendar.monthrange(y, m)[1] for y, m in months])


def _hours(schedule: Schedule | None, months: Months) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(running hours, always-on hours, days with running time) per month."""
    if schedule is None:
        days = np.array([float(calendar.monthrange(y, m)[1]) for y, m in months])
        hours = utc_hours(months)
        return hours, hours, days
    sims = [simulate_month(schedule, y, m) for y, m in months]
    return (np.array([s.running_hours for s in sims]), np.array([s.elapsed_hours for s in sims]),
            np.array([float(s.days_running) for s in sims]))


def _instance_price(res: Any, region: str, spot: bool = False) -> UnitPrice:
    if res.usd_per_hour is not None:
        return user_price(res.usd_per_hour, "hour")
    if res.instance is None:
        raise InputError(f"resource '{res.name}' has no instance and no usd_per_hour",
                         "name an instance type or give usd_per_hour")
    return instance_price(res.instance, region, spot)


def _const(point: np.ndarray) -> Sampler:
    return lambda rng, n: np.broadcast_to(point, (n, point.size)).copy()


def notebook_line(env: str, region: str, res: NotebookResource, schedule: Schedule | None,
                  months: Months) -> CostLine:
    price = _instance_price(res, region)
    running, always, days = _hours(schedule, months)
    rate = price.usd * res.count
    notes = []
    if res.idle_stop_minutes and res.active_hours_per_day:
        idle = res.idle_stop_minutes / 60
        active = res.active_hours_per_day
        notes.append(f"idle stop after {res.idle_stop_minutes} min (assumed): runs about "
                     f"{active[0]:g}-{active[1]:g} active h/day + {idle:g} h idle, within the "
                     "schedule")

        def capped(active_hours: np.ndarray) -> np.ndarray:
            return np.minimum(running, days * (active_hours + idle))

        point_hours = capped(np.full(len(months), mc.median_of(active)))
        return CostLine(
            env, res.name, "notebook", region, point_hours * rate, always * rate,
            lambda rng, n: capped(mc.draw_range(rng, active, (n, len(months)))) * rate,
            ("active hours per day",), [("instance-hour", price)], notes, schedule,
            point_hours, always, {"instance": res.instance, "count": res.count})
    return CostLine(env, res.name, "notebook", region, running * rate, always * rate,
                    _const(running * rate), (), [("instance-hour", price)], notes, schedule,
                    running, always, {"instance": res.instance, "count": res.count})


def ec2_line(env: str, region: str, res: Ec2Resource, schedule: Schedule | None,
             months: Months) -> CostLine:
    price = _instance_price(res, region)
    running, always, _ = _hours(schedule, months)
    rate = price.usd * res.count
    return CostLine(env, res.name, "ec2", region, running * rate, always * rate,
                    _const(running * rate), (), [("instance-hour", price)], [], schedule,
                    running, always, {"instance": res.instance, "count": res.count})


def scaling_line(env: str, region: str, res: ScalingResource, kind: str,
                 schedule: Schedule | None, months: Months) -> CostLine:
    price = _instance_price(res, region)
    running, always, _ = _hours(schedule, months)
    low = float(res.min_instances)
    high = float(res.max_instances if res.max_instances is not None else res.min_instances)
    mode = float(res.typical_instances if res.typical_instances is not None else low)
    notes = []
    sizing = res.sizing_path()
    if sizing is not None and res.instance is not None:
        # Counts measured and sized by `mlscope estimate serving --artifact` (classic models).
        from mlscope.estimate.inference.classic import sizing_counts

        low, mode, high = (float(n) for n in sizing_counts(sizing, res.instance))
        notes.append(f"instances {low:g}/{mode:g}/{high:g} (min/typical/max) from the serving "
                     f"sizing {res.sizing}")
    elif sizing is not None:
        raise InputError(f"resource '{res.name}' has a sizing but no instance type",
                         "name the instance type the sizing was made for")
    if schedule is not None:
        notes.append(f"{kind} is assumed deleted or scaled to zero outside its schedule")
    uncertain = ("traffic (average instances)",) if high > low else ()
    return CostLine(
        env, res.name, kind, region, running * mode * price.usd, always * mode * price.usd,
        lambda rng, n: running * mc.draw_triangular(rng, low, mode, high, (n, len(months)))
        * price.usd,
        uncertain, [("instance-hour", price)], notes, schedule, running, always,
        {"instance": res.instance, "instances": [low, mode, high]})


def _estimator_run_cost(spec: ProjectSpec) -> dict[str, float] | None:
    try:
        from mlscope.estimate.api import training_run_cost
    except ImportError:
        return None
    result: dict[str, float] | None = training_run_cost(spec)
    return result


def training_line(env: str, region: str, res: TrainingResource, spec: ProjectSpec,
                  months: Months) -> CostLine:
    n_months = len(months)
    runs = res.runs_per_month or (spec.training.runs_per_month, spec.training.runs_per_month)
    overhead = res.spot_overhead
    prices: list[tuple[str, UnitPrice]] = []
    notes = []
    if res.from_estimator or res.hours_per_run is None:
        est = _estimator_run_cost(spec)
        if est is None:
            raise InputError(
                f"training resource '{res.name}' has no hours_per_run and mlscope's estimator "
                "cannot price one run of this spec",
                "declare instance and hours_per_run for it instead of from_estimator")
        p10, p50, p90 = est["p10"], est["p50"], est["p90"]
        notes.append(f"one run priced by mlscope's estimator: P10 ${p10:,.2f}, "
                     f"P50 ${p50:,.2f}, P90 ${p90:,.2f}")

        def per_run(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
            return mc.draw_quantiles(rng, p10, p50, p90, shape)
        per_run_point = p50
    else:
        price = _instance_price(res, region, res.spot)
        prices.append(("instance-hour", price))
        hours = res.hours_per_run
        assert hours is not None
        rate = price.usd * res.count

        def per_run(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
            return mc.draw_range(rng, hours, shape) * rate * (1 + mc.draw_range(rng, overhead,
                                                                                 shape))
        per_run_point = mc.median_of(hours) * rate * (1 + mc.median_of(overhead))
        if res.spot:
            notes.append("spot price from the catalog is the lowest seen at one moment "
                         f"(optimistic); interruptions add {overhead[0]:.0%}-{overhead[1]:.0%} "
                         "time")
    runs_point = mc.median_of(runs) * (1 + res.rerun_rate)
    point = np.full(n_months, runs_point * per_run_point)

    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        planned = mc.draw_counts(rng, mc.draw_range(rng, runs, (n, n_months)))
        reruns = rng.binomial(planned, res.rerun_rate) if res.rerun_rate else 0
        return mc.sum_of_draws(planned + reruns, lambda shape: per_run(rng, shape))

    uncertain = ["training runs and reruns",
                 "cost per run (estimator)" if not prices else "hours per run"]
    if res.spot:
        uncertain.append("spot interruptions")
    return CostLine(env, res.name, "training", region, point, point.copy(), sample,
                    tuple(uncertain), prices, notes,
                    detail={"runs_per_month": list(runs), "rerun_rate": res.rerun_rate,
                            "run_cost_p50_usd": per_run_point})


def batch_line(env: str, region: str, res: BatchResource, months: Months) -> CostLine:
    price = _instance_price(res, region, res.spot)
    rate = price.usd * res.count
    point = np.full(len(months), mc.median_of(res.hours_per_month) * rate)
    return CostLine(env, res.name, "batch", region, point, point.copy(),
                    lambda rng, n: mc.draw_range(rng, res.hours_per_month, (n, len(months)))
                    * rate, ("batch hours",) if res.hours_per_month[0] != res.hours_per_month[1]
                    else (), [("instance-hour", price)])


def mwaa_line(env: str, region: str, res: MwaaResource, months: Months) -> CostLine:
    env_price = (user_price(res.usd_per_hour, "hour") if res.usd_per_hour else
                 mwaa_price(res.environment_class, "environment", region))
    if env_price is None:
        raise InputError(f"no MWAA price for {res.environment_class} in {region} (mlscope only "
                         "has sourced figures for mw1.small in us-east-1)",
                         f"give usd_per_hour for '{res.name}' from the AWS MWAA pricing page")
    prices = [("environment-hour", env_price)]
    extra = (max(res.workers[0] - 1, 0.0), max(res.workers[1] - 1, 0.0))
    worker_usd = 0.0
    if extra[1] > 0:
        worker_price = (user_price(res.worker_usd_per_hour, "hour") if res.worker_usd_per_hour
                        else mwaa_price(res.environment_class, "additional worker", region))
        if worker_price is None:
            raise InputError(f"no MWAA worker price for {res.environment_class} in {region}",
                             f"give worker_usd_per_hour for '{res.name}'")
        prices.append(("additional worker-hour", worker_price))
        worker_usd = worker_price.usd
    hours = utc_hours(months)
    point = hours * (env_price.usd + mc.median_of(extra) * worker_usd)
    return CostLine(
        env, res.name, "mwaa", region, point, point.copy(),
        lambda rng, n: hours * (env_price.usd + mc.draw_range(rng, extra, (n, len(months)))
                                * worker_usd),
        ("MWAA workers",) if extra[1] > extra[0] else (), prices,
        ["MWAA bills every hour the environment exists; schedules do not apply"],
        always_on_hours=hours, running_hours=hours,
        detail={"environment_class": res.environment_class})


def storage_line(env: str, region: str, res: StorageResource, months: Months) -> CostLine:
    price = (user_price(res.usd_per_gb_month, "GB-month") if res.usd_per_gb_month
             else storage_price(res.storage_class, region))
    index = np.arange(len(months), dtype=float)

    def stored(pct: np.ndarray, gb: np.ndarray) -> np.ndarray:
        return res.gb * (1 + pct / 100) ** index + gb * index

    point = stored(np.array(mc.median_of(res.growth_pct_per_month)),
                   np.array(mc.median_of(res.growth_gb_per_month))) * price.usd

    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        pct = mc.draw_range(rng, res.growth_pct_per_month, (n, 1))
        gb = mc.draw_range(rng, res.growth_gb_per_month, (n, 1))
        return stored(pct, gb) * price.usd

    growing = res.growth_pct_per_month != (0.0, 0.0) or res.growth_gb_per_month != (0.0, 0.0)
    uncertain = ("storage growth",) if growing and (
        res.growth_pct_per_month[0] != res.growth_pct_per_month[1]
        or res.growth_gb_per_month[0] != res.growth_gb_per_month[1]) else ()
    return CostLine(env, res.name, "storage", region, point, point.copy(), sample, uncertain,
                    [("GB-month", price)], detail={"storage_class": res.storage_class,
                                                   "gb": res.gb})


def transfer_line(env: str, region: str, res: TransferResource, months: Months) -> CostLine:
    n_months = len(months)
    if res.usd_per_gb:
        usd = res.usd_per_gb
        prices = [("GB", user_price(usd, "GB"))]

        def cost(gb: np.ndarray) -> np.ndarray:
            return gb * usd
    elif res.direction == "internet-out":
        tiers = internet_egress_tiers(region)
        prices = [("GB (first tier)", storage_price_for_tier(region))]

        def cost(gb: np.ndarray) -> np.ndarray:
            return tiered_cost(gb, tiers)
    else:
        price = transfer_price(res.direction, region)
        # Cross-AZ traffic is billed on both sides of the link.
        factor = 2.0 if res.direction == "cross-az" else 1.0
        prices = [("GB", price)]

        def cost(gb: np.ndarray) -> np.ndarray:
            return gb * price.usd * factor
    point = cost(np.full(n_months, mc.median_of(res.gb_per_month)))
    return CostLine(env, res.name, "transfer", region, point, point.copy(),
                    lambda rng, n: cost(mc.draw_range(rng, res.gb_per_month, (n, n_months))),
                    ("data transfer volume",) if res.gb_per_month[0] != res.gb_per_month[1]
                    else (), prices, detail={"direction": res.direction})


def storage_price_for_tier(region: str) -> UnitPrice:
    price = storage_transfer_price("DataTransfer", INTERNET_TIERS[0][1], region)
    assert price is not None  # internet_egress_tiers() already checked
    return price


def build_lines(spec: ProjectSpec, months: Months) -> list[CostLine]:
    names = [e.name for e in spec.environments]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"environment names repeat: {', '.join(dupes)}",
                         "give each environment a distinct name")
    lines: list[CostLine] = []
    for env in spec.environments:
        env_region = env.region or spec.project.region
        for res in env.resources:
            region = res.region or env_region
            if isinstance(res, NotebookResource):
                lines.append(notebook_line(env.name, region, res,
                                           effective_schedule(env, res), months))
            elif isinstance(res, Ec2Resource):
                lines.append(ec2_line(env.name, region, res, effective_schedule(env, res), months))
            elif isinstance(res, ScalingResource):
                lines.append(scaling_line(env.name, region, res, res.kind,
                                          effective_schedule(env, res), months))
            elif isinstance(res, TrainingResource):
                lines.append(training_line(env.name, region, res, spec, months))
            elif isinstance(res, BatchResource):
                lines.append(batch_line(env.name, region, res, months))
            elif isinstance(res, MwaaResource):
                lines.append(mwaa_line(env.name, region, res, months))
            elif isinstance(res, StorageResource):
                lines.append(storage_line(env.name, region, res, months))
            else:
                lines.append(transfer_line(env.name, region, res, months))
    return lines
