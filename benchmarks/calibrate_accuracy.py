"""Accuracy of `mlscope calibrate`: predict full training jobs from runs on <= 10 % of the data.

For each real workload (scikit-learn gradient boosting, a linear model, a random forest, and
implicit ALS on MovieLens-100k read from the installed recbole wheel), calibrate on fractions
0.01-0.1 with repeats, then run the full job and compare. Targets: P50 within +-25 % of the
actual wall time, and the actual inside [P10, P90].

    .venv/bin/python benchmarks/calibrate_accuracy.py [--only hgb,als] [--actual-repeats 1]

The machine may be shared: timings are noisy, which is what the repeats and ranges are for.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from mlscope.estimate.empirical.measure import measure_command
from mlscope.estimate.empirical.plan import available_cpus
from mlscope.estimate.empirical.session import CalibrationPlan, run_plan

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "calibrate"
# name -> (script, what it trains)
WORKLOADS = {
    "hgb": ("train_hgb.py", "HistGradientBoosting, 100 rounds, 800k x 40 synthetic"),
    "linear": ("train_linear.py", "LogisticRegression (lbfgs), 800k x 100 synthetic"),
    "forest": ("train_forest.py", "RandomForest, 40 trees, 150k x 20 synthetic"),
    "als": ("train_als.py", "implicit ALS, 512 factors x 30 iterations, MovieLens-100k"),
}
FRACTIONS = [0.01, 0.02, 0.05, 0.1]
# One thread per job: on a small shared machine, multi-threaded (OpenMP) runs are slowed down
# several times over whenever another process holds a core, which measures the neighbours,
# not the job (see docs/calibrate.md). Use --threads 0 to let each library use every CPU.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def command(name: str, threads: int) -> list[str]:
    script, _ = WORKLOADS[name]
    argv = [sys.executable, str(EXAMPLES / script), "--fraction", "{fraction}"]
    return argv + (["--threads", str(threads)] if threads else [])


def bench(name: str, actual_repeats: int, threads: int) -> dict[str, object]:
    started = time.perf_counter()
    plan = CalibrationPlan(command=command(name, threads), fractions=FRACTIONS, repeats=2)
    result = run_plan(plan, target_fraction=1.0)
    calib_s = time.perf_counter() - started
    full = [a.replace("{fraction}", "1.0") for a in command(name, threads)]
    actuals = []
    for _ in range(actual_repeats):
        m = measure_command(full)
        if m.exit_code != 0:
            raise SystemExit(f"{name}: full run failed ({m.exit_code}): {m.stderr_tail}")
        actuals.append(m)
    actual = sorted(a.wall_s for a in actuals)[len(actuals) // 2]
    actual_rss = max(a.peak_rss_mb for a in actuals)
    p = result.seconds.prediction
    mem = result.memory.prediction
    return {
        "workload": name, "what": WORKLOADS[name][1], "calibration_s": calib_s,
        "model": result.seconds.curve.model, "parameters": result.seconds.curve.parameters(),
        "p10": p.p10, "p50": p.p50, "p90": p.p90, "actual_s": actual,
        "actual_runs_s": [a.wall_s for a in actuals],
        "p50_error": p.p50 / actual - 1, "inside": p.p10 <= actual <= p.p90,
        "rss_p50_mb": mem.p50, "rss_p90_mb": mem.p90, "actual_rss_mb": actual_rss,
        "rss_error": mem.p50 / actual_rss - 1,
        "largest_calibration_run_s": max(r.wall_s for r in result.runs if not r.warmup),
        "warnings": result.warnings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    parser.add_argument("--actual-repeats", type=int, default=1, help="full runs per workload")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per job (0 = the libraries' default, all CPUs)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    if "als" in names and importlib.util.find_spec("recbole") is None:
        print("skip als: recbole (which ships MovieLens-100k) is not installed")
        names.remove("als")
    os.environ.setdefault("MLSCOPE_HOME", tempfile.mkdtemp(prefix="mlscope-bench-"))
    if args.threads:
        for var in THREAD_VARS:
            os.environ[var] = str(args.threads)
    print(f"machine: {available_cpus()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
          f"fractions {FRACTIONS} x 2 repeats (+1 warm-up, + extra where runs disagree), "
          f"target 1.0, {args.threads or 'all'} thread(s) per job")
    rows = []
    for name in names:
        row = bench(name, args.actual_repeats, args.threads)
        rows.append(row)
        print(f"  done {name}: calibration {row['calibration_s']:.0f} s, "
              f"full run {row['actual_s']:.1f} s", flush=True)
    header = (f"{'workload':8} {'model':8} {'P10 s':>7} {'P50 s':>7} {'P90 s':>7} "
              f"{'actual s':>8} {'P50 err':>8} {'inside':>6} {'RSS P50':>8} {'RSS act':>8}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['workload']:8} {r['model']:8} {r['p10']:7.1f} {r['p50']:7.1f} {r['p90']:7.1f} "
              f"{r['actual_s']:8.1f} {r['p50_error']:+8.0%} {'yes' if r['inside'] else 'NO':>6} "
              f"{r['rss_p50_mb']:7.0f}M {r['actual_rss_mb']:7.0f}M")
    within = sum(abs(float(r["p50_error"])) <= 0.25 for r in rows)  # type: ignore[arg-type]
    inside = sum(bool(r["inside"]) for r in rows)
    print(f"P50 within +-25 %: {within}/{len(rows)}; actual inside [P10, P90]: "
          f"{inside}/{len(rows)}; load average {os.getloadavg()[0]:.1f} at end")
    for r in rows:
        for w in r["warnings"]:  # type: ignore[attr-defined]
            print(f"  warning ({r['workload']}): {w}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
