"""Accuracy of `mlscope calibrate --budget`: predict full training jobs it has not seen run.

Six real workloads (examples/calibrate/), each repeated: the full job is timed, then
`mlscope calibrate --budget B --json` (the CLI contract, as a subprocess) predicts it, with
B = `--budget-share` (default 25 %, the most issue 12 allows) of that repetition's full-run
time. `--budget` covers the whole calibration (mlscope's own start-up, the fixed-cost runs,
the growing sizes, the fit), and "calib" is the calibration subprocess's whole wall time over
the full run's. Printed per run: actual, P50, [P10, P90], P50 error, inside, width P90/P10,
calib, and "drift": a fixed probe task's time just before the calibration over its time just
before the full run (the VM's own speed change between them). Targets (issue 12): P50 within
+-25 % in >= 85 % of runs, actual inside [P10, P90] in >= 85 %, median P90/P10 <= 2.5,
calibration <= 25 %.

    nice .venv/bin/python benchmarks/calibrate_accuracy.py [--only svc,hgb] [--repeats 3]

One thread per job (OMP/BLAS = 1): on a small shared machine a multi-threaded job measures
its neighbours. The load average is printed with each run: quote it with the results.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from mlscope.estimate.empirical.measure import ProcessMeasurement, measure_command

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "calibrate"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# glibc keeps freed memory for reuse instead of returning it to the kernel. Why: this machine
# is a Firecracker VM whose balloon driver hands free guest pages back to the host about 2 s
# after they are freed, and touching such a page again costs a host fault. Measured
# 2026-12-02: allocating 4 GB took 56 s (48 s system time) on a cold guest, 1.1 s straight
# after a run that had freed it, 56 s again 30 s later. A job whose numpy temporaries are freed
# and reallocated more than 2 s apart (the large sizes, not the small ones) then pays ~14 s per
# GB of churn: LogisticRegression at 450k rows spent 10.0 s in the kernel by default, 2.9 s
# with these settings (wall 24.5 -> 17.2 s). That cost belongs to the host, not to the job (a
# machine without such a balloon does not pay it), and it grows with the size in steps no
# small run shows: the benchmark removes it from the full runs and the calibrations alike
# (`--default-allocator` keeps it; mlscope then warns about the kernel time).
ALLOCATOR_VARS = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(10 ** 11)}


@dataclass(frozen=True)
class Workload:
    name: str
    what: str
    script: str
    args: tuple[str, ...]
    axis: str = "fraction"
    target_iterations: int | None = None  # the full job's iterations (trees, rounds, epochs)

    def argv(self, placeholder: str) -> list[str]:
        base = [sys.executable, str(EXAMPLES / self.script), *self.args]
        if self.axis == "iterations":
            return [*base, "--iterations", placeholder]
        iterations = ("--iterations", str(self.target_iterations)) if self.target_iterations else ()
        return [*base, *iterations, "--fraction", placeholder]

    def along_iterations(self) -> Workload:
        """The same job calibrated along its iterations at full data (`--axis iterations`)."""
        if self.target_iterations is None:
            raise SystemExit(f"{self.name} has no iterations axis")
        return replace(self, axis="iterations")


# Full jobs of about 140-170 s each on this machine when it is quiet (1 thread): long enough
# that Python + scikit-learn start-up (1.5-2.5 s here) is under ~1.7 % of the job, so that a
# 25 % budget affords the fixed-cost run and several growing sizes. The fixed cost's share
# decides what a 25 % budget can do (benchmarks/calibrate_simulated.py, exact power laws at
# 3 % noise, 2026-12-02: P50 within 25 % for 15/60 laws at a 2.5 s fixed cost of a 55 s job,
# 50/60 of a 120 s job, 55/60 of a 150 s job); calibration is meant for jobs of minutes to
# hours, where that share is smaller still. Each row records it (`fixed_share`). The VM under
# this benchmark changes between sessions (session 5: SVC 75k rows 56-58 s; session 6: 100k
# rows 141-178 s; session 7: 75k rows 81 s), so the sizes are re-set for each: session 7 grew
# every job to the range above (svc 75k -> 100k rows, forest 400k -> 600k, hgb 3M -> 4.5M,
# ALS 1024 -> 1536 factors and 60 -> 160 iterations, MLP 700k -> 2.8M, linear 3M -> 6M).
# The forest, the boosting and the MLP run on the rows axis: along their iterations every run
# pays the full data's generation and preparation (measured 2026-12-02: 1 boosting round at
# 1.5M rows took 15.5 s of a 57 s job, so a 25 % budget affords no second size; the forest,
# ~5 s a tree-run of a 124-137 s job, reached 1-2 trees and missed by +38 % once). `--iterations`
# calibrates those named along their iterations anyway.
WORKLOADS = [
    # Session 10's VM (as session 9's): 44k rows 49 s, 60k 194 s (CPU of the fit alone), so
    # 100k rows would take many minutes: 54k (sessions 7-8's VMs: 100k rows in 103-148 s).
    Workload("svc", "SVC (RBF kernel), 54k x 20 synthetic: superlinear", "train_svc.py",
             ("--rows", "54000")),
    Workload("forest", "RandomForest, 40 trees, 600k x 20 synthetic", "train_forest.py",
             ("--rows", "600000", "--threads", "1"), target_iterations=40),
    Workload("hgb", "HistGradientBoosting, 100 rounds, 4.5M x 40", "train_hgb.py",
             ("--rows", "4500000", "--threads", "1"), target_iterations=100),
    Workload("als", "implicit ALS, 1536 factors, 160 iterations, MovieLens-100k; --axis "
             "iterations", "train_als.py", ("--factors", "1536", "--threads", "1"),
             "iterations", 160),
    Workload("mlp", "numpy MLP 64-256-10, 32 epochs of SGD, 2.8M rows", "train_mlp.py",
             ("--rows", "2800000"), target_iterations=32),
    Workload("linear", "LogisticRegression (lbfgs, multinomial), 6M x 40, 30 classes",
             "train_linear.py", ("--rows", "6000000")),
    # Three more superlinear jobs (session 10), none of them tuned for: is SVC's miss the rule
    # for superlinear laws or its own? Sized on session 9-10's VM (1 thread): KernelRidge 12k
    # rows 25 s, 24k 140 s (13.7 GB); brute-force kNN 40k 10 s, 160k 114 s; Ward 16k 16 s,
    # 30k 88 s (7.2 GB).
    Workload("krr", "KernelRidge (RBF), 22k x 20: n^2 kernel + n^3 solve", "train_krr.py",
             ("--rows", "22000")),
    Workload("knn", "kNN by brute force, scored on its 160k x 30 training set: n^2",
             "train_knn.py", ("--rows", "160000")),
    Workload("ward", "Ward agglomerative clustering, 30k x 10: n^2 time and memory",
             "train_ward.py", ("--rows", "30000")),
]


def calibrate(w: Workload, budget_s: float, seed: int) -> tuple[dict[str, object] | None, float,
                                                                str]:
    cmd = [sys.executable, "-m", "mlscope", "calibrate", "--budget", f"{budget_s:.1f}s",
           "--seed", str(seed), "--json"]
    if w.axis == "iterations":
        cmd += ["--axis", "iterations", "--target-iterations", str(w.target_iterations)]
    cmd += ["--", *w.argv("{iterations}" if w.axis == "iterations" else "{fraction}")]
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if out.returncode != 0:  # a miss, not the end of the benchmark: counted and shown
        return None, took, (out.stderr.strip().splitlines() or ["(no stderr)"])[-1]
    return json.loads(out.stdout), took, ""


def wall_basis(out: dict[str, object]) -> dict[str, float]:
    """The same runs fitted on wall seconds instead (for comparison with the CPU basis)."""
    from mlscope.estimate.empirical.result import Run, analyze

    runs = [Run.from_dict(r) for r in out["runs"]]  # type: ignore[attr-defined]
    result = analyze([], runs, fixed_level=0.001, basis="wall",
                     target_iterations=out.get("target_iterations"))  # type: ignore[arg-type]
    return result.seconds.prediction.to_dict()


def speed_probe() -> float:
    """Seconds of a fixed CPU-and-memory task (fastest of 3): timed before each full run and
    before its calibration, so that the VM's own speed change between the two (tens of
    percent within minutes on this VM, the notes) is measured beside each row's error."""
    import numpy as np

    data = np.random.default_rng(0).random(6_000_000)
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        np.sort(data)
        sum(i * i for i in range(1_000_000))
        best = min(best, time.perf_counter() - started)
    return best


def full_run(w: Workload) -> ProcessMeasurement:
    value = str(w.target_iterations) if w.axis == "iterations" else "1.0"
    m = measure_command(w.argv(value))
    if m.exit_code != 0:
        raise SystemExit(f"{w.name}: full run failed ({m.exit_code}): {m.stderr_tail}")
    return m


def host() -> str:
    """CPU model, vector extensions and caches: the same job's law and speed changed between
    the VMs this benchmark ran on (SVC 57 s one day, 141-175 s the next; the note)."""
    info = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in info
                  if line.startswith("model name")), "unknown CPU")
    flags = set(next((line.split(":", 1)[1].split() for line in info
                      if line.startswith("flags")), []))
    model += " (" + " ".join(f"{f} {'yes' if f in flags else 'no'}"
                             for f in ("avx2", "avx512f")) + ")"
    caches = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind = (index / "level").read_text().strip(), (index / "type").read_text()
            if kind.strip() != "Instruction":
                caches.append(f"L{level} {(index / 'size').read_text().strip()}")
        except OSError:
            continue
    return f"{model}; {', '.join(caches) or 'caches unknown'}"


def cpu_prediction(out: dict[str, object]) -> dict[str, float]:
    """The same runs' CPU seconds fitted and predicted (what the load affects least)."""
    from mlscope.estimate.empirical.fit import ITERATIONS_PRIOR, ROWS_PRIOR, fit_and_predict

    runs = [r for r in out["runs"]  # type: ignore[attr-defined]
            if not r["warmup"] and r["threads"] is None and not r["over_budget"]]
    stopped = [(r["fraction"], r["cpu_s"]) for r in out["runs"]  # type: ignore[attr-defined]
               if r["over_budget"] and r["threads"] is None and r["cpu_s"] > 0]
    fixed = next((r["fraction"] for r in runs if r["fixed"]), None)
    fit = fit_and_predict([r["fraction"] for r in runs], [max(r["cpu_s"], 1e-3) for r in runs],
                          1.0, "cpu_seconds", fixed_level=fixed, censored=stopped,
                          prior=ITERATIONS_PRIOR if out.get("target_iterations")
                          else ROWS_PRIOR)
    return fit.prediction.to_dict()


def _basis_text(fit: dict[str, object]) -> str:
    ratio = fit.get("wall_per_cpu")
    return f"cpu ({ratio['ratio']:.2f})" if isinstance(ratio, dict) else str(fit.get("basis"))


def _sizes(out: dict[str, object]) -> str:
    """The growing sizes measured (iterations on that axis), and the fixed-cost runs."""
    runs = [r for r in out["runs"] if not r["warmup"]]  # type: ignore[attr-defined]
    fixed = sum(1 for r in runs if r["fixed"])
    grown = sorted({r["iterations"] if r["iterations"] is not None else r["fraction"]
                    for r in runs if not r["fixed"] and not r["over_budget"]})
    stopped = [r["iterations"] if r["iterations"] is not None else r["fraction"]
               for r in runs if r["over_budget"]]
    return f"{fixed}F+" + ",".join(f"{g:g}" for g in grown) + "".join(
        f",>{s:g}" for s in stopped)  # >x: stopped at the budget's end, a lower bound


def _fixed_share(out: dict[str, object], actual: float) -> float | None:
    """The fastest fixed-cost run over the full run: what limits a 25 % budget's reach."""
    fixed = [r["wall_s"] for r in out["runs"]  # type: ignore[attr-defined]
             if r["fixed"] and not r["warmup"]]
    return min(fixed) / actual if fixed else None


def _percent(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "-"


def _bytecode_cached() -> bool:
    spec = importlib.util.find_spec("sklearn")
    origin = spec.origin if spec else None
    return origin is None or Path(importlib.util.cache_from_source(origin)).exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", default=",".join(w.name for w in WORKLOADS))
    parser.add_argument("--repeats", type=int, default=3, help="repetitions per workload")
    parser.add_argument("--budget-share", type=float, default=0.25,
                        help="calibration budget as a share of the full run's time")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--iterations", default="",
                        help="workloads to calibrate along their iterations at full data "
                             "(forest, hgb, mlp) instead of on a share of their rows")
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's malloc settings as they are (see ALLOCATOR_VARS)")
    args = parser.parse_args()
    along = set(filter(None, args.iterations.split(",")))
    chosen = [w.along_iterations() if w.name in along else w for w in WORKLOADS
              if w.name in args.only.split(",")]
    if any(w.name == "als" for w in chosen) and importlib.util.find_spec("recbole") is None:
        print("skip als: recbole (which ships MovieLens-100k) is not installed")
        chosen = [w for w in chosen if w.name != "als"]
    os.environ.setdefault("MLSCOPE_HOME", tempfile.mkdtemp(prefix="mlscope-bench-"))
    for var in THREAD_VARS:
        os.environ[var] = "1"
    if not args.default_allocator:
        os.environ.update(ALLOCATOR_VARS)
    if not _bytecode_cached():
        print("note: scikit-learn's modules have no compiled bytecode here (e.g. "
              "PYTHONDONTWRITEBYTECODE=1), so every run re-compiles them and the fixed cost is "
              "~3x a normal install's; run `python -m compileall -q .venv` first", flush=True)
    print(f"{os.cpu_count()} CPUs, niceness {os.nice(0)}, load average "
          f"{os.getloadavg()[0]:.1f} at start; budget {args.budget_share:.0%} of each full run; "
          f"{args.repeats} repetitions; 1 thread per job; allocator "
          f"{'default' if args.default_allocator else 'keeps freed memory'}; {host()}",
          flush=True)
    header = (f"{'workload':8} {'rep':>3} {'actual':>7} {'P50':>7} {'[P10, P90]':>17} "
              f"{'error':>7} {'inside':>6} {'P90/P10':>7} {'calib':>6} {'k':>5} {'RSS err':>7} "
              f"{'CPU err':>7} {'in':>3} {'F/T':>5} {'drift':>5} {'load':>5}  "
              "basis (wall/CPU) sizes")
    print(header)
    print("-" * len(header), flush=True)
    rows = []
    for w in chosen:
        for rep in range(args.repeats):
            probe_full = speed_probe()
            full = full_run(w)
            actual, actual_rss, actual_cpu = full.wall_s, full.peak_rss_mb, full.cpu_s
            drift = speed_probe() / probe_full  # > 1: the VM is slower for the calibration
            out, took, error = calibrate(w, args.budget_share * actual, rep)
            if out is None:
                rows.append({"workload": w.name, "rep": rep + 1, "actual_s": actual,
                             "error": float("inf"), "inside": False, "width": float("inf"),
                             "calibration_share": took / actual, "failed": error,
                             "speed_drift": drift,
                             "load": os.getloadavg()[0], "warnings": [],
                             "wall_basis_error": float("inf"), "wall_basis_inside": False,
                             "basis": "-", "cpu_error": float("inf"), "cpu_inside": False})
                print(f"{w.name:8} {rep + 1:>3} {actual:7.1f}  no prediction ({error}) "
                      f"calib {took / actual:.0%}, load {os.getloadavg()[0]:.1f}", flush=True)
                continue
            p = out["predicted_seconds"]
            assert isinstance(p, dict)
            fit = out["fit"]
            assert isinstance(fit, dict)
            wall = wall_basis(out)
            cpu = cpu_prediction(out)
            rss = out["predicted_peak_rss_mb"]
            assert isinstance(rss, float)
            row = {"workload": w.name, "axis": w.axis, "rep": rep + 1, "actual_s": actual,
                   "p10": p["p10"],
                   "p50": p["p50"], "p90": p["p90"], "error": p["p50"] / actual - 1,
                   "inside": p["p10"] <= actual <= p["p90"], "width": p["p90"] / p["p10"],
                   "calibration_share": took / actual,
                   "fixed_share": _fixed_share(out, actual),
                   "exponent": fit["exponent_at_target"]["p50"],
                   "rss_error": rss / actual_rss - 1, "load": os.getloadavg()[0],
                   "plan": out["plan"], "warnings": out["warnings"],
                   "basis": fit["basis"], "wall_basis": wall,
                   "wall_basis_error": wall["p50"] / actual - 1,
                   "wall_basis_inside": wall["p10"] <= actual <= wall["p90"],
                   "actual_cpu_s": actual_cpu, "actual_system_s": full.system_s,
                   "cpu_prediction": cpu,
                   "cpu_error": cpu["p50"] / actual_cpu - 1,
                   "cpu_inside": cpu["p10"] <= actual_cpu <= cpu["p90"],
                   "speed_drift": drift, "runs": out["runs"]}
            rows.append(row)
            print(f"{w.name:8} {rep + 1:>3} {actual:7.1f} {p['p50']:7.1f} "
                  f"[{p['p10']:6.1f}, {p['p90']:6.1f}] {row['error']:+7.0%} "
                  f"{'yes' if row['inside'] else 'NO':>6} {row['width']:7.2f} "
                  f"{row['calibration_share']:6.0%} {row['exponent']:5.2f} "
                  f"{row['rss_error']:+7.0%} {row['cpu_error']:+7.0%} "
                  f"{'yes' if row['cpu_inside'] else 'NO':>3} "
                  f"{_percent(row['fixed_share']):>5} {drift:5.2f} {row['load']:5.1f}  "
                  f"{_basis_text(fit)} {_sizes(out)}", flush=True)
    n = len(rows)
    within = sum(abs(r["error"]) <= 0.25 for r in rows)  # type: ignore[arg-type]
    inside = sum(bool(r["inside"]) for r in rows)
    widths = [float(r["width"]) for r in rows]  # type: ignore[arg-type]
    shares = [float(r["calibration_share"]) for r in rows]  # type: ignore[arg-type]
    print(f"P50 within +-25 %: {within}/{n} ({within / n:.0%}); actual inside [P10, P90]: "
          f"{inside}/{n} ({inside / n:.0%}); median P90/P10 {statistics.median(widths):.2f}; "
          f"calibration / full run: median {statistics.median(shares):.0%}, max "
          f"{max(shares):.0%}; load average {os.getloadavg()[0]:.1f} at end")
    wall_within = sum(abs(r["wall_basis_error"]) <= 0.25 for r in rows)  # type: ignore[arg-type]
    wall_inside = sum(bool(r["wall_basis_inside"]) for r in rows)
    cpu_within = sum(abs(r["cpu_error"]) <= 0.25 for r in rows)  # type: ignore[arg-type]
    cpu_inside = sum(bool(r["cpu_inside"]) for r in rows)
    print(f"CPU seconds of the same runs vs the full run's CPU seconds (load-independent "
          f"check): P50 within +-25 % {cpu_within}/{n}, inside {cpu_inside}/{n}")
    print(f"same runs fitted on wall seconds instead: P50 within +-25 % {wall_within}/{n}, "
          f"inside {wall_inside}/{n}; basis used: "
          f"{', '.join(sorted({str(r['basis']) for r in rows}))}")
    for r in rows:
        for warning in r["warnings"]:  # type: ignore[attr-defined]
            print(f"  warning ({r['workload']} {r['rep']}): {warning}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
