"""Per-request CPU cost of the served recommender on this machine, and the instance choice.

Serves a random recommender at MovieLens-100k's size (943 users, 1,682 items, 64 factors; the
MLflow pyfunc the release engine ships) with the real prediction service on 127.0.0.1, sends
--requests sequential POST /recommend requests, and prints the measured CPU ms per request,
p50/p99 latency and the machine's load; repeats it --repeats times (the spread is the machine's
noise); then sizes the median measurement for --rps requests/s with --p99-ms on EC2 and
SageMaker CPU instances and prints the choice and monthly cost per purchase option.

    .venv/bin/python benchmarks/serving_cost.py [--requests 400] [--repeats 3] [--rps 200]
        [--p99-ms 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rps", type=float, default=200.0)
    parser.add_argument("--p99-ms", type=float, default=50.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.repeats <= 10:
        parser.error("--repeats must be 1-10")
    from mlscope.estimate.inference.classic import size_serving
    from mlscope.serving.loadtest import measure
    from mlscope.serving.synthetic import write_random_artifact

    with tempfile.TemporaryDirectory(prefix="mlscope-serving-cost-") as tmp:
        art = write_random_artifact(Path(tmp) / "rec", "1", users=943, items=1682, factors=64,
                                    seed=1)
        runs = [measure(art, requests=args.requests).to_dict() for _ in range(args.repeats)]
    runs_sorted = sorted(runs, key=lambda r: r["cpu_s_per_request"])
    median = runs_sorted[len(runs_sorted) // 2]
    sized = {svc: size_serving(median, args.rps, p99_ms=args.p99_ms, service=svc)
             for svc in ("ec2", "sagemaker")}
    if args.json:
        print(json.dumps({"runs": runs, "sized": sized}, indent=2, default=str))
        return 0
    mach = median["machine"]
    print(f"POST /recommend, {args.requests} sequential requests per run (after "
          f"{median['warmup']} warm-up), one uvicorn worker in-process, on "
          f"{mach['cpu_model']} x{mach['cpus']} (taken as '{mach['cpu_family']}')")
    print(f"{'run':>3} {'CPU ms/req':>10} {'p50 ms':>7} {'p99 ms':>7} {'wall s':>6} "
          f"{'load 1m':>7}")
    for i, r in enumerate(runs, 1):
        print(f"{i:>3} {r['cpu_s_per_request'] * 1000:>10.3f} {r['p50_ms']:>7.2f} "
              f"{r['p99_ms']:>7.2f} {r['wall_s']:>6.2f} {r['machine']['load_average_1m']:>7}")
    cpus = [r["cpu_s_per_request"] * 1000 for r in runs]
    walls = [r["p50_ms"] for r in runs]
    print(f"CPU ms/request: median {statistics.median(cpus):.3f}, spread "
          f"{min(cpus):.3f}-{max(cpus):.3f} ({(max(cpus) / min(cpus) - 1):.0%}); "
          f"p50 wall ms spread {min(walls):.2f}-{max(walls):.2f} "
          f"({(max(walls) / min(walls) - 1):.0%})")
    for svc, res in sized.items():
        _print_choice(svc, res, args)
    return 0


def _print_choice(svc: str, res: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n{svc}: {args.rps:g} requests/s average, p99 <= {args.p99_ms:g} ms, 60 % "
          "utilization, peak x3, min 2")
    print(f"  {'instance':<16} {'CPU ms':>7} {'n P10-P50-P90':>14} {'min-max':>8} "
          f"{'p99 ms':>7} {'$/mo od':>9} {'spot':>8} {'SP 1y':>8} {'SP 3y':>8}")
    for o in res["options"][:6]:
        m = o["monthly_usd"]
        n = o["instances"]

        def p50(key: str, m: dict[str, Any] = m) -> str:
            return f"{m[key]['p50']:,.0f}" if m.get(key) else "n/a"

        print(f"  {o['instance_type']:<16} {o['cpu_ms_per_request']['p50']:>7.3f} "
              f"{n['p10']:>4}-{n['p50']}-{n['p90']:<4} "
              f"{o['autoscaling']['min']:>3}-{o['autoscaling']['max']:<4} "
              f"{o['p99_ms'] or float('nan'):>7.2f} {p50('on-demand'):>9} {p50('spot'):>8} "
              f"{p50('savings-1y'):>8} {p50('savings-3y'):>8}")
    ch = res["choice"]
    if ch:
        od = ch["monthly_usd"]["on-demand"]
        print(f"  choice: {ch['instance_type']} x{ch['instances']['p50']} (autoscale "
              f"{ch['autoscaling']['min']}-{ch['autoscaling']['max']}), ${od['p50']:,.0f}/month "
              f"on-demand (${od['p10']:,.0f}-${od['p90']:,.0f})")
    else:
        print("  choice: none meets the target")


if __name__ == "__main__":
    sys.exit(main())
