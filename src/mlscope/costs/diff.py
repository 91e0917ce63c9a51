"""Compare the monthly cost of two specs (e.g. main vs. a pull request): the cost gate.

The gate looks at the distribution, not one figure: the median (P50), the P90 and, with a
budget, the probability of going over it, each from the same seeded Monte Carlo as
`mlscope cost`. A change that leaves the median flat but widens the tail (a higher
`max_instances`, a bigger range) raises P90 and the overrun probability, and fails the gate
on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlscope.costs.lines import build_lines
from mlscope.costs.runrate import DEFAULT_DRAWS, draw_lines
from mlscope.costs.schedules import month_sequence
from mlscope.errors import InputError
from mlscope.spec.models import ProjectSpec

MEASURES = ("p50", "p90", "risk")


@dataclass(frozen=True)
class Threshold:
    value: float
    percent: bool

    def exceeded(self, old: float, new: float) -> bool:
        increase = new - old
        if self.percent:
            if old == 0:
                return increase > 0
            return 100 * increase / old > self.value
        return increase > self.value

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"${self.value:,.2f}"


def parse_threshold(text: str) -> Threshold:
    """`10%`, `$500`, `500` or `500usd` → a threshold on the monthly increase."""
    m = re.fullmatch(r"\s*(\$)?\s*([0-9]*\.?[0-9]+)\s*(%|usd)?\s*", text.lower())
    if not m or (m.group(1) and m.group(3) == "%"):
        raise InputError(f"'{text}' is not a threshold", "write e.g. 10% or $500")
    return Threshold(float(m.group(2)), m.group(3) == "%")


@dataclass(frozen=True)
class Distribution:
    by_line: dict[str, np.ndarray]  # draws of each line's average monthly cost
    total: np.ndarray  # draws of the average monthly total
    monthly: np.ndarray  # draws × months of the monthly total

    def summary(self, budget: float | None) -> dict[str, Any]:
        p10, p50, p90 = np.percentile(self.total, [10, 50, 90])
        out: dict[str, Any] = {"p10": round(float(p10), 2), "p50": round(float(p50), 2),
                               "p90": round(float(p90), 2)}
        # The chance that the average month goes over the monthly budget.
        out["overrun_probability"] = (round(float((self.total > budget).mean()), 4)
                                      if budget is not None else None)
        return out


def _distribution(spec: ProjectSpec, months: list[tuple[int, int]], draws: int,
                  seed: int) -> Distribution:
    samples = draw_lines(build_lines(spec, months), draws, seed)
    by_line = {label: d.mean(axis=1) for label, d in samples.items()}
    monthly = np.sum(list(samples.values()), axis=0)
    return Distribution(by_line, monthly.mean(axis=1), monthly)


def _change(old: float | None, new: float | None, points: bool = False) -> dict[str, Any]:
    if old is None or new is None:
        return {"old": old, "new": new, "delta": None, "pct": None}
    delta = new - old
    pct = (100 * delta / old if old else (0.0 if delta == 0 else None)) if not points else None
    return {"old": old, "new": new, "delta": round(delta, 4 if points else 2),
            "pct": round(pct, 2) if pct is not None else None}


def gate_measure(changes: dict[str, dict[str, Any]], threshold: Threshold) -> str:
    """The measure that changed most: % (or $) for P50 and P90, percentage points for risk."""
    def size(name: str) -> float:
        c = changes[name]
        if c["delta"] is None:
            return float("-inf")
        if name == "risk":
            return 100 * c["delta"] if threshold.percent else float("-inf")
        if threshold.percent:
            return c["pct"] if c["pct"] is not None else float("inf")
        return float(c["delta"])
    return max(MEASURES, key=size)


def diff_specs(old: ProjectSpec, new: ProjectSpec, start: tuple[int, int], months: int = 1,
               threshold: Threshold | None = None, on: str | None = None,
               budget_usd: float | None = None, draws: int = DEFAULT_DRAWS,
               seed: int = 0) -> dict[str, Any]:
    """P50, P90 and overrun probability of the average month in both specs, per line and in
    total, and the gate on the measure chosen (`on`) or the one that changed most."""
    if on is not None and on not in MEASURES:
        raise InputError(f"unknown gate measure '{on}'", "use --on p50, p90 or risk")
    if not 100 <= draws <= 1_000_000:
        raise InputError(f"draws must be 100-1,000,000 (got {draws})", "pass --draws 10000")
    seq = month_sequence(start[0], start[1], months)
    budget = budget_usd if budget_usd is not None else (new.budget.monthly_usd
                                                        or old.budget.monthly_usd)
    before = _distribution(old, seq, draws, seed)
    after = _distribution(new, seq, draws, seed)
    rows = []
    for label in dict.fromkeys([*before.by_line, *after.by_line]):
        a, b = before.by_line.get(label), after.by_line.get(label)
        a50, a90 = (np.percentile(a, [50, 90]) if a is not None else (0.0, 0.0))
        b50, b90 = (np.percentile(b, [50, 90]) if b is not None else (0.0, 0.0))
        status = "added" if a is None else "removed" if b is None else (
            "changed" if abs(b50 - a50) > 0.005 or abs(b90 - a90) > 0.005 else "unchanged")
        rows.append({"line": label, "status": status, "old_p50_usd": round(float(a50), 2),
                     "new_p50_usd": round(float(b50), 2),
                     "delta_p50_usd": round(float(b50 - a50), 2),
                     "old_p90_usd": round(float(a90), 2), "new_p90_usd": round(float(b90), 2),
                     "delta_p90_usd": round(float(b90 - a90), 2)})
    old_sum, new_sum = before.summary(budget), after.summary(budget)
    changes = {"p50": _change(old_sum["p50"], new_sum["p50"]),
               "p90": _change(old_sum["p90"], new_sum["p90"]),
               "risk": _change(old_sum["overrun_probability"], new_sum["overrun_probability"],
                               points=True)}
    result: dict[str, Any] = {
        "months": [f"{y:04d}-{m:02d}" for y, m in seq],
        "monte_carlo": {"draws": draws, "seed": seed},
        "budget_usd": budget,
        "old": old_sum,
        "new": new_sum,
        "change": changes,
        # The median of the average month (the figures before the gate looked at the tail).
        "old_monthly_usd": old_sum["p50"],
        "new_monthly_usd": new_sum["p50"],
        "delta_usd": changes["p50"]["delta"],
        "delta_pct": changes["p50"]["pct"],
        "lines": sorted(rows, key=lambda r: -max(abs(r["delta_p50_usd"]),
                                                 abs(r["delta_p90_usd"]))),
    }
    if threshold is not None:
        measure = on or gate_measure(changes, threshold)
        if measure == "risk":
            if budget is None:
                raise InputError("the risk gate needs a budget",
                                 "set budget.monthly_usd in the spec or pass --budget")
            if not threshold.percent:
                raise InputError(f"the risk gate takes percentage points, not {threshold}",
                                 "write e.g. --fail-above 5% --on risk")
            c = changes["risk"]
            fails = 100 * (c["new"] - c["old"]) > threshold.value
        else:
            fails = threshold.exceeded(changes[measure]["old"], changes[measure]["new"])
        result["gate"] = {"on": measure, "threshold": str(threshold), "fails": bool(fails),
                          "chosen": "given" if on else "the measure that changed most"}
        result["threshold"] = str(threshold)
        result["fails"] = bool(fails)
    return result
