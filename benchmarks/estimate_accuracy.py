"""Accuracy of the analytic estimator's accelerator-hours on published runs, grouped CV.

Runs of one model family (or one organization) share an efficiency, so leaving one run out
inside a family is optimistic. Here every family (then every organization) is left out in
turn: the utilization model is refitted on the other groups -- including its sigma, from a
grouped cross-validation inside those training groups -- and the held-out runs are predicted
through the real estimator path (`estimate_training`, with its planner and FLOPs). Beside it,
on the same folds, the best fixed-utilization constant: 6·N·D / (peak x c) with c chosen on the
training groups to minimise their median |error|.

Prints, per grouping: median |error| of P50 accelerator-hours, coverage of [P10, P90], median
P90/P10, and the constant's median |error|. Targets (issue 11): median <= 12 %, coverage >= 80 %,
median P90/P10 <= 2.0, lower error than the constant. Ablations print the fit without the
software step and with one band for every accelerator count beside it. Runs marked as more
than one clean pass are listed, not scored.
Run: .venv/bin/python benchmarks/estimate_accuracy.py [--runs]
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Callable

import numpy as np

from mlscope.core.ranges import Z90
from mlscope.estimate.shapes import resolve_shape
from mlscope.estimate.training import TrainingSetup, estimate_training
from mlscope.estimate.utilization import UNKNOWN_COUNT, Run, fit, grouped_residuals, load_runs

Key = Callable[[Run], str]


def best_constant(train: list[Run]) -> float:
    """The fixed MFU minimising the training runs' median |error| of 6·N·D hours."""
    grid = np.linspace(0.10, 0.70, 601)
    ideal = np.array([6 * r.params * r.tokens / (r.peak_tflops * 1e12 * 3600) for r in train])
    actual = np.array([r.accelerator_hours for r in train])
    errs = [float(np.median(np.abs(ideal / c - actual) / actual)) for c in grid]
    return float(grid[int(np.argmin(errs))])


def predict(run: Run, train: list[Run], software: bool = True, count_band: bool = True,
            era: str | None = None) -> tuple[float, float, float]:
    """P10/P50/P90 accelerator-hours, priced in the run's own software era unless `era`."""
    model = fit(train, software, count_band)
    shape = resolve_shape(params=run.params)
    setup = TrainingSetup(shape, run.tokens, seq_len=run.seq_len,
                          software_era=era or run.software_era)
    est = estimate_training(setup, run.accelerator, run.count or UNKNOWN_COUNT, util=model)
    h = est.accelerator_hours
    return h.p10, h.median, h.p90


def chosen_inside(train: list[Run]) -> bool:
    """Whether the software step wins a leave-one-family-out vote inside the training runs."""
    def err(software: bool) -> float:
        return statistics.median(abs(math.exp(r) - 1)
                                 for r in grouped_residuals(train, software=software))
    return err(True) < err(False)


def evaluate(runs: list[Run], key: Key, software: bool | None = True, count_band: bool = True,
             era: str | None = None) -> list[tuple[Run, tuple[float, float, float], float]]:
    """Held-out predictions; `software=None` chooses the software step inside each fold."""
    out = []
    for group in sorted({key(r) for r in runs}):
        train = [r for r in runs if key(r) != group]
        c = best_constant(train)
        use = chosen_inside(train) if software is None else software
        for run in (r for r in runs if key(r) == group):
            ideal = 6 * run.params * run.tokens / (run.peak_tflops * 1e12 * 3600)
            out.append((run, predict(run, train, use, count_band, era), ideal / c))
    return out


def summarize(label: str, rows: list[tuple[Run, tuple[float, float, float], float]]) -> None:
    err = [abs(p[1] - r.accelerator_hours) / r.accelerator_hours for r, p, _ in rows]
    cover = sum(p[0] <= r.accelerator_hours <= p[2] for r, p, _ in rows) / len(rows)
    width = statistics.median(p[2] / p[0] for _, p, _ in rows)
    const = [abs(c - r.accelerator_hours) / r.accelerator_hours for r, _, c in rows]
    groups = len({r.family if label.startswith("family") else r.organization for r, _, _ in rows})
    print(f"{label:28s} median |error| of P50: {statistics.median(err):6.1%}   "
          f"coverage [P10,P90]: {cover:5.0%}   median P90/P10: {width:4.2f}   "
          f"| best constant (training folds): {statistics.median(const):6.1%}   "
          f"(n={len(rows)} runs, {groups} groups)")


def main() -> None:
    runs = load_runs()
    excluded = [r for r in load_runs(include_excluded=True) if not r.fitted]
    orgs = len({r.organization for r in runs})
    print(f"{len(runs)} fitted runs from {orgs} organizations, {len({r.family for r in runs})} "
          f"families; {len(excluded)} more listed but not fitted (not one clean whole run)")
    model = fit(runs)
    bands = ", ".join(f"{n:,}: {math.exp(2 * Z90 * model.sigma_at('modern', n)):.2f}"
                      for n in (8, 64, 1000, 16384))
    print(f"fit on all runs: band sigma ~ count ** -{model.count_exponent:g} (counts "
          f"{model.count_range[0]:,}-{model.count_range[1]:,}); modern P90/P10 at {bands}\n")
    by_family = evaluate(runs, lambda r: r.family)
    by_org = evaluate(runs, lambda r: r.organization)
    if "--runs" in sys.argv:
        print(f"{'run':32s} {'family':12s} {'actual h':>12s} {'P10':>12s} {'P50':>12s} "
              f"{'P90':>12s} {'err':>6s} in  {'const err':>9s}")
        for r, p, c in by_family:
            e = (p[1] - r.accelerator_hours) / r.accelerator_hours
            inside = "yes" if p[0] <= r.accelerator_hours <= p[2] else "NO"
            print(f"{r.name:32s} {r.family:12s} {r.accelerator_hours:12,.0f} {p[0]:12,.0f} "
                  f"{p[1]:12,.0f} {p[2]:12,.0f} {e:+6.0%} {inside:3s} "
                  f"{(c - r.accelerator_hours) / r.accelerator_hours:+9.0%}")
        print()
    summarize("family left out", by_family)
    summarize("organization left out", by_org)
    print("\nthe same predictions by software era (a run planned today is a modern one):")
    for era in ("modern", "pre-2023"):
        summarize(f"family left out, {era}", [x for x in by_family if x[0].software_era == era])
        summarize(f"org left out, {era}", [x for x in by_org if x[0].software_era == era])
    print("\nnested, same folds: with or without the software step chosen inside each training "
          "fold (leave-one-family-out vote), so the choice is held out too:")
    summarize("family left out", evaluate(runs, lambda r: r.family, software=None))
    summarize("organization left out", evaluate(runs, lambda r: r.organization, software=None))
    print("\nablation, same folds, fit without the software-stack step:")
    summarize("family left out", evaluate(runs, lambda r: r.family, software=False))
    summarize("organization left out", evaluate(runs, lambda r: r.organization, software=False))
    print("\nablation, same folds, one band for every accelerator count (count exponent 0):")
    summarize("family left out", evaluate(runs, lambda r: r.family, count_band=False))
    summarize("organization left out", evaluate(runs, lambda r: r.organization,
                                                 count_band=False))
    print("\npre-2023 runs priced as if planned today (the CLI default, no --software-era), "
          "family left out:")
    for band, label in ((True, "with the count band"), (False, "one band for every count")):
        rows = evaluate(runs, lambda r: r.family, count_band=band, era="modern")
        summarize(f"{label}", [x for x in rows if x[0].software_era == "pre-2023"])
    unsure = [r for r in runs if "verify" in r.source]
    if unsure:
        kept = [r for r in runs if r not in unsure]
        print(f"\nsensitivity: without the {len(unsure)} runs whose source says 'verify' "
              f"({', '.join(r.name for r in unsure)}), refitted:")
        summarize("family left out", evaluate(kept, lambda r: r.family))
        summarize("organization left out", evaluate(kept, lambda r: r.organization))
    print("\nnot fitted (not one clean whole run):")
    for r in excluded:
        print(f"  {r.name}: {r.excluded_why}")


if __name__ == "__main__":
    main()
