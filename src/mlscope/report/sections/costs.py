"""Sections: monthly cost by environment (with and without schedules) and the overrun risk.

Figures come from the cost engine's `estimate_costs` (through the report context, so every
section reads the same run); the overrun histogram from its `monthly_total_draws` (the same
seeded draws), drawn only if they reproduce the quantiles in the table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from mlscope.report import charts, svg
from mlscope.report.context import ReportContext
from mlscope.report.decision import between
from mlscope.report.model import Figure, Section, Skip, Table

MIN_DRIVER_SHARE = 0.01
MAX_DRIVERS = 6
# Price sources in the order a reader should trust them (AWS's own price list imported first);
# unknown qualities sort last. "rough" ones, test fixtures and blog posts are flagged.
QUALITY_ORDER = ("imported", "catalog", "secondary", "derived-rough", "secondary-rough")
_ROUGH_SOURCE = ("fixture", "blog", "test")


def _no_costs(ctx: ReportContext) -> None:
    if not ctx.spec.environments:
        raise Skip("the spec has no `environments:`, so there is nothing to price")
    if not ctx.has_costs():
        names = ", ".join(e.name for e in ctx.spec.environments)
        raise Skip(f"the environments ({names}) list no resources to price; add the "
                   "notebooks, endpoints, training and storage each one runs (docs/costs.md)")


def month_name(label: str) -> str:
    """'2027-07' -> 'Jul 2027'."""
    return dt.date(int(label[:4]), int(label[5:7]), 1).strftime("%b %Y")


def _range(row: dict[str, float]) -> str:
    return f"{svg.money(row['p50'])} typical ({between(row['p10'], row['p90'])})"


def _point(row: dict[str, float]) -> float:
    """The cost at typical usage (the engine's point estimate; named expected_usd earlier)."""
    return float(row["point_usd"] if "point_usd" in row else row["expected_usd"])


def _spread(row: dict[str, float]) -> str:
    return f"{svg.money(row['p10'])} – {svg.money(row['p90'])}"


def monthly_line(costs: dict[str, Any]) -> str:
    """The first month in one line: typical cost, its range in words, and always-on."""
    first = costs["total"]["monthly"][0]
    line = (f"{svg.money(_point(first))} a month at typical usage "
            f"({between(first['p10'], first['p90'])})")
    if first["savings_usd"] > 0:
        line += f" with schedules; {svg.money(first['always_on_usd'])} if always on"
    return line


def build_monthly(ctx: ReportContext, sec: Section) -> None:
    _no_costs(ctx)
    costs = ctx.costs()
    month = month_name(costs["months"][0])
    first = costs["total"]["monthly"][0]
    horizon = costs["total"]["horizon"]
    saved = first["savings_usd"]
    share = saved / first["always_on_usd"] if first["always_on_usd"] else 0.0
    sec.facts = [
        ("Monthly cost", monthly_line(costs)),
        (f"Schedules save ({month})", f"{svg.money(saved)} ({share:.0%} of always-on)"),
        (f"Next {len(costs['months'])} months", _range(horizon)),
    ]
    envs = costs["environments"]
    names = [e["name"] for e in envs]
    always = [e["monthly"][0]["always_on_usd"] for e in envs]
    scheduled = [_point(e["monthly"][0]) for e in envs]
    chart = charts.grouped_bars(
        names, [("always on (no schedule)", svg.GREY, always),
                ("with the schedules in the spec", svg.GREEN, scheduled)],
        y_label="USD per month", title=f"Monthly cost by environment, {month}")
    sec.figures.append(Figure(chart, f"Cost of {month} in each environment at typical usage; "
                                     "the gap between a pair of bars is what its schedule "
                                     "saves. The table gives each resource's range."))
    rows = []
    for e in envs:
        for r in e["resources"]:
            m = r["monthly"][0]
            rows.append([e["name"], r["name"], r["kind"], svg.money(_point(m)),
                         svg.money(m["always_on_usd"]),
                         svg.money(m["savings_usd"]) if m["savings_usd"] > 0 else "",
                         _spread(m)])
    sec.tables.append(Table(["Environment", "Resource", "Kind", "Typical, with schedules",
                             "Always on", "Saved", "8 in 10 chance between (P10–P90)"], rows,
                            f"Cost by resource, {month}", numeric=(3, 4, 5, 6)))
    sec.assumptions = [str(a) for a in costs.get("assumptions") or []]
    sec.sources = price_sources(costs.get("prices") or [])
    sec.data = {"months": costs["months"], "total": costs["total"],
                "environments": [{"name": e["name"], "monthly": e["monthly"]} for e in envs]}


def price_sources(prices: list[dict[str, Any]]) -> list[str]:
    """Each price source once, primary price lists first; rough ones flagged as such."""
    seen: dict[str, tuple[int, str]] = {}
    for p in prices:
        quality = str(p.get("quality") or "unknown")
        rank = QUALITY_ORDER.index(quality) if quality in QUALITY_ORDER else len(QUALITY_ORDER)
        rough = "rough" in quality or any(w in str(p["source"]).lower() for w in _ROUGH_SOURCE)
        rank += len(QUALITY_ORDER) * rough
        text = (f"{p['source']} ({p['date']}; {quality} price"
                + (", rough: check before relying on it" if rough else "") + ")")
        key = f"{p['source']}|{p['date']}"
        if key not in seen or rank < seen[key][0]:
            seen[key] = (rank, text)
    return [text for _, text in sorted(seen.values())]


def risk_line(budget: dict[str, Any]) -> str:
    """The overrun chance in words: the riskiest month, and at least one month of the horizon.

    Both are read off the cost engine's simulated years (each draw is a whole year, month after
    month, as the engine draws it); the sentence says what each number counts.
    """
    worst = max(budget["overrun_probability_by_month"])
    n = len(budget["overrun_probability_by_month"])
    return (f"{svg.chance(worst)} chance of going over the {svg.money(budget['monthly_usd'])} "
            f"monthly budget in the riskiest month ({month_name(budget['worst_month'])}); "
            f"{svg.chance(budget['any_month_overrun_probability'])} chance that at least one "
            f"of the {n} months goes over (the share of simulated years with one or more months "
            "over budget)")


def build_risk(ctx: ReportContext, sec: Section) -> None:
    _no_costs(ctx)
    costs = ctx.costs()
    budget = costs.get("budget")
    if not budget:
        raise Skip("the spec has no monthly budget (`budget: monthly_usd:`), so there is "
                   "nothing to measure an overrun against")
    worst = int(budget["worst_month_index"])
    worst_name = month_name(budget["worst_month"])
    row = costs["total"]["monthly"][worst]
    sec.facts = [("Overrun risk", risk_line(budget)),
                 ("Monthly budget", svg.money(budget["monthly_usd"])),
                 (f"Cost in {worst_name}", _range(row))]
    draws = _worst_month_draws(ctx, worst)
    label = f"Total cost of {worst_name}, USD"
    if draws is not None:
        chart = charts.overrun_histogram(list(draws), budget["monthly_usd"], x_label=label)
        caption = (f"{len(draws):,} simulated versions of {worst_name}, the month "
                   "most likely to go over; red bars are months over budget.")
    else:
        chart = charts.quantile_cdf([(0.1, row["p10"]), (0.5, row["p50"]), (0.9, row["p90"])],
                                    budget["monthly_usd"], x_label=label)
        caption = "P10, P50 and P90 of the month most likely to go over, joined."
    sec.figures.append(Figure(chart, caption))
    drivers = budget.get("drivers") or []
    # The few lines that move the bill; the long tail of <1% ones is only counted.
    main = [d for d in drivers if d["share_of_variance"] >= MIN_DRIVER_SHARE][:MAX_DRIVERS]
    if main:
        rest = len(drivers) - len(main)
        sec.tables.append(Table(
            ["Cost line", "Uncertain inputs", "Share of the uncertainty",
             "Overrun chance if this line is above / below its median"],
            [[d["line"], ", ".join(d["inputs"]), f"{d['share_of_variance']:.0%}",
              _pair(d.get("overrun_probability_if_high"), d.get("overrun_probability_if_low"))]
             for d in main],
            "What drives the risk" + (f" ({rest} other uncertain lines each move it less than "
                                      f"{MIN_DRIVER_SHARE:.0%})" if rest else "")))
    sec.data = {"budget": budget}


def _pair(high: float | None, low: float | None) -> str:
    if high is None or low is None:
        return "n/a"
    return f"{high:.0%} / {low:.0%}"


def _worst_month_draws(ctx: ReportContext, month: int) -> np.ndarray | None:
    """The engine's Monte Carlo draws of one month, or None if they disagree with its table."""
    costs = ctx.costs()
    totals = np.asarray(ctx.cost_draws())
    # Same draws as the figures above, or none: the chart must agree with the table.
    mine = np.percentile(totals[:, month], [10, 50, 90])
    theirs = [costs["total"]["monthly"][month][k] for k in ("p10", "p50", "p90")]
    if not np.allclose(mine, theirs, rtol=1e-3, atol=0.02):
        return None
    return np.asarray(totals[:, month])
