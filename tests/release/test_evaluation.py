from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mlscope.errors import InputError
from mlscope.release.artifact import RecommenderArtifact
from mlscope.release.evaluation import (
    EvalRequest,
    evaluate,
    ndcg_at_k,
    precision_at_k,
    read_requests,
    write_requests,
)
from mlscope.release.qa_simulation import simulate


def _artifact(n_items: int = 20) -> RecommenderArtifact:
    # User u1 likes low item numbers (scores fall with the index), u2 the reverse.
    items = np.linspace(1, 0, n_items, dtype=np.float32).reshape(-1, 1)
    items = np.hstack([items, 1 - items])
    users = np.array([[1, 0], [0, 1]], dtype=np.float32)
    ids = [f"i{j}" for j in range(n_items)]
    return RecommenderArtifact(["u1", "u2"], ids, users, items, ids)


def test_metric_definitions() -> None:
    assert precision_at_k(["a", "b", "c"], {"a", "c"}, 10) == pytest.approx(0.2)
    perfect = ndcg_at_k(["a", "b"], {"a", "b"}, 10)
    assert perfect == pytest.approx(1.0)
    swapped = ndcg_at_k(["x", "a"], {"a"}, 10)
    assert swapped == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["x"], set(), 10) == 0.0


def test_evaluate_orders_models_correctly() -> None:
    art = _artifact()
    good = [EvalRequest("u1", ["i0", "i1"], []), EvalRequest("u2", ["i19"], [])]
    res = evaluate(art, good)
    assert res.values["ndcg_at_10"] == [pytest.approx(1.0), pytest.approx(1.0)]
    # Excluded items are skipped, so the relevant item moves up.
    excluded = evaluate(art, [EvalRequest("u1", ["i2"], ["i0", "i1"])])
    assert excluded.mean("ndcg_at_10") == pytest.approx(1.0)
    unknown = evaluate(art, [EvalRequest("nobody", ["i0"], [])])
    assert unknown.mean("precision_at_10") == 0.0


def test_requests_round_trip_and_errors(tmp_path: Path) -> None:
    reqs = [EvalRequest("u1", ["i0"], ["i3"]), EvalRequest("u2", [], [])]
    path = write_requests(reqs, tmp_path / "r.jsonl")
    assert read_requests(path) == reqs
    with pytest.raises(InputError, match="does not exist"):
        read_requests(tmp_path / "missing.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"user": 1}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:1"):
        read_requests(tmp_path / "bad.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(InputError, match="empty"):
        read_requests(tmp_path / "empty.jsonl")


def test_simulation_counts_errors_and_fallbacks() -> None:
    art = _artifact()
    reqs = [EvalRequest("u1", ["i0"], ["i5"]), EvalRequest("ghost", ["i0"], [])]
    ok = simulate(art, reqs, k=10)
    assert (ok.requests, ok.errors, ok.fallbacks) == (2, 0, 1)
    assert ok.fallback_rate == 0.5 and 0 <= ok.p50_ms <= ok.p99_ms
    broken = _artifact()
    broken.item_factors[3] = np.nan  # a corrupt factor row: scores become NaN
    bad = simulate(broken, [EvalRequest("u1", [], [])], k=20)
    assert bad.errors == 1 and "non-finite" in bad.error_examples[0]
    assert simulate(art, reqs, max_requests=1).requests == 1
