"""Backtest of `mlscope billing forecast`: month-end error on held-out days, and range coverage.

1. GENERATED daily series with known truth (level, weekday/weekend pattern, trend, noise,
   occasional spikes), forecast from day 5/10/15/20/25 of the month; 2. the bundled example's
   GENERATED export (hourly CUR 2.0 line items, full January known) through files and DuckDB;
   3. the real FOCUS sample (2024-09, sparse hourly rows). The naive run-rate (to date / days
   elapsed × days in month) is printed beside on the same cut-offs.

    .venv/bin/python benchmarks/billing_forecast.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
from pathlib import Path

import numpy as np

from mlscope.costs.billing import synth
from mlscope.costs.billing.actuals import forecast
from mlscope.costs.billing.dataset import BillingData
from mlscope.costs.billing.forecast import forecast_month, naive_forecast

REPO = Path(__file__).resolve().parents[1]
CUTS = (5, 10, 15, 20, 25)
SERIES = 300


def synthetic(rng: np.random.Generator) -> dict[dt.date, float]:
    start = dt.date(2027, 1, 1)
    level = float(rng.lognormal(5, 1))
    weekend = float(rng.uniform(0.3, 1.0))
    slope = float(rng.uniform(-0.004, 0.01)) * level
    sigma = float(rng.uniform(0.03, 0.25))
    out = {}
    for i in range(90):
        day = start + dt.timedelta(days=i)
        mean = max(level + slope * i, 0.0) * (weekend if day.weekday() >= 5 else 1.0)
        value = mean * float(rng.lognormal(-sigma ** 2 / 2, sigma))
        if rng.random() < 0.02:
            value *= float(rng.uniform(2, 4))
        out[day] = value
    return out


def report(name: str, rows: list[tuple[int, float, float, bool]]) -> None:
    """rows: (cut day, APE of mlscope's P50, APE of the run-rate, truth inside P10-P90)."""
    print(f"\n{name}")
    print(f"  {'cut-off':>8} {'n':>5} {'median APE':>11} {'run-rate APE':>13} "
          f"{'P10-P90 coverage':>17}")
    for cut in sorted({r[0] for r in rows}):
        sel = [r for r in rows if r[0] == cut]
        print(f"  day {cut:>4} {len(sel):>5} {statistics.median(r[1] for r in sel):>10.1%} "
              f"{statistics.median(r[2] for r in sel):>13.1%} "
              f"{sum(r[3] for r in sel) / len(sel):>17.0%}")
    print(f"  all      {len(rows):>5} {statistics.median(r[1] for r in rows):>10.1%} "
          f"{statistics.median(r[2] for r in rows):>13.1%} "
          f"{sum(r[3] for r in rows) / len(rows):>17.0%}  (nominal coverage 80%)")


def backtest_synthetic() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for s in range(SERIES):
        series = synthetic(rng)
        month = "2027-03"
        truth = sum(v for d, v in series.items() if d.month == 3)
        for cut in CUTS:
            known = {d: v for d, v in series.items() if d <= dt.date(2027, 3, cut)}
            to_date = sum(v for d, v in known.items() if d.month == 3)
            fc = forecast_month(month, known, to_date, seed=s)
            naive = naive_forecast(month, known, to_date)
            rows.append((cut, abs(fc.p50 - truth) / truth, abs(naive - truth) / truth,
                         fc.p10 <= truth <= fc.p90))
    report(f"GENERATED daily series ({SERIES}, known truth), forecast of March 2027", rows)


def backtest_files(name: str, items: list[synth.Item], month: str, cuts: tuple[int, ...],
                   write: object) -> None:
    year, mon = int(month[:4]), int(month[5:7])
    truth = sum(i.effective for i in items if (i.start.year, i.start.month) == (year, mon))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for cut in cuts:
            end = dt.datetime(year, mon, cut) + dt.timedelta(days=1)
            known = [i for i in items if i.start < end]
            path = write(known, Path(tmp) / f"cut{cut}")  # type: ignore[operator]
            with BillingData([str(path)]) as data:
                fc = forecast(data, month)
                days = {d: c for d, _, c, _ in data.daily(month=month)}
            naive = naive_forecast(month, days, fc.to_date)
            rows.append((cut, abs(fc.p50 - truth) / abs(truth), abs(naive - truth) / abs(truth),
                         fc.p10 <= truth <= fc.p90))
    report(name, rows)


def backtest_focus_sample() -> None:
    path = REPO / "tests" / "billing" / "data" / "focus_sample.csv"
    with BillingData([str(path)]) as data:
        truth = data.summary([], month="2024-09")["effective_cost"]
        rows = []
        for cut in CUTS:
            where = f"day <= DATE '2024-09-{cut:02d}'"
            daily = {d: c for d, _, c, _ in data.daily(month="2024-09", where=where)}
            to_date = sum(daily.values())
            fc = forecast_month("2024-09", daily, to_date)
            naive = naive_forecast("2024-09", daily, to_date)
            rows.append((cut, abs(fc.p50 - truth) / abs(truth),
                         abs(naive - truth) / abs(truth), fc.p10 <= truth <= fc.p90))
    report("real FOCUS sample (tests/billing/data/focus_sample.csv, 2024-09; 1,000 sparse rows)",
           rows)


def main() -> None:
    backtest_synthetic()
    items = synth.recommender_items(dt.date(2026, 12, 1), dt.date(2027, 1, 31), seed=0)
    backtest_files("bundled example's GENERATED CUR 2.0 export (hourly, via files + DuckDB), "
                   "January 2027", items, "2027-01", (5, 10, 15, 20, 25),
                   lambda known, p: synth.write_parquet(synth.cur2_rows(known),
                                                        p.with_suffix(".parquet")))
    backtest_focus_sample()


if __name__ == "__main__":
    main()
