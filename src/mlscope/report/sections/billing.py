"""Section: actual vs plan, from the AWS billing export the spec's `billing:` points at.

Built only when the spec has a `billing:` section (no export, no section and no numbers). The
figures come from the billing engine's `compare` (planned P10/P50/P90 from the cost engine,
actual effective cost to date and the month-end forecast per environment) and its daily series.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from mlscope.report import svg
from mlscope.report.model import Figure, Section, Table
from mlscope.report.svg import Scale
from mlscope.spec.models import ProjectSpec

W = 760
STATUS = {"over": "over its planned range", "under": "under its planned range",
          "within": "within its planned range", "no-data": "no tagged cost in the export"}


def _range(r: dict[str, float]) -> str:
    return f"{svg.money(r['p50'])} (P10 {svg.money(r['p10'])} – P90 {svg.money(r['p90'])})"


def actuals(spec: ProjectSpec) -> dict[str, Any]:
    """compare() plus the daily effective cost of the month, through the engine."""
    # Imported here: the billing engine loads DuckDB, which only specs with an export need.
    from mlscope.costs.billing.actuals import compare, export_paths, tag_keys_of
    from mlscope.costs.billing.dataset import open_billing

    with open_billing(export_paths(spec), tag_keys_of(spec)) as data:
        result: dict[str, Any] = compare(data, spec)
        daily = data.daily(month=result["month"])
        result["format"] = data.format
    result["daily"] = [(d.isoformat(), cost) for d, _, cost, _ in daily]
    return result


def daily_chart(result: dict[str, Any]) -> str:
    """Daily actual effective cost (bars), the planned range per day (band), the forecast."""
    month = result["month"]
    year, mon = int(month[:4]), int(month[5:7])
    ndays = calendar.monthrange(year, mon)[1]
    planned = result["total"]["planned"]
    per_day = {k: v / ndays for k, v in planned.items()}
    actual = dict(result["daily"])
    through = result["through"]
    done = dt.date.fromisoformat(through).day if through else 0
    fc = result["total"]["forecast"]
    left = max(ndays - done, 0)
    fc_day = {k: (fc[k] - result["total"]["actual_to_date"]) / left if left else 0.0
              for k in ("p10", "p50", "p90")}
    h = 360
    x0, x1, y0, y1 = 84.0, W - 24.0, 300.0, 48.0
    top = max([*actual.values(), per_day["p90"], fc_day["p90"], 1e-9]) * 1.15
    ys = Scale(*svg.nice_range(0.0, top), y0, y1)
    slot = (x1 - x0) / ndays
    out: list[str] = []
    for t in ys.ticks():
        out.append(svg.line(x0, ys(t), x1, ys(t), stroke=svg.FAINT, stroke_width=1))
        out.append(svg.text(x0 - 8, ys(t) + 4, svg.money(t), text_anchor="end", font_size=11))
    band = svg.rect(x0, ys(per_day["p90"]), x1 - x0, ys(per_day["p10"]) - ys(per_day["p90"]),
                    fill=svg.GREEN, fill_opacity=0.18)
    out.append(svg.titled(band, f"planned per day: {svg.money(per_day['p10'])} – "
                                f"{svg.money(per_day['p90'])} (P10–P90 of the month / {ndays})"))
    out.append(svg.line(x0, ys(per_day["p50"]), x1, ys(per_day["p50"]), stroke=svg.GREEN,
                        stroke_width=1.5, stroke_dasharray="6 4"))
    for day in range(1, ndays + 1):
        label = f"{month}-{day:02d}"
        x = x0 + (day - 1) * slot
        if day <= done:
            v = actual.get(label, 0.0)
            y = min(ys(max(v, 0.0)), y0 - 1)
            out.append(svg.titled(svg.rect(x + 1, y, slot - 2, y0 - y, fill=svg.BLUE, rx=1),
                                  f"{label}: {svg.money(v)} actual (effective cost)"))
        elif left:
            lo, hi = ys(fc_day["p10"]), ys(fc_day["p90"])
            out.append(svg.titled(
                svg.rect(x + 1, hi, slot - 2, lo - hi, fill=svg.ORANGE, fill_opacity=0.35),
                f"{label}: forecast {svg.money(fc_day['p50'])} "
                f"(P10 {svg.money(fc_day['p10'])} – P90 {svg.money(fc_day['p90'])})"))
            out.append(svg.line(x + 1, ys(fc_day["p50"]), x + slot - 1, ys(fc_day["p50"]),
                                stroke=svg.ORANGE, stroke_width=2))
        if day == 1 or day % 5 == 0:
            out.append(svg.text(x + slot / 2, y0 + 16, str(day), text_anchor="middle",
                                font_size=11))
    out.append(svg.line(x0, y0, x1, y0, stroke_width=1))
    out.append(svg.line(x0, y1, x0, y0, stroke_width=1))
    out.append(svg.text((x0 + x1) / 2, y0 + 36, f"day of {month} (UTC)", text_anchor="middle",
                        font_size=12, font_weight="bold"))
    cy = (y0 + y1) / 2
    out.append(svg.text(16, cy, "USD per day", text_anchor="middle", font_size=12,
                        font_weight="bold", transform=f"rotate(-90 16 {cy:.1f})"))
    out.append(svg.legend(x0, 24, [(svg.BLUE, "actual"), (svg.GREEN, "planned P10–P90"),
                                   (svg.ORANGE, "forecast P10–P90")]))
    return svg.document(W, h, f"Daily actual cost against the plan, {month}", out, "actuals")


def build(spec: ProjectSpec) -> Section:
    sec = Section("actuals", "Actual vs plan",
                  "What AWS actually charged this month, environment by environment, against "
                  "the planned range, and where the month is heading.")
    result = actuals(spec)
    sec.data = {k: v for k, v in result.items() if k != "daily"}
    total = result["total"]
    sec.facts = [
        ("Billing export", f"{result['format']}, {result['month']}, through "
                           f"{result['through']}"),
        ("Actual to date", svg.money(total["actual_to_date"]) + " (effective, amortized cost)"),
        ("Month-end forecast", _range(total["forecast"])),
        ("Planned for the month", _range(total["planned"])),
        ("Untagged", f"{svg.money(result['untagged']['actual_to_date'])} to date "
                     "(no environment tag)"),
    ]
    if "budget" in result:
        b = result["budget"]
        sec.facts.append(("Budget", f"{svg.money(b['monthly_usd'])}: forecast "
                                    + ("OVER" if b["over"] else "within")))
    sec.figures.append(Figure(
        daily_chart(result),
        "Blue bars: effective cost per day from the billing export. Green band: the planned "
        "month's P10–P90 spread evenly over its days (dashed line: P50). Orange: the forecast "
        "for the days left (P10–P90, line at P50)."))
    sec.tables.append(Table(
        ["environment", "planned P50 (P10 – P90)", "actual to date",
         "forecast P50 (P10 – P90)", "status"],
        [[e["name"], _range(e["planned"]), svg.money(e["actual_to_date"]),
          _range(e["forecast"]), STATUS.get(e["status"], e["status"])]
         for e in result["environments"]],
        caption="Each environment's planned month (cost engine) beside its actual cost, by "
                "the environment tag on each line item.", numeric=(2,)))
    sec.assumptions.append("Actual cost is effective (amortized) cost: Savings Plan and RI usage "
                           "at its effective rate, upfront fees spread over the term (AWS Cloud "
                           "Intelligence Dashboards / FOCUS mapping).")
    sec.sources.append("AWS billing export named in the spec's `billing:` section.")
    return sec
