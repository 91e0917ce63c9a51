"""Measure implicit's ALS throughput on this machine: seconds per rating x factor per sweep.

The analytic ALS estimator (mlscope.estimate.als) uses this constant as its prior. Synthetic
ratings (seeded), 3 sweeps, 1 and 2 threads. Run: .venv/bin/python benchmarks/als_throughput.py
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp


def main() -> None:
    import implicit

    rng = np.random.default_rng(0)
    users, items, nnz, sweeps = 200_000, 20_000, 5_000_000, 3
    rows, cols = rng.integers(0, users, nnz), rng.integers(0, items, nnz)
    m = sp.csr_matrix((np.ones(nnz, dtype=np.float32), (rows, cols)), shape=(users, items))
    print(f"{users:,} users x {items:,} items, {m.nnz:,} ratings, {sweeps} sweeps")
    for factors in (64, 128):
        for threads in (1, 2):
            model = implicit.cpu.als.AlternatingLeastSquares(
                factors=factors, iterations=sweeps, num_threads=threads, random_state=0,
                calculate_training_loss=False)
            t0 = time.perf_counter()
            model.fit(m, show_progress=False)
            dt = time.perf_counter() - t0
            per = dt * threads / (m.nnz * factors * sweeps)
            print(f"factors={factors:4d} threads={threads}: {dt:6.2f} s   "
                  f"{per:.2e} s per rating-factor-sweep per thread")


if __name__ == "__main__":
    main()
