"""Analytic estimate for ALS matrix factorisation (implicit's conjugate-gradient solver).

With conjugate-gradient updates, one ALS sweep costs time proportional to ratings x factors
(Takács et al. 2011; implicit's `cpu.als`). The constant was measured on this project's
development machine (AMD EPYC vCPU) by `benchmarks/als_throughput.py`: about 4.2 ns per
rating-factor per sweep on one thread, and 1.75x speed-up on 2 threads. Other machines and
libraries differ: the range is wide, and `mlscope calibrate` measures the user's own code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlscope.catalog import Instance, get_catalog
from mlscope.catalog.core import DEFAULT_REGION
from mlscope.core.ranges import Range
from mlscope.errors import InputError
from mlscope.estimate.recommend import Option, Recommendation, recommend_from
from mlscope.pricing import PURCHASE_OPTIONS, run_price

# Seconds per (rating x factor) per sweep on one vCPU; measured 4.1-4.3e-9 (see module doc),
# widened for other CPU families and libraries.
SECONDS_PER_RATING_FACTOR = Range.from_p10_p90(2.5e-9, 8.0e-9)
PARALLEL_EFFICIENCY = 0.8  # 2 threads gave 1.75x on the development machine
STARTUP_HOURS = Range.from_p10_p90(0.03, 0.15)  # loading ratings and building CSR matrices
BYTES_PER_RATING = 24.0  # CSR (index + value) for the matrix and its transpose, plus input


@dataclass
class AlsEstimate:
    users: float
    items: float
    interactions: float
    factors: int
    iterations: int
    instance: Instance
    wall_clock_hours: Range
    cost_by_purchase: dict[str, Range]
    purchase: str
    memory_gb: float
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": "analytic-als",
            "model": {"kind": "als", "factors": self.factors, "iterations": self.iterations},
            "data": {"users": self.users, "items": self.items,
                     "interactions": self.interactions},
            "instance": {"type": self.instance.instance_type, "region": self.instance.region,
                         "vcpus": self.instance.vcpus, "memory_gib": self.instance.memory_gib,
                         "price_on_demand_usd_hr": self.instance.on_demand_usd_hr,
                         "price_quality": self.instance.price_quality},
            "wall_clock_hours": self.wall_clock_hours.to_dict(),
            "accelerator_hours": None,
            "memory": {"per_instance_gb": round(self.memory_gb, 3),
                       "capacity_gb": self.instance.memory_gib,
                       "fits": self.memory_gb <= self.instance.memory_gib * 0.9},
            "purchase": self.purchase,
            "assumptions": self.assumptions,
            "sources": [f"{self.instance.instance_type}: {self.instance.source}",
                        "ALS throughput: benchmarks/als_throughput.py on the development machine"],
        }
        cost = self.cost_by_purchase.get(self.purchase)
        if cost is not None:
            out["cost_usd"] = cost.to_dict()
        out["cost_by_purchase"] = {k: v.to_dict() for k, v in self.cost_by_purchase.items()}
        return out


def estimate_als(users: float, items: float, interactions: float, factors: int,
                 iterations: int, instance_type: str, region: str | None = None,
                 purchase: str = "on-demand") -> AlsEstimate:
    for label, value in (("users", users), ("items", items), ("interactions", interactions),
                         ("factors", factors), ("iterations", iterations)):
        if value is None or value <= 0:
            raise InputError(f"ALS needs a positive {label} (got {value})",
                             f"set dataset.{label} or model.{label} in the spec"
                             if label in ("users", "items", "interactions")
                             else f"set model.{label} in the spec")
    instance = get_catalog().instance(instance_type, region or DEFAULT_REGION)
    threads = max(1, instance.vcpus)
    speedup = 1 + (threads - 1) * PARALLEL_EFFICIENCY
    work = interactions * factors * iterations
    seconds = SECONDS_PER_RATING_FACTOR * work / speedup
    wall = Range(seconds.median / 3600.0, seconds.sigma)
    wall = Range.from_p10_p90(wall.p10 + STARTUP_HOURS.p10, wall.p90 + STARTUP_HOURS.p90)
    costs: dict[str, Range] = {}
    for option in PURCHASE_OPTIONS:
        rp = run_price(instance, option, 1, wall)
        if rp is not None:
            costs[option] = rp.cost_usd
    memory_gb = (interactions * BYTES_PER_RATING + (users + items) * factors * 4 * 2) / 1024**3
    assumptions = [
        f"ALS with conjugate-gradient updates: time ∝ ratings x factors x sweeps "
        f"({interactions:.3g} x {factors} x {iterations})",
        f"{SECONDS_PER_RATING_FACTOR.p10:.2g}-{SECONDS_PER_RATING_FACTOR.p90:.2g} s per "
        "rating-factor per vCPU (measured 4.2e-9 on the development machine, widened)",
        f"{threads} vCPUs at {PARALLEL_EFFICIENCY:.0%} parallel efficiency",
        f"start-up {STARTUP_HOURS.p10 * 60:.0f}-{STARTUP_HOURS.p90 * 60:.0f} min to load data",
        f"memory: {BYTES_PER_RATING:g} bytes per rating + factors in fp32",
        "run `mlscope calibrate -- <your training command>` to replace this prior with "
        "measurements of your own code",
    ]
    return AlsEstimate(users, items, interactions, factors, iterations, instance, wall, costs,
                       purchase, memory_gb, assumptions)


def search_als(users: float, items: float, interactions: float, factors: int, iterations: int,
               region: str | None = None, deadline_hours: float | None = None,
               budget_usd: float | None = None,
               purchases: tuple[str, ...] = ("on-demand", "spot")) -> Recommendation:
    """Every CPU instance of the region (EC2 and SageMaker) that holds the data in memory."""
    region = region or DEFAULT_REGION
    candidates: list[Option] = []
    searched = 0
    for inst in get_catalog().instances:
        if inst.region != region or inst.accelerator or not inst.vcpus:
            continue
        est = estimate_als(users, items, interactions, factors, iterations, inst.instance_type,
                           region)
        for purchase in purchases:
            searched += 1
            cost = est.cost_by_purchase.get(purchase)
            if cost is None or est.memory_gb > inst.memory_gib * 0.9:
                continue
            rp = run_price(inst, purchase, 1, est.wall_clock_hours)
            wall = rp.wall_clock_hours if rp else est.wall_clock_hours
            candidates.append(Option(
                inst, "", 0, 1, purchase, wall, cost, est.memory_gb, 0,
                meets_deadline=deadline_hours is None or wall.p90 <= deadline_hours,
                meets_budget=budget_usd is None or cost.p90 <= budget_usd))
    return recommend_from(candidates, searched, deadline_hours, budget_usd)
