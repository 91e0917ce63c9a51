"""Implicit-feedback ALS (the `implicit` library) on MovieLens-100k.

MovieLens may not be redistributed, so it is read from the installed recbole wheel, which
ships it (`pip install --no-deps recbole`). A fraction keeps a seeded share of the ratings.

    mlscope calibrate -- python examples/calibrate/train_als.py --fraction {fraction}
    mlscope calibrate --axis iterations --target-iterations 30 \
        -- python examples/calibrate/train_als.py --iterations {iterations}
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # implicit's advice: it threads itself

import numpy as np
from _common import parse
from implicit.als import AlternatingLeastSquares
from scipy.sparse import csr_matrix


def movielens_100k() -> Path:
    spec = importlib.util.find_spec("recbole")
    if spec is None or spec.origin is None:
        raise SystemExit("recbole is not installed: pip install --no-deps recbole")
    return Path(spec.origin).parent / "dataset_example" / "ml-100k" / "ml-100k.inter"


args = parse(__doc__ or "", rows=100_000, iterations=30, factors=512)
ratings = np.loadtxt(movielens_100k(), skiprows=1, usecols=(0, 1, 2), dtype=np.int64)
keep = np.random.default_rng(args.seed).random(len(ratings)) < args.fraction
users, items, stars = ratings[keep].T
matrix = csr_matrix((stars.astype(np.float32), (users, items)))
model = AlternatingLeastSquares(factors=args.factors, iterations=args.iterations,
                                regularization=0.05,
                                num_threads=args.threads, random_state=args.seed)
model.fit(matrix, show_progress=False)
print(f"ratings={keep.sum()} users={matrix.shape[0]} items={matrix.shape[1]}")
