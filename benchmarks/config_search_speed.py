"""Speed of the config search over the whole catalog (issue 2: well under a second).

Every instance type with an accelerator (EC2 and SageMaker) x 10 node counts x all four
purchase options x every region, with the memory check. Prints the median of 7 runs.
Run: .venv/bin/python benchmarks/config_search_speed.py
"""

from __future__ import annotations

import statistics
import time

from mlscope.estimate.recommend import search
from mlscope.estimate.shapes import zoo_model
from mlscope.estimate.training import TrainingSetup
from mlscope.pricing import PURCHASE_OPTIONS


def main() -> None:
    setup = TrainingSetup(zoo_model("llama-2-13b"), 2e12)
    search(setup, deadline_hours=24 * 14)  # warm caches (catalog load, utilization fit)
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        rec = search(setup, deadline_hours=24 * 14, budget_usd=2e6,
                     purchases=list(PURCHASE_OPTIONS))
        times.append(time.perf_counter() - t0)
    print(f"configurations searched: {rec.searched:,} ({rec.feasible:,} fit in memory), "
          f"Pareto front: {len(rec.options)}")
    print(f"median time: {statistics.median(times) * 1000:.1f} ms   "
          f"min {min(times) * 1000:.1f} ms   max {max(times) * 1000:.1f} ms (7 runs)")


if __name__ == "__main__":
    main()
