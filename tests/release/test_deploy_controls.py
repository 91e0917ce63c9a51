"""Issue 14 *Why* item 5: deploy only what the registry says. qa/prod get what the alias
holds; another version needs --break-glass --reason (audited, and flagged by `release status`
until a normal deploy); `release status` flags a server that serves something else."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def stop_servers() -> Iterator[None]:
    yield
    from mlscope.release.deploy.local import running_server, stop_local

    for env in ("dev", "qa", "prod"):
        if running_server(env) is not None:
            stop_local(env)


def test_qa_deploys_only_the_alias_and_break_glass_is_flagged(
        repo: Any, run: Callable[..., Any], copy_model: Callable[[str], Path],
        stop_servers: None) -> None:
    repo.write_spec(repo.tabular_spec().replace(
        "      beat_champion: {metric: accuracy, confidence: 0.9}\n", ""))
    versions = []
    for name in ("strong", "strong2"):
        res = run("release", "register", "cancer", "--model-dir", str(copy_model(name)),
                  "--json")
        versions.append(res.json()["version"])
    one, two = versions
    for env in ("dev", "qa"):
        assert run("release", "promote", "cancer", str(one), "--to", env).code == 0
    # an explicit version that qa's alias does not hold is refused: nothing starts
    res = run("deploy", "run", "cancer", str(two), "--env", "qa")
    assert res.code == 1 and "deploys what the registry says" in res.err
    res = run("deploy", "run", "cancer", str(two), "--env", "qa", "--break-glass")
    assert res.code == 2 and "--reason" in res.err
    # no version: the alias holder
    res = run("deploy", "run", "cancer", "--env", "qa", "--json")
    assert res.code == 0 and res.json()["version"] == str(one)
    assert run("release", "status", "cancer").code == 0

    # break glass: deployed, audited, and status says so until a normal deploy
    res = run("deploy", "run", "cancer", str(two), "--env", "qa", "--break-glass", "--reason",
              "hotfix for incident 9", "--json")
    assert res.code == 0 and res.json()["version"] == str(two)
    status = run("release", "status", "cancer", "--json")
    assert status.code == 1
    body = status.json()
    assert body["break_glass"][0]["reason"] == "hotfix for incident 9"
    assert body["environments"]["qa"] == {"alias": one, "serving": str(two), "drift": True}
    entries = run("audit", "show", "--json").json()["entries"]
    assert any(e["action"] == "deploy.break_glass" for e in entries)
    # a normal deploy of what the alias holds resolves both
    assert run("deploy", "run", "cancer", "--env", "qa").code == 0
    assert run("release", "status", "cancer").code == 0


def test_drift_after_a_promotion_without_a_deploy(repo: Any, run: Callable[..., Any],
                                                  copy_model: Callable[[str], Path],
                                                  stop_servers: None) -> None:
    repo.write_spec(repo.tabular_spec().replace(
        "      beat_champion: {metric: accuracy, confidence: 0.9}\n", ""))
    one = run("release", "register", "cancer", "--model-dir", str(copy_model("strong")),
              "--json").json()["version"]
    two = run("release", "register", "cancer", "--model-dir", str(copy_model("strong2")),
              "--json").json()["version"]
    assert run("release", "promote", "cancer", str(one), "--to", "dev").code == 0
    assert run("deploy", "run", "cancer", "--env", "dev").code == 0
    assert run("release", "promote", "cancer", str(two), "--to", "dev").code == 0
    status = run("release", "status", "cancer", "--json")
    assert status.code == 1 and status.json()["environments"]["dev"]["drift"] is True
