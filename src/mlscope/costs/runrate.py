"""Monthly run-rate of every environment: point estimate, with/without schedules, P10/P50/P90."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from mlscope.costs.budget import overrun_risk, variance_drivers
from mlscope.costs.lines import CostLine, build_lines
from mlscope.costs.montecarlo import quantiles
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


def _priced_lines(spec: ProjectSpec, seq: list[tuple[int, int]]) -> list[CostLine]:
    lines = build_lines(spec, seq)
    if not lines:
        names = ", ".join(e.name for e in spec.environments)
        raise InputError(f"the environments ({names}) have no resources to price",
                         "list each environment's resources (notebooks, endpoints, training, "
                         "storage...; see docs/costs.md)")
    return lines


def draw_lines(lines: list[CostLine], draws: int, seed: int) -> dict[str, np.ndarray]:
    """Each line's Monte Carlo draws (draws × months), from one seeded generator in line order."""
    rng = np.random.default_rng(seed)
    return {line.label: line.sample(rng, draws) for line in lines}


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
        "each month is drawn independently (storage growth excepted): if usage stays high or "
        "low for months at a time, the chance that at least one month overruns is lower than "
        "shown and the per-month figures hold",
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
