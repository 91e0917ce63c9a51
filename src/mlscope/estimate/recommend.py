"""Config search: instance types x counts x purchase options x regions -> Pareto front.

An option "meets" a deadline when its P90 wall-clock is within it, and a budget when its P90
cost is within it: a recommendation should hold in nine runs out of ten, not one in two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from mlscope.catalog import Accelerator, Instance, get_catalog
from mlscope.core.ranges import Range
from mlscope.errors import InputError
from mlscope.estimate.memory import MemoryPlan
from mlscope.estimate.training import TrainingSetup
from mlscope.estimate.utilization import default_model
from mlscope.pricing import PURCHASE_OPTIONS, run_price

NODE_COUNTS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
# Savings plans commit spend for 1-3 years: searched only when asked for, since a one-off
# training run rarely uses the whole term.
DEFAULT_SEARCH_PURCHASES = ("on-demand", "spot")
SPOT_NOTE = ("spot capacity for many nodes at once is rarely available; treat large spot "
             "clusters as optimistic")


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_type": self.instance.instance_type, "service": self.instance.service,
            "region": self.instance.region, "accelerator": self.accelerator,
            "count": self.count, "instances": self.instances, "purchase": self.purchase,
            "wall_clock_hours": self.wall_clock_hours.to_dict(),
            "cost_usd": self.cost_usd.to_dict(), "memory_gb": round(self.memory_gb, 2),
            "zero_stage": self.zero_stage, "price_quality": self.instance.price_quality,
            "meets_deadline": self.meets_deadline, "meets_budget": self.meets_budget,
            "pareto": self.pareto,
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
           accelerators: list[str] | None = None) -> Recommendation:
    if deadline_hours is not None and deadline_hours <= 0:
        raise InputError("--deadline must be positive", "pass e.g. --deadline 14d or 36h")
    if budget_usd is not None and budget_usd <= 0:
        raise InputError("--budget must be positive", "pass e.g. --budget 50000")
    catalog = get_catalog()
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
    util = default_model()
    flops = setup.flops().hardware_flops
    # When activations overflow a device, full recomputation may still fit, at 4/3 the work.
    fallback = replace(setup, recompute="full") if setup.recompute != "full" else None
    fallback_flops = fallback.flops().hardware_flops if fallback else flops
    memo: dict[tuple[str, int], tuple[MemoryPlan, float]] = {}
    candidates: list[Option] = []
    searched = 0
    for inst in catalog.instances:
        if (inst.service not in services or not inst.accelerator or inst.accelerator_count < 1
                or (regions and inst.region not in regions)):
            continue
        acc: Accelerator | None = catalog.find_accelerator(inst.accelerator)
        if acc is None or (wanted and acc.name not in wanted):
            continue
        per = int(inst.accelerator_count)
        peak = acc.peak_tflops(setup.precision) * 1e12
        for nodes in NODE_COUNTS:
            count = nodes * per
            key = (acc.name, count)
            if key not in memo:
                plan = setup.memory(acc, count)
                work = flops
                if not plan.fits and fallback is not None:
                    alt = fallback.memory(acc, count)
                    if alt.fits:
                        plan, work = alt, fallback_flops
                memo[key] = (plan, work)
            plan, work = memo[key]
            searched += len(purchases)
            if not plan.fits:
                continue
            median, sigma = util.distribution(acc.generation, count)
            wall = Range(work / (peak * count * 3600.0)) / Range(median, sigma)
            for purchase in purchases:
                rp = run_price(inst, purchase, nodes, wall)
                if rp is None:
                    continue
                w, cost = rp.wall_clock_hours, rp.cost_usd
                candidates.append(Option(
                    inst, acc.name, count, nodes, purchase, w, cost, plan.per_accelerator_gb,
                    plan.zero_stage,
                    meets_deadline=deadline_hours is None or w.p90 <= deadline_hours,
                    meets_budget=budget_usd is None or cost.p90 <= budget_usd))
    return recommend_from(candidates, searched, deadline_hours, budget_usd)


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
