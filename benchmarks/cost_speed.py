"""Speed of `mlscope cost`: a 3-environment spec over 12 months with 10,000 Monte Carlo draws.

Target: under 2 s on the development machine. Prints measured figures (cold = first run in the
process, schedules not yet simulated; warm = schedule simulations cached).

    .venv/bin/python benchmarks/cost_speed.py
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlscope.costs.runrate import estimate_costs
from mlscope.costs.schedules.simulate import simulate_month
from mlscope.spec.loader import load_spec_text

SPEC = """\
project: {name: bench, region: us-east-1}
training: {instance: m6i.8xlarge, runs_per_month: 4.3}
environments:
  - name: dev
    schedule: "off=[(M-F,19),(S,14)];on=[(M-F,7),(S,10)];tz=pt"
    holidays: [2027-01-01, 2027-05-31, 2027-07-05, 2027-09-06, 2027-11-25, 2027-12-24]
    resources:
      - {kind: notebook, name: ds, instance: ml.t3.medium, count: 6, idle_stop_minutes: 60,
         active_hours_per_day: [3, 7]}
      - {kind: notebook, name: gpu, instance: ml.g4dn.xlarge, idle_stop_minutes: 60,
         active_hours_per_day: [1, 4]}
      - {kind: ec2, name: devbox, instance: m5.xlarge, count: 2}
      - {kind: training, name: experiments, instance: ml.m5.4xlarge, hours_per_run: [0.5, 2],
         runs_per_month: [10, 30], rerun_rate: 0.1, spot: true, spot_overhead: [0.05, 0.3]}
      - {kind: storage, name: scratch, gb: 200, growth_gb_per_month: [10, 50]}
  - name: qa
    schedule:
      timezone: Europe/Berlin
      periods:
        - {begintime: "08:00", endtime: "18:00", weekdays: mon-fri}
    resources:
      - {kind: endpoint, name: api-qa, instance: ml.c5.xlarge, min_instances: 1}
      - {kind: batch, name: simulation, instance: ml.m5.xlarge, hours_per_month: [20, 60]}
      - {kind: notebook, name: qa-nb, instance: ml.t3.medium}
  - name: prod
    resources:
      - {kind: training, name: retrain, instance: ml.r5.4xlarge, hours_per_run: [3, 6],
         rerun_rate: 0.1}
      - {kind: endpoint, name: api, instance: ml.c5.2xlarge, min_instances: 2,
         max_instances: 6, typical_instances: 3}
      - {kind: ecs_service, name: features, instance: m5.large, min_instances: 2,
         max_instances: 4}
      - {kind: mwaa, name: airflow, workers: [1, 3]}
      - {kind: storage, name: lake, gb: 2000, growth_pct_per_month: [2, 4]}
      - {kind: storage, name: artifacts, gb: 50, growth_gb_per_month: [5, 15]}
      - {kind: transfer, name: egress, direction: internet-out, gb_per_month: [300, 900]}
      - {kind: transfer, name: cross-az, direction: cross-az, gb_per_month: [100, 500]}
budget: {monthly_usd: 3000}
"""
DRAWS = 10_000
MONTHS = 12
REPEATS = 5


def main() -> None:
    spec = load_spec_text(SPEC)
    lines = sum(len(e.resources) for e in spec.environments)
    timings = []
    for i in range(REPEATS):
        if i == 0:
            simulate_month.cache_clear()
        start = time.perf_counter()
        report = estimate_costs(spec, (2027, 1), MONTHS, draws=DRAWS, seed=0)
        timings.append(time.perf_counter() - start)
    horizon = report["total"]["horizon"]
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"spec: {len(spec.environments)} environments, {lines} resources, {MONTHS} months, "
          f"{DRAWS:,} draws (seed 0)")
    print(f"cold run (schedules simulated hour by hour): {timings[0]:.3f} s")
    print(f"warm runs: median {statistics.median(timings[1:]):.3f} s, "
          f"min {min(timings[1:]):.3f} s over {REPEATS - 1}")
    print(f"12-month total: P10 ${horizon['p10']:,.0f}  P50 ${horizon['p50']:,.0f}  "
          f"P90 ${horizon['p90']:,.0f}; P(any month over $3,000) "
          f"{report['budget']['any_month_overrun_probability']:.1%}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mlscope.yaml"
        path.write_text(SPEC)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlscope", "cost", str(path), "--month", "2027-01",
                        "--months", str(MONTHS), "--draws", str(DRAWS), "--json"],
                       check=True, capture_output=True)
        cli = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"whole CLI (`mlscope cost FILE --months 12 --json`, new process): {cli:.3f} s wall, "
          f"{cpu:.3f} s CPU (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    verdict = "PASS" if timings[0] < 2.0 else "FAIL"
    print(f"target < 2 s (cold, in process): {verdict}; whole CLI wall "
          f"{'PASS' if cli < 2.0 else 'FAIL'}, CPU {'PASS' if cpu < 2.0 else 'FAIL'}")


if __name__ == "__main__":
    main()
