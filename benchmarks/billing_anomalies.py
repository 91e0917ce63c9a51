"""Precision and recall of `mlscope billing anomalies` on GENERATED data with injected anomalies.

Each scenario: 8 services × 120 days of daily cost (lognormal noise, weekday/weekend pattern,
some low-volume Poisson services), a quiet first half (no anomalies: every alert there is a
false positive) and, in the second half, injected anomalies of known size: one-day spikes,
level shifts (must be reported once, not every day) and new services. A detection counts when
it names the series and the day (±1) of an injected anomaly. Beside it, the naive detector
"day > 1.5 × mean of the previous 7 days and > $10" on the same data. A final pass runs one
scenario through a CUR 2.0 file and DuckDB to check the pipeline gives the same alerts.

    .venv/bin/python benchmarks/billing_anomalies.py
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np

from mlscope.costs.billing import synth
from mlscope.costs.billing.actuals import anomalies
from mlscope.costs.billing.anomalies import detect
from mlscope.costs.billing.dataset import BillingData

SCENARIOS = 60
DAYS = 120
QUIET = 60
START = dt.date(2027, 1, 1)

Rows = list[tuple[dt.date, str, float]]


def scenario(rng: np.random.Generator) -> tuple[Rows, list[tuple[str, int, str]]]:
    rows: Rows = []
    injected: list[tuple[str, int, str]] = []
    for s in range(8):
        name = f"svc{s}"
        low_volume = s >= 6
        level = float(rng.uniform(1, 4)) if low_volume else float(rng.lognormal(5, 0.8))
        weekend = float(rng.uniform(0.4, 1.0))
        sigma = float(rng.uniform(0.03, 0.15))
        values = []
        for i in range(DAYS):
            day = START + dt.timedelta(days=i)
            mean = level * (weekend if day.weekday() >= 5 else 1.0)
            values.append(float(rng.poisson(mean)) if low_volume
                          else mean * float(rng.lognormal(0, sigma)))
        if not low_volume:
            kind = ("spike", "shift", "none")[s % 3]
            at = int(rng.integers(QUIET + 5, DAYS - 10))
            size = float(rng.uniform(0.5, 2.0)) * level  # +50% to +200% of the level
            if kind == "spike":
                values[at] += size
                injected.append((name, at, "spike"))
            elif kind == "shift":
                for i in range(at, DAYS):
                    values[i] += size
                injected.append((name, at, "spike"))
        rows += [(START + dt.timedelta(days=i), name, v) for i, v in enumerate(values)]
    new_at = int(rng.integers(QUIET + 5, DAYS - 5))
    new_level = float(rng.lognormal(4, 0.5))
    rows += [(START + dt.timedelta(days=i), "svc-new", new_level * float(rng.lognormal(0, 0.1)))
             for i in range(new_at, DAYS)]
    injected.append(("svc-new", new_at, "new"))
    return rows, injected


def naive(rows: Rows) -> list[tuple[str, int]]:
    series: dict[str, dict[int, float]] = {}
    for day, key, v in rows:
        series.setdefault(key, {})[(day - START).days] = v
    out = []
    for key, by_day in series.items():
        for i in sorted(by_day):
            prev = [by_day.get(j, 0.0) for j in range(i - 7, i)]
            if i >= 7 and by_day[i] > 1.5 * (sum(prev) / 7) and by_day[i] - sum(prev) / 7 > 10:
                out.append((key, i))
    return out


def score(alerts: list[tuple[str, int]],
          injected: list[tuple[str, int, str]]) -> tuple[int, int, int]:
    """(true positives, false positives, injected found)."""
    hits = set()
    tp = fp = 0
    for key, i in alerts:
        match = [j for j, (k, at, _) in enumerate(injected) if k == key and abs(i - at) <= 1]
        if match:
            tp += 1
            hits.update(match)
        else:
            fp += 1
    return tp, fp, len(hits)


def main() -> None:
    rng = np.random.default_rng(11)
    totals = {"mlscope": [0, 0, 0], "naive": [0, 0, 0]}
    quiet_fp = {"mlscope": 0, "naive": 0}
    n_injected = 0
    shift_repeats = 0
    first: tuple[Rows, list[tuple[str, int, str]]] | None = None
    for _ in range(SCENARIOS):
        rows, injected = scenario(rng)
        first = first or (rows, injected)
        n_injected += len(injected)
        found = [(a["key"], (dt.date.fromisoformat(a["date"]) - START).days)
                 for a in detect(rows, "service")]
        for name, alerts in (("mlscope", found), ("naive", naive(rows))):
            tp, fp, hit = score(alerts, injected)
            totals[name][0] += tp
            totals[name][1] += fp
            totals[name][2] += hit
            quiet_fp[name] += sum(1 for _, i in alerts if i < QUIET)
        shift_repeats += sum(1 for k, i in found if any(
            k == key and i > at + 1 for key, at, _ in injected))
    print(f"{SCENARIOS} GENERATED scenarios, {n_injected} injected anomalies "
          f"(spikes and level shifts of +50-200%, new services), {QUIET}-day quiet period")
    print(f"{'detector':>10} {'precision':>10} {'recall':>8} {'alerts':>7} "
          f"{'false alerts in quiet period':>29}")
    for name, (tp, fp, hit) in totals.items():
        precision = tp / (tp + fp) if tp + fp else 1.0
        print(f"{name:>10} {precision:>10.1%} {hit / n_injected:>8.1%} {tp + fp:>7} "
              f"{quiet_fp[name]:>29}")
    print(f"mlscope re-alerts after a level shift was reported: {shift_repeats}")

    # The same scenario through a CUR 2.0 file and DuckDB must give the same alerts.
    assert first is not None
    rows, _ = first
    items = [synth.Item(dt.datetime.combine(d, dt.time()), dt.datetime.combine(
        d, dt.time()) + dt.timedelta(days=1), "Usage", v, v, service=k) for d, k, v in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = synth.write_parquet(synth.cur2_rows(items), Path(tmp) / "daily.parquet")
        with BillingData([str(path)]) as data:
            via_files = anomalies(data, "service")["anomalies"]
    direct = detect(rows, "service")
    same = [(a["key"], a["date"], a["kind"]) for a in via_files] == [
        (a["key"], a["date"], a["kind"]) for a in direct]
    print(f"pipeline check (CUR 2.0 Parquet -> DuckDB -> detector): {len(via_files)} alerts, "
          f"{'identical' if same else 'DIFFERENT'} to the direct run")


if __name__ == "__main__":
    main()
