"""Accuracy of the analytic estimator's accelerator-hours on published training runs.

Prints, per run and overall: the P50 error and whether the actual value lies inside [P10, P90],
for three predictors:
  * leave-one-out: the utilization model refitted without the run it predicts (the honest
    figure for a run the model has never seen);
  * in-sample: the shipped model (fitted on all runs), through the real estimator path;
  * fixed 35 % MFU: the rule of thumb, for comparison (no range).
Targets (issue 2): median error <= 15 %, coverage >= 80 %, median P90/P10 <= 2.0.
Run: .venv/bin/python benchmarks/estimate_accuracy.py
"""

from __future__ import annotations

import math
import statistics

from mlscope.estimate.shapes import resolve_shape
from mlscope.estimate.training import TrainingSetup, estimate_training
from mlscope.estimate.utilization import Z90, fit, load_runs


def main() -> None:
    runs = load_runs()
    rows = []
    for i, run in enumerate(runs):
        ideal_hours = 6.0 * run.params * run.tokens / (run.peak_tflops * 1e12 * 3600.0)
        loo = fit(runs[:i] + runs[i + 1:])
        med, sigma = loo.distribution(run.generation, run.count)
        loo_p50 = ideal_hours / med
        loo_p10, loo_p90 = loo_p50 * math.exp(-Z90 * sigma), loo_p50 * math.exp(Z90 * sigma)
        est = estimate_training(TrainingSetup(resolve_shape(params=run.params), run.tokens),
                                run.accelerator, run.count or 1024).to_dict()
        ins = est["accelerator_hours"]
        fixed = ideal_hours / 0.35
        rows.append((run, run.accelerator_hours, (loo_p10, loo_p50, loo_p90),
                     (ins["p10"], ins["p50"], ins["p90"]), fixed))

    def err(pred: float, actual: float) -> float:
        return abs(pred - actual) / actual

    print(f"{'run':24s} {'accelerator':16s} {'actual h':>11s} {'LOO P50':>11s} {'err':>6s} "
          f"{'in':>3s} {'fixed35':>11s} {'err':>6s}")
    for run, actual, loo, _, fixed in rows:
        inside = "yes" if loo[0] <= actual <= loo[2] else "NO"
        print(f"{run.name:24s} {run.accelerator:16s} {actual:11,.0f} {loo[1]:11,.0f} "
              f"{err(loo[1], actual):6.1%} {inside:>3s} {fixed:11,.0f} {err(fixed, actual):6.1%}")
    print()
    for label, idx in (("leave-one-out", 2), ("in-sample (shipped model)", 3)):
        errs = [err(r[idx][1], r[1]) for r in rows]
        cover = sum(r[idx][0] <= r[1] <= r[idx][2] for r in rows) / len(rows)
        width = statistics.median(r[idx][2] / r[idx][0] for r in rows)
        print(f"{label:27s} median |error| of P50: {statistics.median(errs):6.1%}   "
              f"coverage [P10,P90]: {cover:5.0%}   median P90/P10: {width:4.2f}   "
              f"(n={len(rows)})")
    fixed_errs = [err(r[4], r[1]) for r in rows]
    print(f"{'fixed 35 % MFU':27s} median |error|:        {statistics.median(fixed_errs):6.1%}   "
          "(no range)")
    hard = [r for r in rows if r[0].generation != "ampere" or r[0].params < 2e9]
    if hard:
        print(f"{'  on non-A100 or <2B runs':27s} LOO median |error| "
              f"{statistics.median(err(r[2][1], r[1]) for r in hard):6.1%} vs fixed 35 %: "
              f"{statistics.median(err(r[4], r[1]) for r in hard):6.1%} (n={len(hard)})")


if __name__ == "__main__":
    main()
