"""Gates at library level on small hand-made artifacts (no training): each refuses for its
own reason, and approvals only count from intact logs and from people other than the author."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlscope.release.artifact import RecommenderArtifact
from mlscope.release.evaluation import EvalRequest, write_requests
from mlscope.release.gates import REQUESTS_FILE, RefusedError
from mlscope.release.promotion import Release
from mlscope.spec.release import EnvironmentGates

USERS = [f"u{j}" for j in range(40)]
ITEMS = [f"i{j}" for j in range(30)]


def _version(release: Release, tmp_path: Path, name: str, noise: float, author: str,
             ndcg: float, **metrics: float) -> int:
    """An artifact whose ranking is the truth plus `noise` (0 = perfect)."""
    rng = np.random.default_rng(len(name))
    truth_items = np.eye(len(ITEMS), dtype=np.float32)[:, :8] + 0.01
    users = np.zeros((len(USERS), 8), dtype=np.float32)
    users[np.arange(len(USERS)), np.arange(len(USERS)) % 8] = 1.0
    items = truth_items + rng.normal(0, noise, truth_items.shape).astype(np.float32)
    art = RecommenderArtifact(USERS, ITEMS, users, items, ITEMS, {"name": name})
    out = art.save(tmp_path / name)
    requests = [EvalRequest(u, [ITEMS[j % 8]], []) for j, u in enumerate(USERS)]
    write_requests(requests, out / REQUESTS_FILE)
    run_id = release.registry.log_run(out, metrics={"ndcg_at_10": ndcg, **metrics})
    return release.register("m", run_id, author).version


@pytest.fixture
def release(state: Path) -> Release:
    return Release.open()


def test_each_gate_refuses_for_its_reason(release: Release, tmp_path: Path) -> None:
    good = _version(release, tmp_path, "good", 0.0, "alice", 0.9, precision_at_10=0.1)
    bad = _version(release, tmp_path, "bad", 2.0, "alice", 0.2)
    gates = EnvironmentGates.model_validate({
        "metrics": {"ndcg_at_10": {"min": 0.5}, "precision_at_10": {"min": 0.01}},
        "beat_champion": {}, "simulation": {"p99_latency_ms": 1000}})
    assert release.promote("m", good, "qa", "alice", gates).promoted
    res = release.promote("m", bad, "qa", "alice", gates)
    failed = {g.gate: g.detail for g in res.gates if not g.passed}
    assert not res.promoted and set(failed) == {"metric:ndcg_at_10", "metric:precision_at_10",
                                                "beat_champion"}
    assert "0.2 < min 0.5" in failed["metric:ndcg_at_10"]
    assert "was not logged" in failed["metric:precision_at_10"]
    assert "does not beat champion v1" in failed["beat_champion"]
    assert release.registry.alias_version("m", "qa") == good
    refused = [e for e in release.log.entries() if e["action"] == "promote.refused"]
    assert len(refused) == 1 and "beat_champion" in " ".join(refused[0]["after"]["refusals"])


def test_missing_request_set_fails_the_gate(release: Release, tmp_path: Path) -> None:
    v = _version(release, tmp_path, "v", 0.0, "alice", 0.9)
    gates = EnvironmentGates.model_validate({"simulation": {"requests_file": "nope.jsonl"}})
    res = release.promote("m", v, "qa", "alice", gates, spec_dir=tmp_path, dry_run=True)
    assert not res.gates[0].passed and "nope.jsonl does not exist" in res.gates[0].detail
    assert release.registry.alias_version("m", "qa") is None  # dry run changes nothing


def test_approvals_rules(release: Release, tmp_path: Path) -> None:
    v = _version(release, tmp_path, "v", 0.0, "alice", 0.9)
    gates = EnvironmentGates.model_validate({"requires": "qa", "approvals": 2})
    with pytest.raises(RefusedError):
        release.approve("m", v, "prod", "alice", "self")
    # Even an approve entry written straight into the log by the author does not count,
    # nor does an approval for another environment, nor a second one by the same person.
    release.log.append("alice", "approve", f"m:{v}", "sneaky", after={"env": "prod"})
    release.approve("m", v, "qa", "bob", "qa only")
    release.approve("m", v, "prod", "bob", "ok")
    release.approve("m", v, "prod", "bob", "ok again")
    res = release.promote("m", v, "prod", "alice", gates)
    details = {g.gate: g for g in res.gates}
    assert not details["requires:qa"].passed
    assert details["approvals"].data["approvers"] == ["bob"]
    release.promote("m", v, "qa", "alice")
    release.approve("m", v, "prod", "carol", "ok")
    assert release.promote("m", v, "prod", "alice", gates).promoted


def test_rollback_restores_previous_holder(release: Release, tmp_path: Path) -> None:
    v1 = _version(release, tmp_path, "a", 0.0, "alice", 0.9)
    v2 = _version(release, tmp_path, "b", 0.0, "alice", 0.9)
    release.promote("m", v1, "dev", "alice")
    release.promote("m", v2, "dev", "alice")
    event = release.rollback("m", "dev", "bob", "bad latency")
    assert (event.version, event.previous, event.actor) == (v1, v2, "bob")
    assert release.registry.alias_version("m", "dev") == v1
    tags = release.registry.version("m", v1).tags
    assert "mlscope.dev.since" in tags
