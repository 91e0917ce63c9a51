"""Each reproduction of issue 14's *Why* (items 2-4), written as the attack: it must be refused.

Every test goes through the real CLI (or the library it calls) on a real MLflow registry, real
SSH signatures and a real git repository holding the committed policy.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _register(run: Callable[..., Any], model_dir: Path, name: str = "cancer") -> int:
    res = run("release", "register", name, "--model-dir", str(model_dir), "--json")
    assert res.code == 0, res.err
    return int(res.json()["version"])


def _to_qa(run: Callable[..., Any], version: int) -> None:
    for env in ("dev", "qa"):
        res = run("release", "promote", "cancer", str(version), "--to", env, "--json")
        assert res.code == 0, res.out + res.err


def _approve(repo: Any, run: Callable[..., Any], version: int, *people: str,
             env: str = "prod") -> None:
    for who in people:
        repo.use(who)
        res = run("release", "approve", "cancer", str(version), "--env", env, "--reason", "ok")
        assert res.code == 0, res.err
    repo.use("alice")


# -- 2. policy from the repository -----------------------------------------------------------
def test_promote_without_a_spec_is_refused(repo: Any, run: Callable[..., Any],
                                           copy_model: Callable[[str], Path],
                                           tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    version = _register(run, copy_model("strong"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res = run("release", "promote", "cancer", str(version), "--to", "prod")
    assert res.code == 1
    assert "no release policy" in res.err


def test_a_near_empty_spec_is_a_different_policy(repo: Any, run: Callable[..., Any],
                                                 copy_model: Callable[[str], Path],
                                                 tmp_path: Path) -> None:
    version = _register(run, copy_model("strong"))
    empty = tmp_path / "empty.yaml"
    empty.write_text("version: 1\nproject: {name: x}\nrelease:\n  allowed_signers: "
                     f"{repo.root / 'allowed_signers'}\n")
    res = run("release", "promote", "cancer", str(version), "--to", "prod", "--spec",
              str(empty), "--json")
    assert res.code == 1
    gates = {g["gate"]: g for g in res.json()["gates"]}
    assert not gates["policy"]["passed"]
    # the minimal production policy applies even to the near-empty spec
    assert not gates["approvals"]["passed"] and "requires:qa" in gates


def test_an_uncommitted_policy_is_refused_for_production(repo: Any, run: Callable[..., Any],
                                                         copy_model: Callable[[str], Path]
                                                         ) -> None:
    repo.write_spec(repo.tabular_spec("  approval_ttl_hours: 48\n"), commit=False)
    version = _register(run, copy_model("strong"))
    _to_qa(run, version)
    _approve(repo, run, version, "bob", "carol")
    res = run("release", "promote", "cancer", str(version), "--to", "prod", "--json")
    assert res.code == 1
    assert any(r.startswith("policy_committed") for r in res.json()["refusals"])


def test_champion_is_scored_on_the_pinned_set_and_overrides_are_recorded(
        repo: Any, run: Callable[..., Any], copy_model: Callable[[str], Path],
        tmp_path: Path) -> None:
    import json

    strong = _register(run, copy_model("strong"))
    _to_qa(run, strong)
    weaker = _register(run, copy_model("strong2"))  # C=0.5: not better than the champion
    assert run("release", "promote", "cancer", str(weaker), "--to", "dev").code == 0
    res = run("release", "promote", "cancer", str(weaker), "--to", "qa", "--json")
    assert res.code == 1 and any("beat_champion" in r for r in res.json()["refusals"])
    # 30 hand-picked rows where the candidate is right: a qa override is recorded...
    from mlscope.release.pyfunc import load_pyfunc

    rows = [json.loads(x) for x in (repo.root / "eval.jsonl").read_text().splitlines()]
    model = load_pyfunc(copy_model("strong2"))
    import pandas as pd

    picked = [r for r, p in zip(rows, model.predict(pd.DataFrame([r["inputs"] for r in rows])),
                                strict=True) if int(p) == int(r["label"])][:30]
    hand = tmp_path / "picked.jsonl"
    hand.write_text("".join(json.dumps(r) + "\n" for r in picked))
    res = run("release", "promote", "cancer", str(weaker), "--to", "qa", "--requests", str(hand),
              "--json")
    assert res.json()["overrides"]["requests"]["sha256"]
    log = run("audit", "show", "--json").json()["entries"]
    assert any((e["after"].get("overrides") or {}).get("requests") for e in log
               if e["action"].startswith("promote"))
    # ... and refused outright for production.
    res = run("release", "promote", "cancer", str(strong), "--to", "prod", "--requests",
              str(hand), "--json")
    assert res.code == 1 and any(r.startswith("overrides") for r in res.json()["refusals"])


def test_an_unreadable_registry_fails_the_champion_gate_closed(
        repo: Any, run: Callable[..., Any], copy_model: Callable[[str], Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from mlscope.release.approvals import registration
    from mlscope.release.gates import GateContext, check_champion
    from mlscope.release.promotion import Release
    from mlscope.release.registry import Registry, RegistryUnavailableError
    from mlscope.spec.release import ChampionGate

    version = _register(run, copy_model("strong"))
    release = Release.open()
    info = release.registry.version("cancer", version)
    reg = registration(release.log.entries(), "cancer", version)
    with socket.socket() as s:  # a port nothing listens on: the registry cannot be read
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    down = Registry(f"http://127.0.0.1:{port}")
    with pytest.raises(RegistryUnavailableError):
        down.alias_version("cancer", "qa")
    assert release.policy is not None and reg is not None
    ctx = GateContext(down, release.log, release.policy, info, reg, release.log.entries(), "qa")
    result = check_champion(ctx, ChampionGate(metric="accuracy"))
    assert not result.passed
    assert "cannot determine the champion" in result.detail


# -- 3. verified identities ------------------------------------------------------------------
def test_an_environment_variable_is_not_an_identity(repo: Any, run: Callable[..., Any],
                                                    copy_model: Callable[[str], Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    version = _register(run, copy_model("strong"))
    monkeypatch.delenv("MLSCOPE_SIGNING_KEY")
    monkeypatch.setenv("MLSCOPE_USER", "bob@example.com")
    res = run("release", "approve", "cancer", str(version), "--env", "prod", "--reason", "x")
    assert res.code == 2 and "no verified identity" in res.err


def test_local_dev_approvals_are_flagged_and_do_not_count_for_prod(
        repo: Any, run: Callable[..., Any], copy_model: Callable[[str], Path]) -> None:
    version = _register(run, copy_model("strong"))
    _to_qa(run, version)
    for who in ("bob@example.com", "carol@example.com"):
        repo.local_dev(who)
        res = run("release", "approve", "cancer", str(version), "--env", "prod", "--reason", "x")
        assert res.code == 0 and "UNSIGNED" in res.out
    # a local-dev actor cannot change production at all
    res = run("release", "promote", "cancer", str(version), "--to", "prod")
    assert res.code == 1 and "needs a signed identity" in res.err
    repo.use("alice")
    res = run("release", "promote", "cancer", str(version), "--to", "prod", "--json")
    assert res.code == 1
    approvals = next(g for g in res.json()["gates"] if g["gate"] == "approvals")
    assert approvals["data"]["approvers"] == []
    assert all("unsigned" in why for why in approvals["data"]["ignored"])
    verdict = run("audit", "verify", "--json").json()
    assert verdict["unsigned"] == 2


def test_case_and_aliases_do_not_make_another_person(repo: Any, run: Callable[..., Any],
                                                     copy_model: Callable[[str], Path]) -> None:
    version = _register(run, copy_model("strong"))  # by alice (signed)
    for name in ("ALICE@EXAMPLE.COM", "alice.smith@corp.example"):
        repo.local_dev(name)
        res = run("release", "approve", "cancer", str(version), "--env", "qa", "--reason", "x")
        assert res.code == 1 and "self-approval" in res.err


def test_a_key_not_in_the_allowed_signers_file_cannot_act(repo: Any, run: Callable[..., Any],
                                                          copy_model: Callable[[str], Path]
                                                          ) -> None:
    version = _register(run, copy_model("strong"))
    repo.use("mallory")
    res = run("release", "approve", "cancer", str(version), "--env", "prod", "--reason", "x")
    assert res.code == 2 and "not in the allowed-signers file" in res.err


def test_one_person_counts_once(repo: Any, run: Callable[..., Any],
                                copy_model: Callable[[str], Path]) -> None:
    version = _register(run, copy_model("strong"))
    _to_qa(run, version)
    _approve(repo, run, version, "bob", "bob")
    res = run("release", "promote", "cancer", str(version), "--to", "prod", "--json")
    assert res.code == 1
    approvals = next(g for g in res.json()["gates"] if g["gate"] == "approvals")
    assert approvals["data"]["approvers"] == ["bob@example.com"]


# -- 4. approvals bound to content -----------------------------------------------------------
def test_approvals_do_not_survive_a_recreated_model(repo: Any, run: Callable[..., Any],
                                                    copy_model: Callable[[str], Path]) -> None:
    from mlscope.release.registry import Registry

    version = _register(run, copy_model("strong"))
    _approve(repo, run, version, "bob", "carol")
    Registry().client.delete_registered_model("cancer")
    again = _register(run, copy_model("strong"))
    assert again == version  # the same number, a new registration
    _to_qa(run, again)
    res = run("release", "promote", "cancer", str(again), "--to", "prod", "--json")
    assert res.code == 1
    approvals = next(g for g in res.json()["gates"] if g["gate"] == "approvals")
    assert all("earlier registration" in why for why in approvals["data"]["ignored"])


def test_replaced_weights_are_refused(repo: Any, run: Callable[..., Any],
                                      copy_model: Callable[[str], Path]) -> None:
    from mlscope.release.registry import Registry

    version = _register(run, copy_model("strong"))
    _to_qa(run, version)
    _approve(repo, run, version, "bob", "carol")
    stored = Registry().artifact_dir("cancer", version)
    weights = next(p for p in stored.rglob("model.skops"))
    shutil.copy(next(copy_model("weak").rglob("model.skops")), weights)
    res = run("release", "promote", "cancer", str(version), "--to", "prod", "--json")
    assert res.code == 1
    assert any(r.startswith("artifact") for r in res.json()["refusals"])
    assert run("audit", "verify").code == 1


def test_a_rejection_is_recorded_and_blocks(repo: Any, run: Callable[..., Any],
                                            copy_model: Callable[[str], Path]) -> None:
    version = _register(run, copy_model("strong"))
    _to_qa(run, version)
    _approve(repo, run, version, "bob", "carol")
    repo.use("dave")
    assert run("release", "reject", "cancer", str(version), "--env", "prod",
               "--reason", "fails the fairness review").code == 0
    repo.use("alice")
    res = run("release", "promote", "cancer", str(version), "--to", "prod", "--json")
    assert res.code == 1
    assert any("rejected by dave@example.com" in r for r in res.json()["refusals"])
    entries = run("audit", "show", "--json").json()["entries"]
    assert any(e["action"] == "reject" and e["actor"] == "dave@example.com" for e in entries)


def test_rollback_for_an_incident_voids_the_bad_versions_approvals(
        repo: Any, run: Callable[..., Any], copy_model: Callable[[str], Path]) -> None:
    repo.write_spec(repo.tabular_spec().replace(
        "      beat_champion: {metric: accuracy, confidence: 0.9}\n", ""))
    good = _register(run, copy_model("strong2"))
    _to_qa(run, good)
    _approve(repo, run, good, "bob", "carol")
    assert run("release", "promote", "cancer", str(good), "--to", "prod").code == 0
    bad = _register(run, copy_model("strong"))
    _to_qa(run, bad)
    _approve(repo, run, bad, "bob", "carol")
    assert run("release", "promote", "cancer", str(bad), "--to", "prod").code == 0
    res = run("release", "rollback", "cancer", "--env", "prod", "--reason", "incident 42",
              "--json")
    assert res.code == 0 and res.json()["version"] == good
    res = run("release", "promote", "cancer", str(bad), "--to", "prod", "--json")
    assert res.code == 1
    approvals = next(g for g in res.json()["gates"] if g["gate"] == "approvals")
    assert all("voided by a rollback" in why for why in approvals["data"]["ignored"])
    assert run("audit", "verify").code == 0


def test_expired_approvals_do_not_count(repo: Any, run: Callable[..., Any],
                                        copy_model: Callable[[str], Path]) -> None:
    import time

    repo.write_spec(repo.tabular_spec("  approval_ttl_hours: 0.0003\n"))  # about one second
    version = _register(run, copy_model("strong"))
    _to_qa(run, version)
    _approve(repo, run, version, "bob", "carol")
    time.sleep(2.0)
    res = run("release", "promote", "cancer", str(version), "--to", "prod", "--json")
    assert res.code == 1
    approvals = next(g for g in res.json()["gates"] if g["gate"] == "approvals")
    assert all("expired" in why for why in approvals["data"]["ignored"])
