"""Release test fixtures: SSH keys, a committed policy in a git repository, a pre-migrated
MLflow database (its alembic migrations take ~1.5 s, so one is built per session and copied),
and trained tabular models (a weak and a strong one), also built once per session."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

_spec = importlib.util.spec_from_file_location("policy_repo", Path(__file__).with_name(
    "policy_repo.py"))
assert _spec and _spec.loader
policy_repo = sys.modules.setdefault("policy_repo", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(policy_repo)


@pytest.fixture(scope="session")
def _migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlscope.release.registry import Registry

    db = tmp_path_factory.mktemp("mlflow_template") / "mlflow.db"
    Registry(f"sqlite:///{db}").models()  # runs the migrations
    return db


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return policy_repo.make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def tabular_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """MLflow Model directories: `weak` (C=0.001) and `strong` (C=1), plus the eval set."""
    from mlscope.release.tabular_app import TabularConfig, train, write_evaluation_set

    d = tmp_path_factory.mktemp("tabular")
    out = {"weak": train(TabularConfig(c=0.001), d / "weak")[0],
           "strong": train(TabularConfig(c=1.0), d / "strong")[0],
           "strong2": train(TabularConfig(c=0.5), d / "strong2")[0]}
    out["eval"] = write_evaluation_set(d / "eval.jsonl")
    return out


@pytest.fixture
def repo(tmp_path: Path, keys: dict[str, Path], _migrated_db: Path,
         monkeypatch: pytest.MonkeyPatch, tabular_models: dict[str, Path]) -> Any:
    return policy_repo.build_repo(tmp_path / "repo", keys, _migrated_db, monkeypatch,
                                  tabular_models["eval"])


@pytest.fixture
def copy_model(tmp_path: Path, tabular_models: dict[str, Path]) -> Any:
    def _copy(name: str) -> Path:
        dst = tmp_path / "models" / name
        if not dst.exists():
            shutil.copytree(tabular_models[name], dst)
        return dst
    return _copy
