"""A/B routing in the real service: sticky split, outcomes, fallback, bandit state, analysis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from mlscope.release.experiments.analysis import Settings, analyze
from mlscope.release.experiments.decision import decide
from mlscope.serving.app import create_app
from mlscope.serving.routes.experiment import ExperimentConfig, routers_for
from mlscope.serving.source import StaticSource


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from mlscope.release.tabular_app import TabularConfig, train

    root = tmp_path_factory.mktemp("models")
    return {name: train(TabularConfig(c=c, seed=0), root / name)[0]
            for name, c in (("v1", 0.01), ("v2", 1.0))}


def _rows(model_dir: Path) -> dict[str, Any]:
    from mlscope.release.pyfunc import input_example

    frame = input_example(model_dir)
    return {"dataframe_records": json.loads(frame.head(1).to_json(orient="records"))}


def _client(models: dict[str, Path], tmp_path: Path, **kw: Any) -> TestClient:
    cfg = ExperimentConfig(name="cancer-v2", store=tmp_path / "exp.sqlite",
                           challengers={"challenger": StaticSource(models["v2"], "2")},
                           weights=kw.pop("weights", {"champion": 0.5, "challenger": 0.5}),
                           poll_s=0, **kw)
    app = create_app(StaticSource(models["v1"], "1"), model_name="cancer",
                     routers=routers_for(cfg))
    return TestClient(app)


def test_split_serves_both_models_stickily_and_finds_a_known_lift(
        models: dict[str, Path], tmp_path: Path) -> None:
    body = _rows(models["v1"])
    rng = np.random.default_rng(7)
    rates = {"champion": 0.10, "challenger": 0.20}  # the users' true conversion rates
    with _client(models, tmp_path) as client:
        seen: dict[str, str] = {}
        for i in range(1200):
            unit = f"user-{i}"
            res = client.post("/predict", json=body, headers={"X-Unit-Id": unit})
            assert res.status_code == 200
            out = res.json()
            assert out["model_version"] == ("2" if out["variant"] == "challenger" else "1")
            seen[unit] = out["variant"]
            if rng.random() < rates[out["variant"]]:
                assert client.post("/outcome", json={"unit_id": unit, "metric": "converted",
                                                     "value": 1}).status_code == 202
        again = client.post("/predict", json=body, headers={"X-Unit-Id": "user-5"}).json()
        assert again["variant"] == seen["user-5"]  # sticky
        anonymous = client.post("/predict", json=body).json()
        assert anonymous["variant"] == "champion"
        status = client.get("/experiment").json()
        assert sum(status["units"].values()) == 1200
        assert 'mlscope_variant_requests_total{variant="unassigned"} 1.0' in client.get(
            "/metrics").text
    from mlscope.release.experiments.store import OutcomeStore

    OutcomeStore(tmp_path / "exp.sqlite").export_units("cancer-v2", "converted",
                                                       tmp_path / "units.csv")
    analysis = analyze(tmp_path / "units.csv",
                       Settings(metric="converted", control="champion",
                                weights={"champion": 0.5, "challenger": 0.5}))
    assert not analysis.srm.mismatch
    (cmp,) = analysis.comparisons
    assert cmp.lift.ci_low < 1.0 < cmp.lift.ci_high  # the true lift, 0.20 / 0.10 - 1
    assert cmp.lift.ci_low > 0
    assert decide(analysis)["decision"] == "ship"


def test_a_challenger_that_cannot_load_falls_back_to_the_champion(
        models: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "MLmodel").write_text("not: a model\n")
    cfg = ExperimentConfig(name="e", store=tmp_path / "e.sqlite",
                           challengers={"challenger": StaticSource(broken, "9")},
                           weights={"champion": 0.0, "challenger": 1.0}, poll_s=0)
    app = create_app(StaticSource(models["v1"], "1"), routers=routers_for(cfg))
    with TestClient(app) as client:
        res = client.post("/predict", json=_rows(models["v1"]), headers={"X-Unit-Id": "u1"})
        assert res.status_code == 200 and res.json()["variant"] == "champion"
        assert "challenger_unavailable" in client.get("/metrics").text


def test_bandit_state_learns_from_outcomes_and_persists(models: dict[str, Path],
                                                        tmp_path: Path) -> None:
    state = tmp_path / "bandit.json"
    body = _rows(models["v1"])
    with _client(models, tmp_path, policy="thompson", reward_metric="converted",
                 state_file=state, seed=1) as client:
        for i in range(150):
            unit = f"u{i}"
            variant = client.post("/predict", json=body, headers={"X-Unit-Id": unit}).json()[
                "variant"]
            # the challenger always converts, the champion never: Thompson must shift traffic
            client.post("/outcome", json={"unit_id": unit, "metric": "converted",
                                          "value": 1.0 if variant == "challenger" else 0.0})
        saved = json.loads(state.read_text())
    pulls = dict(zip(saved["arms"], saved["pulls"], strict=True))
    assert sum(pulls.values()) == 150 and pulls["challenger"] > 110


def test_bad_unit_ids_and_outcomes_are_422(models: dict[str, Path], tmp_path: Path) -> None:
    with _client(models, tmp_path) as client:
        res = client.post("/predict", json=_rows(models["v1"]), headers={"X-Unit-Id": "x" * 300})
        assert res.status_code == 422
        for bad in ({"unit_id": "u1", "metric": "click", "value": "NaN"},
                    {"unit_id": "u1", "metric": "click", "value": 1e300},
                    {"unit_id": "", "metric": "click", "value": 1},
                    {"unit_id": "u1", "metric": "drop table", "value": 1},
                    {"unit_id": "u1", "metric": "click", "value": 1, "extra": True}):
            assert client.post("/outcome", json=bad).status_code == 422, bad
    import sqlite3

    assert sqlite3.connect(tmp_path / "exp.sqlite").execute(
        "SELECT COUNT(*) FROM outcomes").fetchone()[0] == 0
