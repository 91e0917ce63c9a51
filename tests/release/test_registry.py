from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlscope.errors import InputError, UnknownNameError
from mlscope.release.artifact import RecommenderArtifact
from mlscope.release.registry import Registry


def _artifact_dir(tmp_path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    art = RecommenderArtifact(["u1", "u2"], ["a", "b", "c"],
                              rng.random((2, 4), dtype=np.float32),
                              rng.random((3, 4), dtype=np.float32), ["a", "b", "c"],
                              {"seed": seed})
    return art.save(tmp_path / f"art{seed}")


def test_register_alias_and_artifact(state: Path, tmp_path: Path) -> None:
    reg = Registry()
    assert reg.tracking_uri.endswith(str(state / "mlflow.db"))
    assert reg.alias_version("recs", "prod") is None
    run1 = reg.log_run(_artifact_dir(tmp_path, 1), params={"factors": 4, "password": "pw1"},
                       metrics={"ndcg_at_10": 0.1})
    run2 = reg.log_run(_artifact_dir(tmp_path, 2), metrics={"ndcg_at_10": 0.2})
    assert reg.register("recs", run1, author="alice@example.com") == 1
    assert reg.register("recs", run2, author="bob@example.com") == 2
    reg.set_alias("recs", "prod", 2)
    assert reg.alias_version("recs", "prod") == 2
    assert reg.alias_version("recs", "qa") is None
    info = reg.version("recs", 1)
    assert info.author == "alice@example.com" and info.metrics == {"ndcg_at_10": 0.1}
    assert info.params["password"] == "[REDACTED]"
    loaded = RecommenderArtifact.load(reg.artifact_dir("recs", 2))
    assert loaded.meta == {"seed": 2}
    assert str(state) in str(reg.artifact_dir("recs", 2))
    assert [v.version for v in reg.versions("recs")] == [1, 2]


def test_errors(state: Path) -> None:
    reg = Registry()
    with pytest.raises(InputError, match="no MLflow run"):
        reg.register("recs", "0" * 32, author="a")
    with pytest.raises(InputError, match="not valid"):
        reg.register("bad name!", "x", author="a")
    with pytest.raises(InputError, match="looks like a version"):
        reg.alias_version("recs", "v2")
    run = reg.log_run(_artifact_dir(state, 3))
    reg.register("recs", run, author="a")
    with pytest.raises(UnknownNameError) as err:
        reg.version("recz", 1)
    assert err.value.suggestions == ["recs"]
    with pytest.raises(InputError, match="no version 9"):
        reg.set_alias("recs", "qa", 9)


def test_any_tracking_uri(state: Path, tmp_path: Path, run: Callable[..., Any]) -> None:
    other = tmp_path / "team.db"
    shutil.copy(state / "mlflow.db", other)  # an already-migrated empty store
    uri = f"sqlite:///{other}"
    res = run("release", "register", "recs", "--artifact", _artifact_dir(tmp_path, 5),
              "--tracking-uri", uri, "--json")
    assert res.code == 0, res.err
    assert Registry(uri).versions("recs")[0].version == 1
    assert Registry().models() == []  # the default store is untouched
    assert run("release", "promote", "recs", "1", "--to", "dev", "--tracking-uri", uri).code == 0
    assert Registry(uri).alias_version("recs", "dev") == 1
