"""POST /outcome validates strictly and appends; GET /experiment reports the split."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from mlscope.release.experiments.assignment import Split
from mlscope.release.experiments.store import OutcomeStore
from mlscope.serving.experiment_routes import Experiment, add_experiment_routes


def _client(tmp_path: Path) -> tuple[TestClient, Experiment]:
    app = FastAPI()
    exp = Experiment(Split("reco", ("champion", "challenger"), (0.5, 0.5)),
                     OutcomeStore(tmp_path / "exp.sqlite"))
    add_experiment_routes(app, exp)
    return TestClient(app), exp


def test_outcomes_are_recorded_and_exported(tmp_path: Path) -> None:
    client, exp = _client(tmp_path)
    variants = {u: exp.assign(u) for u in ("u1", "u2", "u3", "u4")}
    for unit in ("u1", "u3"):
        assert client.post("/outcome", json={"unit_id": unit, "metric": "click",
                                             "value": 1}).status_code == 202
    status = client.get("/experiment").json()
    assert sum(status["units"].values()) == 4 and status["weights"]["champion"] == 0.5
    n = exp.store.export_units("reco", "click", tmp_path / "units.csv")
    assert n == 4
    text = (tmp_path / "units.csv").read_text().splitlines()
    assert text[0] == "unit_id,variant,click"
    assert f"u1,{variants['u1']},1.0" in text and f"u2,{variants['u2']},0.0" in text


def test_bad_outcomes_get_422_and_are_not_stored(tmp_path: Path) -> None:
    client, _ = _client(tmp_path)
    for body in ({"unit_id": "u1", "metric": "click", "value": "NaN"},
                 {"unit_id": "u1", "metric": "click", "value": 1e300},
                 {"unit_id": "", "metric": "click", "value": 1},
                 {"unit_id": "u1", "metric": "drop table", "value": 1},
                 {"unit_id": "u1", "metric": "click", "value": 1, "extra": True},
                 {"unit_id": "x" * 500, "metric": "click", "value": 1}):
        assert client.post("/outcome", json=body).status_code == 422, body
    import sqlite3

    assert sqlite3.connect(tmp_path / "exp.sqlite").execute(
        "SELECT COUNT(*) FROM outcomes").fetchone()[0] == 0
