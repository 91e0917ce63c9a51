"""Monthly run-rate of every environment: point estimate, with/without schedules, P10/P50/P90."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from mlscope.core.ranges import Z90
from mlscope.costs.budget import overrun_risk, variance_drivers
from mlscope.costs.lines import CostLine, build_lines
from mlscope.costs.montecarlo import PERSISTENCE, quantiles
from mlscope.costs.schedules import month_sequence, period_fields
from mlscope.errors import InputError
from mlscope.spec.models import ProjectSpec

DEFAULT_DRAWS = 10_000
MAX_MONTHS = 36


def current_month() -> tuple[int, int]:
    now = datetime.now(UTC)
    return now.year, now.month


def _r(value: Any) -> float:
    return round(float(value), 2)


def _money_rows(months: list[str], **series: np.ndarray) -> list[dict[str, Any]]:
    return [{"month": m, **{k: _r(v[i]) for k, v in series.items()}} for i, m in enumerate(months)]


def estimate_costs(spec: ProjectSpec, start: tuple[int, int] | None = None, months: int = 1,
                   draws: int = DEFAULT_DRAWS, seed: int = 0,
                   budget_usd: float | None = None) -> dict[str, Any]:
    """The cost report of a spec's environments over `months` months from `start`."""
    if not 1 <= months <= MAX_MONTHS:
        raise InputError(f"months must be 1-{MAX_MONTHS} (got {months})", "pass --months 12")
    if not 100 <= draws <= 1_000_000:
        raise InputError(f"draws must be 100-1,000,000 (got {draws})", "pass --draws 10000")
    if not spec.environments:
        raise InputError("the spec has no environments",
                         "add an `environments:` section (see docs/costs.md)")
    year, month = start or current_month()
    seq = month_sequence(year, month, months)
    labels = [f"{y:04d}-{m:02d}" for y, m in seq]
    lines = _priced_lines(spec, seq)
    samples = draw_lines(lines, draws, seed)
    totals = np.sum(list(samples.values()), axis=0)
    budget = budget_usd if budget_usd is not None else spec.budget.monthly_usd

    envs = []
    for name in dict.fromkeys(line.environment for line in lines):
        own = [line for line in lines if line.environment == name]
        env_draws = np.sum([samples[line.label] for line in own], axis=0)
        point = np.sum([line.point_usd for line in own], axis=0)
        always = np.sum([line.always_on_usd for line in own], axis=0)
        envs.append({
            "name": name,
            "monthly": _money_rows(labels, point_usd=point, always_on_usd=always,
                                   savings_usd=always - point, **quantiles(env_draws)),
            "resources": [_line_report(line, samples[line.label], labels) for line in own],
        })
    point_total = np.sum([line.point_usd for line in lines], axis=0)
    always_total = np.sum([line.always_on_usd for line in lines], axis=0)
    horizon = totals.sum(axis=1)
    report: dict[str, Any] = {
        "project": spec.project.name,
        "months": labels,
        "environments": envs,
        "total": {
            "monthly": _money_rows(labels, point_usd=point_total, always_on_usd=always_total,
                                   savings_usd=always_total - point_total, **quantiles(totals)),
            "horizon": {"point_usd": _r(point_total.sum()),
                        "always_on_usd": _r(always_total.sum()),
                        "savings_usd": _r(always_total.sum() - point_total.sum()),
                        **{k: _r(v) for k, v in quantiles(horizon).items()}},
        },
        "monte_carlo": {"draws": draws, "seed": seed},
        "assumptions": _assumptions(lines),
        "prices": [{"line": line.label, "unit": unit, "usd": p.usd, "quality": p.quality,
                    "source": p.source, "date": p.date}
                   for line in lines for unit, p in line.prices],
        "warnings": schedule_warnings(lines),
    }
    worst = 0
    if budget is not None:
        risk = overrun_risk(totals, budget)
        worst = risk["worst_month_index"]
        report["budget"] = {**risk, "worst_month": labels[worst]}
    inputs = {line.label: line.uncertain for line in lines}
    drivers = variance_drivers(samples, totals, inputs, budget, worst)
    if budget is not None:
        report["budget"]["drivers"] = drivers
    else:
        report["drivers"] = drivers
    return report


def schedule_warnings(lines: list[CostLine]) -> list[str]:
    """Schedules that never run (priced at $0) or run every hour (save nothing)."""
    out = []
    for line in lines:
        if line.schedule is None or line.running_hours is None or line.always_on_hours is None:
            continue
        running, always = float(np.sum(line.running_hours)), float(np.sum(line.always_on_hours))
        if running == 0:
            out.append(f"{line.label}: its schedule never runs it in these months (priced at "
                       "$0): check the schedule, or remove the resource")
        elif running >= always:
            out.append(f"{line.label}: its schedule runs it every hour (saves nothing)")
    return out


def schedule_problems(spec: ProjectSpec, year: int, month: int) -> list[str]:
    """The schedule warnings of one month, for readiness checks (`mlscope check`)."""
    return schedule_warnings(build_lines(spec, [(year, month)]))


def _priced_lines(spec: ProjectSpec, seq: list[tuple[int, int]]) -> list[CostLine]:
    lines = build_lines(spec, seq)
    if not lines:
        names = ", ".join(e.name for e in spec.environments)
        raise InputError(f"the environments ({names}) have no resources to price",
                         "list each environment's resources (notebooks, endpoints, training, "
                         "storage...; see docs/costs.md)")
    return lines


# Prices marked rough (SageMaker prices derived from EC2, secondary sources) are uncertain
# themselves: a factor of median 1 whose P90/P10 is 1.15/0.85, one draw per price kind shared
# by every line and month that uses it (an error in a price list does not average out).
ROUGH_PRICE_P10_P90 = (0.85, 1.15)


def price_factors(lines: list[CostLine], draws: int, rng: np.random.Generator
                  ) -> dict[str, np.ndarray]:
    """Per line, draws × 1 multipliers for its rough prices and spot prices' own range."""
    shared: dict[tuple[str, float], np.ndarray] = {}
    rough_sigma = math.log(ROUGH_PRICE_P10_P90[1] / ROUGH_PRICE_P10_P90[0]) / (2 * Z90)
    out = {}
    for line in lines:
        factor = np.ones((draws, 1))
        for _, price in line.prices:
            keys = []
            if "rough" in price.quality:
                keys.append((price.quality, rough_sigma))
            if price.sigma > 0:
                keys.append((f"range:{price.source}", price.sigma))
            for key in keys:
                if key not in shared:
                    shared[key] = np.exp(key[1] * rng.standard_normal((draws, 1)))
                factor = factor * shared[key]
        out[line.label] = factor
    return out


def draw_lines(lines: list[CostLine], draws: int, seed: int) -> dict[str, np.ndarray]:
    """Each line's Monte Carlo draws (draws × months), from one seeded generator in line order,
    times the draws of its uncertain prices."""
    rng = np.random.default_rng(seed)
    samples = {line.label: line.sample(rng, draws) for line in lines}
    factors = price_factors(lines, draws, rng)
    return {label: d * factors[label] for label, d in samples.items()}


def monthly_total_draws(spec: ProjectSpec, start: tuple[int, int], months: int = 1,
                        draws: int = DEFAULT_DRAWS, seed: int = 0) -> np.ndarray:
    """The draws (draws × months) behind `estimate_costs`' total P10/P50/P90, for charts."""
    lines = _priced_lines(spec, month_sequence(start[0], start[1], months))
    return np.asarray(np.sum(list(draw_lines(lines, draws, seed).values()), axis=0))


def _line_report(line: CostLine, draws: np.ndarray, labels: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": line.resource, "kind": line.kind, "region": line.region, **line.detail,
        "monthly": _money_rows(labels, point_usd=line.point_usd,
                               always_on_usd=line.always_on_usd,
                               savings_usd=line.always_on_usd - line.point_usd,
                               **quantiles(draws)),
        "uncertain_inputs": list(line.uncertain),
        "price_quality": sorted({p.quality for _, p in line.prices}),
    }
    if line.running_hours is not None and line.always_on_hours is not None:
        out["running_hours"] = [round(float(h), 2) for h in line.running_hours]
        out["always_on_hours"] = [round(float(h), 2) for h in line.always_on_hours]
    if line.schedule is not None:
        out["schedule"] = {"timezone": line.schedule.timezone,
                           "periods": [period_fields(p) for p in line.schedule.periods],
                           "holidays": sorted(d.isoformat() for d in line.schedule.holidays)}
    if line.notes:
        out["notes"] = line.notes
    return out


def _assumptions(lines: list[CostLine]) -> list[str]:
    out = [
        "unscheduled resources run every hour of the month (AWS bills in UTC); scheduled ones "
        "run the real elapsed hours their schedule gives in its own time zone",
        "a [low, high] input is its P10 and P90 (lognormal when low > 0); autoscaled instance "
        "counts are triangular(min, typical, max)",
        f"months are correlated: each uncertain input is a level shared by all months plus "
        f"month-to-month noise (correlation {PERSISTENCE:g} between any two months; storage "
        f"growth is one draw for the whole period)",
        f"rough prices (SageMaker derived from EC2, secondary sources) vary about "
        f"±{(ROUGH_PRICE_P10_P90[1] - ROUGH_PRICE_P10_P90[0]) / 2:.0%} (P10-P90) around their "
        "figure, one draw per price kind for all months; spot prices over their stated range",
    ]
    quality = sorted({p.quality for line in lines for _, p in line.prices})
    rough = [q for q in quality if "rough" in q]
    if rough:
        out.append(f"some prices are rough ({', '.join(rough)}): SageMaker ml.* prices derived "
                   "from EC2 or copied from secondary sources; import the AWS price list for "
                   "real figures (`mlscope catalog import`)")
    for line in lines:
        out.extend(f"{line.label}: {note}" for note in line.notes)
    return out
