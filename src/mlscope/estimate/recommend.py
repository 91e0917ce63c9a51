"""Config search: instance types x counts x purchase options x regions -> Pareto front.

An option "meets" a deadline when its P90 wall-clock is within it, and a budget when its P90
cost is within it: a recommendation should hold in nine runs out of ten, not one in two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlscope.catalog import Accelerator, Instance, get_catalog
from mlscope.core.ranges import Range
from mlscope.errors import InputError
from mlscope.estimate.cluster import communication_factor
from mlscope.estimate.memory import MemoryPlan, plan
from mlscope.estimate.training import TrainingSetup, job_wall_clock, plus_fixed
from mlscope.estimate.utilization import default_model
from mlscope.pricing import (
    DEFAULT_SPOT,
    LARGE_SPOT_FLEET,
    PURCHASE_OPTIONS,
    SpotAssumptions,
    run_price,
)

NODE_COUNTS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
# Savings plans commit spend for 1-3 years: searched only when asked for, since a one-off
# training run rarely uses the whole term.
DEFAULT_SEARCH_PURCHASES = ("on-demand", "spot")


@dataclass(frozen=True)
class Option:
    instance: Instance
    accelerator: str
    count: int
    instances: int
    purchase: str
    wall_clock_hours: Range
    cost_usd: Range
    memory_gb: float
    zero_stage: int
    meets_deadline: bool
    meets_budget: bool
    pareto: bool = False
    strategy: dict[str, Any] | None = None
    price_flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_type": self.instance.instance_type, "service": self.instance.service,
            "region": self.instance.region, "accelerator": self.accelerator,
            "count": self.count, "instances": self.instances, "purchase": self.purchase,
            "wall_clock_hours": self.wall_clock_hours.to_dict(),
            "cost_usd": self.cost_usd.to_dict(), "memory_gb": round(self.memory_gb, 2),
            "zero_stage": self.zero_stage, "price_quality": self.instance.price_quality,
            "meets_deadline": self.meets_deadline, "meets_budget": self.meets_budget,
            "pareto": self.pareto, "strategy": self.strategy,
            "price_flags": list(self.price_flags), "notes": list(self.notes),
        }


@dataclass
class Recommendation:
    options: list[Option]  # the Pareto front, fastest first
    best: Option | None
    searched: int
    feasible: int
    deadline_hours: float | None
    budget_usd: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "deadline_hours": self.deadline_hours, "budget_usd": self.budget_usd,
            "searched": self.searched, "feasible": self.feasible,
            "best": self.best.to_dict() if self.best else None,
            "best_reason": self.reason,
            "options": [o.to_dict() for o in self.options],
        }


def pareto_front(options: list[Option]) -> list[Option]:
    """Options no other option beats on both P50 time and P50 cost, fastest first."""
    front: list[Option] = []
    best_cost = math.inf
    for opt in sorted(options, key=lambda o: (o.wall_clock_hours.median, o.cost_usd.median)):
        if opt.cost_usd.median < best_cost:
            front.append(opt)
            best_cost = opt.cost_usd.median
    return front


def search(setup: TrainingSetup, deadline_hours: float | None = None,
           budget_usd: float | None = None, regions: list[str] | None = None,
           purchases: list[str] | None = None, services: tuple[str, ...] = ("ec2", "sagemaker"),
           accelerators: list[str] | None = None, instance_types: list[str] | None = None,
           spot: SpotAssumptions = DEFAULT_SPOT, storage: str = "s3") -> Recommendation:
    """Every instance x node count x purchase option that can train the job, priced.

    Proposed only: accelerators whose catalog `use` is training (unless named), multi-node
    fleets only on instances with a fast interconnect (EFA >= 400 Gbps), configurations a
    parallel strategy fits in memory, and spot fleets of LARGE_SPOT_FLEET nodes or more only
    when spot is asked for explicitly.
    """
    for label, value in (("--deadline", deadline_hours), ("--budget", budget_usd)):
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise InputError(f"{label} must be a positive finite number",
                             "pass e.g. --deadline 14d or 36h, --budget 50000")
    catalog = get_catalog()
    explicit_spot = purchases is not None and "spot" in purchases
    purchases = purchases or list(DEFAULT_SEARCH_PURCHASES)
    for p in purchases:
        if p not in PURCHASE_OPTIONS:
            raise InputError(f"unknown purchase option '{p}'",
                             f"use one of {', '.join(PURCHASE_OPTIONS)}")
    if regions:
        for r in regions:
            if r not in catalog.regions():
                catalog.instance("p4d.24xlarge", r)  # raises with "did you mean"
    wanted = {catalog.accelerator(a).name for a in accelerators} if accelerators else None
    types = {catalog.instance(t).instance_type for t in instance_types} if instance_types else None
    util = default_model()
    pins = setup.pins()
    memo: dict[tuple[str, int, int, str, str], MemoryPlan | None] = {}
    flops_memo: dict[str, float] = {}
    candidates: list[Option] = []
    searched = 0
    carriers = 0
    for inst in catalog.instances:
        if (inst.service not in services or not inst.accelerator or inst.accelerator_count < 1
                or (regions and inst.region not in regions)
                or (types and inst.instance_type not in types)):
            continue
        acc: Accelerator | None = catalog.find_accelerator(inst.accelerator)
        if acc is None or (wanted and acc.name not in wanted):
            continue
        if not wanted and not types and not acc.trains:
            continue  # inference-only parts are proposed only when named
        carriers += 1
        try:
            precision, _ = acc.precision_for(setup.precision)
        except InputError:
            continue  # e.g. fp8 on a part without fp8
        per = int(inst.accelerator_count)
        peak = acc.peak_tflops(precision) * 1e12
        for nodes in NODE_COUNTS if inst.fast_interconnect else (1,):
            count = nodes * per
            key = (acc.name, count, per, inst.intra_node, precision)
            if key not in memo:
                memo[key] = plan(setup.workload(precision), acc.memory_gb, count, per,
                                 inst.intra_node, **pins)
            found = memo[key]
            searched += len(purchases)
            if found is None:
                continue
            recompute = found.strategy.recompute
            if recompute not in flops_memo:
                flops_memo[recompute] = setup.flops(recompute).model_flops
            work = flops_memo[recompute]
            median, sigma = util.distribution(acc.generation, setup.software_era, count)
            step = (work / setup.tokens * 4e6) / (count * peak * median) * found.time_factor
            comm, _ = communication_factor(setup.shape.params * setup.trainable_fraction, found,
                                           count, inst, step)
            compute = Range(work / (peak * count * 3600.0)) / Range(median, sigma) * (
                found.time_factor * comm)
            # IO-bound stretch and fine-tune fixed costs, as the estimate prints them.
            wall, io, _ = job_wall_clock(setup, compute, nodes, storage, spot)
            for purchase in purchases:
                if purchase == "spot" and nodes >= LARGE_SPOT_FLEET and not explicit_spot:
                    continue  # large spot fleets only when asked for (capacity is rarely there)
                rp = run_price(inst, purchase, nodes, wall, spot)
                if rp is None:
                    continue
                w, cost = rp.wall_clock_hours, plus_fixed(rp.cost_usd, io.cost_usd)
                candidates.append(Option(
                    inst, acc.name, count, nodes, purchase, w, cost, found.per_accelerator_gb,
                    found.zero_stage,
                    meets_deadline=deadline_hours is None or w.p90 <= deadline_hours,
                    meets_budget=budget_usd is None or cost.p90 <= budget_usd,
                    strategy=found.strategy_dict(), price_flags=rp.price.flags,
                    notes=rp.assumptions))
    if not candidates and not carriers and (wanted or types):
        # The user named hardware that nothing on AWS here carries: bad input, not a result.
        raise InputError(f"no AWS instance in the searched region(s) with a price carries "
                         f"{', '.join(sorted(wanted or types or []))}",
                         "name an AWS accelerator (e.g. H100, A100, Trainium1) or another "
                         "--region")
    rec = recommend_from(candidates, searched, deadline_hours, budget_usd)
    if not candidates and not carriers:
        rec.reason = ("no option meets the constraints: no AWS instance in the searched "
                      "region(s) with a price carries a training accelerator; try another "
                      "--region")
    return rec


def recommend_from(candidates: list[Option], searched: int, deadline_hours: float | None,
                   budget_usd: float | None) -> Recommendation:
    """The Pareto front of `candidates` and the best one under a deadline and/or budget."""
    front = pareto_front(candidates)
    front = [Option(**{**o.__dict__, "pareto": True}) for o in front]
    ok = [o for o in candidates if o.meets_deadline and o.meets_budget]
    best: Option | None = None
    if deadline_hours is not None:
        best = min(ok, key=lambda o: o.cost_usd.median, default=None)
        reason = ("cheapest P50 cost whose P90 wall-clock meets the deadline"
                  + (" and P90 cost the budget" if budget_usd else ""))
    elif budget_usd is not None:
        best = min(ok, key=lambda o: o.wall_clock_hours.median, default=None)
        reason = "fastest P50 wall-clock whose P90 cost fits the budget"
    else:
        best = min(candidates, key=lambda o: o.cost_usd.median, default=None)
        reason = "cheapest P50 cost (no deadline or budget given)"
    if best is None:
        reason = "no option meets the constraints: " + _why_none(candidates, deadline_hours,
                                                                   budget_usd)
    else:
        best = Option(**{**best.__dict__, "pareto": any(
            best.instance is o.instance and best.count == o.count and best.purchase == o.purchase
            for o in front)})
    return Recommendation(front, best, searched, len(candidates), deadline_hours, budget_usd,
                          reason)


def _why_none(candidates: list[Option], deadline: float | None, budget: float | None) -> str:
    if not candidates:
        return "the model does not fit any searched configuration"
    fastest = min(candidates, key=lambda o: o.wall_clock_hours.p90)
    cheapest = min(candidates, key=lambda o: o.cost_usd.p90)
    parts = []
    if deadline is not None:
        what = (f"{fastest.count} x {fastest.accelerator}" if fastest.accelerator
                else fastest.instance.instance_type)
        parts.append(f"the fastest option needs {fastest.wall_clock_hours.p90:,.1f} h at P90 "
                     f"({what})")
    if budget is not None:
        parts.append(f"the cheapest costs ${cheapest.cost_usd.p90:,.0f} at P90")
    return "; ".join(parts) + "; relax the deadline or budget"
