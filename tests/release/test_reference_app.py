from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from mlscope.errors import EngineMissingError, InputError
from mlscope.release import reference_app
from mlscope.release.artifact import RecommenderArtifact
from mlscope.release.evaluation import read_requests
from mlscope.release.reference_app import (
    REQUESTS_FILE,
    SIGNATURE_FILE,
    Ratings,
    TrainConfig,
    load_ratings,
    save_version,
    temporal_split,
    train,
)


@pytest.fixture(scope="module")
def ratings() -> Ratings:
    return load_ratings()


def test_reads_movielens_from_recbole_wheel(ratings: Ratings) -> None:
    assert len(ratings.users) == 100_000
    assert ratings.data_version["rows"] == 100_000 and len(ratings.data_version["sha256"]) == 64
    assert "site-packages" in str(reference_app.movielens_dir())
    repo = Path(__file__).resolve().parents[2]
    assert not list((repo / "examples").rglob("*.inter")), "MovieLens must not be copied"


def test_missing_recbole_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "recbole" else real(name, *a))
    with pytest.raises(EngineMissingError) as err:
        reference_app.movielens_dir()
    assert "pip install --no-deps recbole" in err.value.one_line()


def test_temporal_split_holds_out_each_users_latest(ratings: Ratings) -> None:
    held = temporal_split(ratings, 0.1)
    assert 0.08 < held.mean() < 0.12
    for user in np.unique(ratings.users)[:50]:
        rows = ratings.users == user
        assert ratings.timestamps[rows & held].min() >= ratings.timestamps[rows & ~held].max()


def test_train_beats_popularity_and_saves(ratings: Ratings, tmp_path: Path) -> None:
    result = train(TrainConfig(factors=16, iterations=5), ratings)
    m = result.metrics
    assert 0 < m["precision_at_10"] <= 1 and 0 < m["ndcg_at_10"] <= 1
    assert m["rmse"] < m["rmse_baseline"] + 0.1 and 0.5 < m["rmse"] < 1.5
    # Personalised ranking must beat the popularity fallback on the same held-out requests.
    art = result.artifact
    popular_hits = np.mean([len(set(art.popular(10, set(r.exclude))) & set(r.relevant)) / 10
                            for r in result.requests])
    assert m["precision_at_10"] > popular_hits
    out = save_version(result, tmp_path / "v")
    back = RecommenderArtifact.load(out)
    assert back.meta["data_version"]["sha256"] == ratings.data_version["sha256"]
    assert read_requests(out / REQUESTS_FILE) == result.requests
    assert {s["name"] for s in json.loads(json.loads((out / SIGNATURE_FILE).read_text())
                                          ["inputs"])} == {"user_id", "k"}


def test_training_is_reproducible(ratings: Ratings) -> None:
    a = train(TrainConfig(factors=8, iterations=3, seed=4), ratings)
    b = train(TrainConfig(factors=8, iterations=3, seed=4), ratings)
    assert a.metrics == b.metrics


@pytest.mark.parametrize("cfg", [TrainConfig(factors=0), TrainConfig(iterations=0),
                                 TrainConfig(holdout_fraction=1.0), TrainConfig(alpha=0)])
def test_bad_config(cfg: TrainConfig) -> None:
    with pytest.raises(InputError):
        cfg.validate()


def test_bad_ratings_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.inter"
    bad.write_text("header\nnot numbers\n")
    with pytest.raises(InputError, match="cannot read"):
        load_ratings(bad)
