"""Issue 17 end to end: a served champion (prod) and challenger (qa) split 50/50, outcomes
posted for simulated users with a known lift, `experiment analyze` finds it, a signed
`experiment decide` bound to the challenger's artifact lets `release promote` pass its
experiment gate, a drift injected into the live feature stream makes `monitor check
--rollback` give prod back, and the audit log shows every step and verifies."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

EXPERIMENT_GATE = "      approvals: 2\n      experiment: {name: cancer-ab, metric: converted}\n"


def _approve(repo: Any, run: Callable[..., Any], version: int) -> None:
    for who in ("bob", "carol"):
        repo.use(who)
        assert run("release", "approve", "cancer", str(version), "--env", "prod", "--reason",
                   f"reviewed by {who}").code == 0
    repo.use("alice")


def _features(rows: list[dict[str, Any]], path: Path, shift: float = 0.0) -> Path:
    names = list(rows[0])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for r in rows:
            w.writerow([float(r[n]) * (1 + shift) if n == "mean radius" else r[n] for n in names])
    return path


@pytest.mark.slow
def test_experiment_promotes_and_drift_rolls_back(repo: Any, run: Callable[..., Any],
                                                  tmp_path: Path) -> None:
    # v1 ships under the first policy; the team then adds the experiment gate to prod.
    assert run("release", "train", "--app", "tabular", "--c", "0.5", "--register", "cancer",
               "--json").code == 0
    for env in ("dev", "qa"):
        assert run("release", "promote", "cancer", "1", "--to", env).code == 0
    _approve(repo, run, 1)
    assert run("release", "promote", "cancer", "1", "--to", "prod").code == 0
    repo.write_spec(repo.tabular_spec().replace("      approvals: 2\n", EXPERIMENT_GATE)
                    .replace("beat_champion: {metric: accuracy, confidence: 0.9}",
                             "beat_champion: {metric: accuracy, confidence: 0.9, "
                             "min_improvement: -0.05}"))
    res = run("release", "train", "--app", "tabular", "--c", "1.0", "--register", "cancer",
              "--json")
    assert res.code == 0, res.err
    for env in ("dev", "qa"):
        res = run("release", "promote", "cancer", "2", "--to", env, "--json")
        assert res.code == 0, res.out
    _approve(repo, run, 2)
    refused = run("release", "promote", "cancer", "2", "--to", "prod", "--json")
    assert refused.code == 1
    assert any("experiment" in r for r in refused.json()["refusals"])

    # Serve prod (champion) against qa (challenger) and simulate users with a known lift.
    from mlscope.serving.app import create_app
    from mlscope.serving.routes.experiment import config_from_flags, routers_for
    from mlscope.serving.source import AliasSource

    store = tmp_path / "ab.sqlite"
    cfg = config_from_flags("cancer-ab", ("challenger=qa",), "champion=0.5,challenger=0.5",
                            "split", None, store, model="cancer", tracking_uri=None, poll_s=0)
    rows = [json.loads(line)["inputs"] for line in
            (repo.root / "eval.jsonl").read_text().splitlines()]
    rng = np.random.default_rng(11)
    rates = {"champion": 0.08, "challenger": 0.24}
    with TestClient(create_app(AliasSource("cancer", "prod"), model_name="cancer",
                               routers=routers_for(cfg))) as client:
        for i in range(800):
            unit = f"user-{i}"
            res = client.post("/predict", json={"dataframe_records": [rows[i % len(rows)]]},
                              headers={"X-Unit-Id": unit})
            assert res.status_code == 200, res.text
            variant = res.json()["variant"]
            assert res.json()["model_version"] == ("2" if variant == "challenger" else "1")
            if rng.random() < rates[variant]:
                client.post("/outcome", json={"unit_id": unit, "metric": "converted",
                                              "value": 1})
    units = tmp_path / "units.csv"
    assert run("experiment", "export", "--store", store, "--experiment", "cancer-ab",
               "--metric", "converted", "-o", units).code == 0
    analysis = run("experiment", "analyze", units, "--metric", "converted", "--control",
                   "champion", "--weights", "champion=0.5,challenger=0.5", "--json").json()
    (cmp,) = analysis["comparisons"]
    assert cmp["lift"]["ci_low"] > 0 and cmp["lift"]["ci_low"] < 2.0 < cmp["lift"]["ci_high"]
    assert analysis["decision"] == "ship" and not analysis["srm"]["mismatch"]

    # An unsigned (local-dev) decision does not open a production gate.
    repo.local_dev("alice@example.com")
    assert run("experiment", "decide", units, "--metric", "converted", "--control", "champion",
               "--experiment", "cancer-ab", "--model", "cancer", "--version", "2").code == 0
    repo.use("alice")
    res = run("release", "promote", "cancer", "2", "--to", "prod", "--json")
    assert res.code == 1 and any("unsigned" in r for r in res.json()["refusals"])
    # A decision about the challenger's artifact, signed, does.
    decided = run("experiment", "decide", units, "--metric", "converted", "--control",
                  "champion", "--experiment", "cancer-ab", "--model", "cancer", "--version",
                  "2", "--json")
    assert decided.code == 0 and decided.json()["audit"]["signed"] is True
    res = run("release", "promote", "cancer", "2", "--to", "prod", "--json")
    assert res.code == 0, res.out

    # Drift in the live feature stream: prod goes back to v1, audited as an incident.
    reference = _features(rows, tmp_path / "reference.csv")
    same = run("monitor", "check", "--env", "prod", "--reference", reference, "--current",
               _features(rows, tmp_path / "same.csv"), "--json")
    assert same.code == 0
    live = _features(rows, tmp_path / "live.csv", shift=0.4)
    alarm = run("monitor", "check", "--env", "prod", "--reference", reference, "--current",
                live, "--rollback", "--model", "cancer", "--json")
    assert alarm.code == 1, alarm.err
    out = alarm.json()
    assert out["breaches"] == ["data drift in mean radius"]
    assert out["rollback"]["version"] == 1
    history = run("release", "history", "cancer", "--env", "prod", "--json").json()
    assert [e["version"] for e in history["events"]] == [1, 2, 1]

    from mlscope.release.audit import default_audit_log

    actions = [e["action"] for e in default_audit_log().entries()]
    for step in ("experiment_decision", "promote", "rollback"):
        assert step in actions
    assert run("audit", "verify").code == 0
