"""Small real training scripts for the calibrate CLI tests."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

# Least-squares regression by gradient descent on round(fraction * 40,000) synthetic rows:
# real training whose cost grows with the rows, fast enough for unit tests.
NUMPY_TRAIN = textwrap.dedent("""
    import os, sys
    import numpy as np
    fraction = float(sys.argv[1]) if len(sys.argv) > 1 else float(os.environ["MLSCOPE_FRACTION"])
    log = os.environ.get("TRAIN_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{fraction}\\n")
    fail_at = os.environ.get("TRAIN_FAIL_AT")
    if fail_at and abs(fraction - float(fail_at)) < 1e-12:
        sys.exit("training diverged: loss is nan")
    rng = np.random.default_rng(0)
    n = max(10, round(fraction * 40_000))
    X = rng.normal(size=(n, 20)); y = X @ rng.normal(size=20) + rng.normal(size=n)
    w = np.zeros(20)
    for _ in range(60):
        w -= 0.1 * X.T @ (X @ w - y) / n
    print("mse", float(np.mean((X @ w - y) ** 2)))
""")


@pytest.fixture
def train_script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(NUMPY_TRAIN)
    return path


@pytest.fixture
def python() -> str:
    return sys.executable
