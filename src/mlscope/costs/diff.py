"""Compare the monthly cost of two specs (e.g. main vs. a pull request): the cost gate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlscope.costs.lines import build_lines
from mlscope.costs.schedules import month_sequence
from mlscope.errors import InputError
from mlscope.spec.models import ProjectSpec


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


def _monthly_by_line(spec: ProjectSpec, months: list[tuple[int, int]]) -> dict[str, float]:
    return {line.label: float(np.mean(line.point_usd)) for line in build_lines(spec, months)}


def diff_specs(old: ProjectSpec, new: ProjectSpec, start: tuple[int, int], months: int = 1,
               threshold: Threshold | None = None) -> dict[str, Any]:
    """Average monthly cost of each resource line in both specs, the change, and the gate."""
    seq = month_sequence(start[0], start[1], months)
    before = _monthly_by_line(old, seq)
    after = _monthly_by_line(new, seq)
    rows = []
    for label in dict.fromkeys([*before, *after]):
        a, b = before.get(label, 0.0), after.get(label, 0.0)
        status = "added" if label not in before else "removed" if label not in after else (
            "changed" if abs(b - a) > 0.005 else "unchanged")
        rows.append({"line": label, "status": status, "old_usd": round(a, 2),
                     "new_usd": round(b, 2), "delta_usd": round(b - a, 2)})
    old_total, new_total = sum(before.values()), sum(after.values())
    delta = new_total - old_total
    result: dict[str, Any] = {
        "months": [f"{y:04d}-{m:02d}" for y, m in seq],
        "old_monthly_usd": round(old_total, 2),
        "new_monthly_usd": round(new_total, 2),
        "delta_usd": round(delta, 2),
        "delta_pct": round(100 * delta / old_total, 2) if old_total else None,
        "lines": sorted(rows, key=lambda r: -abs(r["delta_usd"])),
    }
    if threshold is not None:
        result["threshold"] = str(threshold)
        result["fails"] = threshold.exceeded(old_total, new_total)
    return result
