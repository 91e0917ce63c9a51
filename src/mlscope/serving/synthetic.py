"""Small random recommender artifacts for tests, demos and the load benchmark (seeded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlscope.release.artifact import RecommenderArtifact


def random_artifact(version: str, *, users: int = 50, items: int = 200, factors: int = 16,
                    seed: int = 0) -> RecommenderArtifact:
    """Random factors: the ranking means nothing, the shapes and file format are real."""
    rng = np.random.default_rng(seed)
    item_ids = [f"i{j}" for j in range(items)]
    return RecommenderArtifact(
        user_ids=[f"u{i}" for i in range(users)], item_ids=item_ids,
        user_factors=rng.standard_normal((users, factors)).astype(np.float32),
        item_factors=rng.standard_normal((items, factors)).astype(np.float32),
        popular_items=list(rng.permutation(item_ids)),
        meta={"name": "synthetic", "version": version, "seed": seed})


def write_random_artifact(directory: Path, version: str, **kwargs: int) -> Path:
    return random_artifact(version, **kwargs).save(directory)
