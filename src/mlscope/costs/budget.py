"""Budget risk: the probability of overrun and the inputs that drive it."""

from __future__ import annotations

from typing import Any

import numpy as np


def overrun_risk(totals: np.ndarray, budget_usd: float) -> dict[str, Any]:
    """totals: draws × months of the monthly total. Probabilities of exceeding the budget."""
    over = totals > budget_usd
    horizon = totals.sum(axis=1) > budget_usd * totals.shape[1]
    return {
        "monthly_usd": budget_usd,
        "overrun_probability_by_month": [round(float(p), 4) for p in over.mean(axis=0)],
        "any_month_overrun_probability": round(float(over.any(axis=1).mean()), 4),
        "horizon_overrun_probability": round(float(horizon.mean()), 4),
        "worst_month_index": int(np.argmax(over.mean(axis=0))),
    }


def variance_drivers(samples: dict[str, np.ndarray], totals: np.ndarray,
                     inputs: dict[str, tuple[str, ...]], budget_usd: float | None,
                     month_index: int) -> list[dict[str, Any]]:
    """Each line's share of the total's variance in one month: cov(line, total) / var(total).

    The shares add up to one, so they say which uncertain inputs move the bill. With a budget,
    each line also gets how much likelier an overrun is when that line lands above its median.
    """
    total = totals[:, month_index]
    var = float(total.var())
    out = []
    for label, draws in samples.items():
        line = draws[:, month_index]
        if not inputs.get(label) or float(line.std()) == 0.0:
            continue
        share = float(np.mean((line - line.mean()) * (total - total.mean()))) / var if var else 0
        row: dict[str, Any] = {"line": label, "inputs": list(inputs[label]),
                               "share_of_variance": round(share, 4)}
        if budget_usd is not None:
            high = line > np.median(line)
            over = total > budget_usd
            row["overrun_probability_if_high"] = round(float(over[high].mean()), 4) \
                if high.any() else None
            row["overrun_probability_if_low"] = round(float(over[~high].mean()), 4) \
                if (~high).any() else None
        out.append(row)
    return sorted(out, key=lambda r: -r["share_of_variance"])
