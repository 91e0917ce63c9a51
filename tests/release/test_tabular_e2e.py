"""End to end on the tabular example through the real CLI: train → register → dev → qa → prod
→ serve → rollback, with signed approvals, a real local server, and MLflow's own pyfunc loader
on a registered version."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

# A non-inferiority margin: a new version may be up to 5 points worse than the champion.
SPEC_EXTRA = ("      beat_champion: {metric: accuracy, confidence: 0.9}\n",
              "      beat_champion: {metric: accuracy, confidence: 0.9, min_improvement: -0.05}\n")


@pytest.fixture
def stop_servers() -> Iterator[None]:
    yield
    from mlscope.release.deploy.local import running_server, stop_local

    for env in ("dev", "qa", "prod"):
        if running_server(env) is not None:
            stop_local(env)


def _promote(run: Callable[..., Any], version: int, env: str) -> Any:
    return run("release", "promote", "cancer", str(version), "--to", env, "--json")


def test_tabular_release_end_to_end(repo: Any, run: Callable[..., Any],
                                    stop_servers: None) -> None:
    import json

    repo.write_spec(repo.tabular_spec().replace(*SPEC_EXTRA))
    versions = []
    for c in ("0.001", "0.5", "1.0"):
        res = run("release", "train", "--app", "tabular", "--c", c, "--register", "cancer",
                  "--json")
        assert res.code == 0, res.err
        versions.append(res.json()["registered"]["version"])
    weak, first, second = versions
    assert versions == [1, 2, 3]

    assert _promote(run, weak, "dev").code == 0
    res = _promote(run, weak, "qa")  # below the accuracy floor on the pinned set
    assert res.code == 1 and any("accuracy" in r for r in res.json()["refusals"])

    for version in (first, second):
        for env in ("dev", "qa"):
            res = _promote(run, version, env)
            assert res.code == 0, res.out
        res = _promote(run, version, "prod")
        assert res.code == 1 and any("approvals" in r for r in res.json()["refusals"])
        for who in ("bob", "carol"):
            repo.use(who)
            assert run("release", "approve", "cancer", str(version), "--env", "prod",
                       "--reason", f"reviewed by {who}").code == 0
        repo.use("alice")
        assert _promote(run, version, "prod").code == 0

    # serve what prod holds (no version given: the registry decides)
    res = run("deploy", "run", "cancer", "--env", "prod", "--json")
    assert res.code == 0, res.err
    url = res.json()["url"]
    row = json.loads((repo.root / "eval.jsonl").read_text().splitlines()[0])
    answer = httpx.post(f"{url}/predict", json={"dataframe_records": [row["inputs"]]}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["model_version"] == str(second)
    assert answer.json()["predictions"][0] in (0, 1)
    bad = httpx.post(f"{url}/predict", json={"dataframe_records": [{"nope": 1}]}, timeout=30)
    assert bad.status_code == 422

    # an incident: roll prod back and redeploy what the alias now holds
    res = run("release", "rollback", "cancer", "--env", "prod", "--reason", "incident 7",
              "--json")
    assert res.code == 0 and res.json()["version"] == first
    res = run("deploy", "run", "cancer", "--env", "prod", "--json")
    assert res.code == 0 and res.json()["action"] == "hot_swap"
    answer = httpx.post(f"{url}/predict", json={"dataframe_records": [row["inputs"]]}, timeout=30)
    assert answer.json()["model_version"] == str(first)
    assert run("release", "status", "cancer").code == 0
    assert run("audit", "verify").code == 0

    # MLflow's own loader works on a registered version
    import mlflow.pyfunc

    from mlscope.release.registry import Registry

    mlflow.set_tracking_uri(Registry().tracking_uri)  # as MLFLOW_TRACKING_URI would
    model = mlflow.pyfunc.load_model(f"models:/cancer/{second}")
    assert model.metadata.signature is not None
    assert Registry().artifact_dir("cancer", second).joinpath("MLmodel").is_file()
    # ... and so does its CLI: `mlflow models predict` on the registered version
    import os
    import subprocess
    import sys
    from pathlib import Path

    request = repo.root / "request.json"
    request.write_text(json.dumps({"dataframe_records": [row["inputs"]]}))
    done = subprocess.run([str(Path(sys.executable).with_name("mlflow")), "models", "predict",
                           "-m", f"models:/cancer/{second}", "-i", str(request), "-t", "json",
                           "--env-manager", "local"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MLFLOW_TRACKING_URI": Registry().tracking_uri})
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["predictions"][0] in (0, 1)

    history = run("release", "history", "cancer", "--env", "prod", "--json").json()
    assert [e["version"] for e in history["events"]] == [first, second, first]
