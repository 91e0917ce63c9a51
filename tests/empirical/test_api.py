"""`mlscope.calibrate(train_fn, data)`: in-process calibration and sampling of data types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import random as sparse_random

import mlscope
from mlscope.errors import InputError
from mlscope.estimate.empirical import sample_data


def fit_least_squares(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    w = np.zeros(X.shape[1])
    for _ in range(40):
        w -= 0.1 * X.T @ (X @ w - y) / len(y)


def test_calibrate_a_function_on_arrays() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 16))
    y = X @ rng.normal(size=16)
    result = mlscope.calibrate(fit_least_squares, (X, y), fractions=(0.02, 0.05, 0.1),
                               repeats=1, instances=["m6i.large"])
    out = result.to_dict()
    p = out["predicted_seconds"]
    assert 0 < p["p10"] <= p["p50"] <= p["p90"]
    assert out["command"] == ["python:fit_least_squares"]
    assert [r["threads"] for r in out["runs"]].count(1) == 1  # the serial check
    assert out["instances"][0]["instance_type"] == "m6i.large"
    # The prediction is of the right order: more than the largest measured run.
    largest = max(r["wall_s"] for r in out["runs"] if r["threads"] is None)
    assert p["p90"] > largest


@pytest.mark.parametrize("kind", ["numpy", "pandas", "list", "tuple", "dict", "sparse"])
def test_samples_keep_type_and_rows_and_are_nested(kind: str) -> None:
    base = np.arange(1000)
    data = {
        "numpy": base, "pandas": pd.DataFrame({"a": base}), "list": list(base),
        "tuple": (base, base * 2), "dict": {"x": base, "y": base * 2},
        "sparse": sparse_random(1000, 5, density=0.5, format="csr", random_state=0),
    }[kind]
    small, big = sample_data(data, 0.05, seed=4), sample_data(data, 0.1, seed=4)
    assert type(small) is type(data)
    if kind == "tuple":
        assert (small[1] == small[0] * 2).all() and len(small[0]) == 50
    elif kind == "dict":
        assert (small["y"] == small["x"] * 2).all() and len(small["x"]) == 50
    elif kind == "sparse":
        assert small.shape == (50, 5)
    else:
        rows = small["a"].tolist() if kind == "pandas" else list(small)
        more = big["a"].tolist() if kind == "pandas" else list(big)
        assert len(rows) == 50 and set(rows) <= set(more)


def test_api_rejects_bad_input() -> None:
    with pytest.raises(InputError):
        mlscope.calibrate(len, [1, 2, 3], fractions=(0.1,))
    with pytest.raises(InputError):
        mlscope.calibrate(len, [1, 2, 3], fractions=(0.1, 2.0))
    with pytest.raises(InputError, match="cannot sample"):
        sample_data(42, 0.5)
    with pytest.raises(InputError, match="different row counts"):
        sample_data({"a": np.arange(3), "b": np.arange(4)}, 0.5)


def test_import_mlscope_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, mlscope; print('numpy' in sys.modules, 'psutil' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
