"""Small random recommender models for tests, demos and the load benchmark (seeded).

`write_random_artifact` writes an MLflow pyfunc Model directory (the recommender wrapper around
random factors): the ranking means nothing, the format and interface are the real ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from mlscope.release.artifact import RecommenderArtifact


def random_artifact(version: str, *, users: int = 50, items: int = 200, factors: int = 16,
                    seed: int = 0) -> RecommenderArtifact:
    rng = np.random.default_rng(seed)
    item_ids = [f"i{j}" for j in range(items)]
    return RecommenderArtifact(
        user_ids=[f"u{i}" for i in range(users)], item_ids=item_ids,
        user_factors=rng.standard_normal((users, factors)).astype(np.float32),
        item_factors=rng.standard_normal((items, factors)).astype(np.float32),
        popular_items=list(rng.permutation(item_ids)),
        meta={"name": "synthetic", "version": version, "seed": seed})


def save_artifact(artifact: RecommenderArtifact, directory: Path) -> Path:
    from mlscope.release.pyfunc import save_recommender

    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    work = directory.with_name(directory.name + ".factors")
    save_recommender(artifact, work, directory, artifact.user_ids[:2])
    shutil.rmtree(work, ignore_errors=True)
    return directory


def write_random_artifact(directory: Path, version: str, **kwargs: int) -> Path:
    return save_artifact(random_artifact(version, **kwargs), directory)
