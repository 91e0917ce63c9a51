"""End to end on the tabular example through the real CLI: train → register → dev → qa → prod
→ rollback, with signed approvals, and an MLflow pyfunc load of the registered version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_tabular_release_end_to_end(repo: Any, run: Callable[..., Any]) -> None:
    weak = run("release", "train", "--app", "tabular", "--c", "0.001", "--register", "cancer",
               "--json")
    assert weak.code == 0, weak.err
    strong = run("release", "train", "--app", "tabular", "--c", "1.0", "--register", "cancer",
                 "--json")
    assert strong.code == 0, strong.err
    assert strong.json()["metrics"]["accuracy"] > weak.json()["metrics"]["accuracy"]
    assert [weak.json()["registered"]["version"], strong.json()["registered"]["version"]] == [1, 2]

    for version in ("1", "2"):
        res = run("release", "promote", "cancer", version, "--to", "dev", "--json")
        assert res.code == 0, res.out + res.err
    # v1 is below the accuracy floor: refused with the reason.
    res = run("release", "promote", "cancer", "1", "--to", "qa", "--json")
    assert res.code == 1
    assert any("accuracy" in r for r in res.json()["refusals"])
    res = run("release", "promote", "cancer", "2", "--to", "qa", "--json")
    assert res.code == 0, res.out
    gates = {g["gate"]: g for g in res.json()["gates"]}
    assert gates["simulation"]["passed"] and gates["policy"]["passed"]

    # prod: no approvals → refused; the author cannot approve; bob and carol can.
    res = run("release", "promote", "cancer", "2", "--to", "prod", "--json")
    assert res.code == 1 and any("approvals" in r for r in res.json()["refusals"])
    assert run("release", "approve", "cancer", "2", "--env", "prod", "--reason", "mine").code == 1
    for who in ("bob", "carol"):
        repo.use(who)
        res = run("release", "approve", "cancer", "2", "--env", "prod", "--reason", f"ok {who}")
        assert res.code == 0, res.err
    repo.use("alice")
    res = run("release", "promote", "cancer", "2", "--to", "prod", "--json")
    assert res.code == 0, res.out
    assert run("audit", "verify").code == 0

    # MLflow's own loader works on the registered version.
    import mlflow.pyfunc

    from mlscope.release.registry import Registry

    model = mlflow.pyfunc.load_model(str(Registry().artifact_dir("cancer", 2)))
    assert model.metadata.signature is not None

    res = run("release", "history", "cancer", "--env", "prod", "--json")
    assert [e["version"] for e in res.json()["events"]] == [2]
