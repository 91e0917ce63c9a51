"""Deploy tests: state and identity isolated per test; small artifacts on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.serving.synthetic import write_random_artifact


@pytest.fixture(autouse=True)
def _release_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("MLSCOPE_STATE_DIR", str(state))
    monkeypatch.setenv("MLSCOPE_USER", "deployer@example.com")
    return state


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, Path]:
    return {v: write_random_artifact(tmp_path / f"v{v}", v, seed=int(v)) for v in ("1", "2")}
