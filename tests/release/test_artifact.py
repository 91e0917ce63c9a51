from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlscope.release.artifact import RecommenderArtifact


def _artifact() -> RecommenderArtifact:
    users = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    items = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], dtype=np.float32)
    return RecommenderArtifact(["u1", "u2"], ["a", "b", "c"], users, items, ["c", "b", "a"],
                               {"version": 3})


def test_roundtrip_and_ranking(tmp_path: Path) -> None:
    art = _artifact()
    art.save(tmp_path / "m")
    back = RecommenderArtifact.load(tmp_path / "m")
    assert back.meta == {"version": 3}
    assert [i for i, _ in back.recommend("u1", k=2)] == ["a", "b"]
    assert [i for i, _ in back.recommend("u2", k=2, exclude={"c"})] == ["b", "a"]
    assert back.popular(2) == ["c", "b"]
    with pytest.raises(KeyError):
        back.recommend("nobody")


def test_shape_mismatch_rejected() -> None:
    with pytest.raises(ValueError):
        RecommenderArtifact(["u1"], ["a"], np.zeros((2, 2), np.float32),
                            np.zeros((1, 2), np.float32), ["a"])
