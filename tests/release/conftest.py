"""Release test fixtures: an isolated state directory and a pre-migrated MLflow database.

MLflow's SQLite store runs its alembic migrations on first use (about 1.5 s); build one empty
database per session and copy it into each test's state directory instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlscope.release.registry import Registry

    db = tmp_path_factory.mktemp("mlflow_template") / "mlflow.db"
    Registry(f"sqlite:///{db}").models()  # runs the migrations
    return db


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _migrated_db: Path) -> Path:
    """MLSCOPE_STATE_DIR under tmp_path holding a migrated mlflow.db; MLSCOPE_USER=alice."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    shutil.copy(_migrated_db, state_dir / "mlflow.db")
    monkeypatch.setenv("MLSCOPE_STATE_DIR", str(state_dir))
    monkeypatch.setenv("MLSCOPE_USER", "alice@example.com")
    monkeypatch.chdir(tmp_path)
    return state_dir
