"""End to end on the recommender (ALS on MovieLens-100k from the recbole wheel) through the
real CLI: train → register → dev → qa (beat the champion on the pinned evaluation set) → prod
with signed approvals → serve → rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

SPEC = """\
version: 1
project: {{name: recs-e2e}}
release:
  model_name: recs
  allowed_signers: allowed_signers
  evaluation: {{path: rec_eval.jsonl, sha256: {sha}, task: ranking}}
  gates:
    qa:
      metrics: {{ndcg_at_10: {{min: 0.05}}}}
      beat_champion: {{metric: ndcg_at_10, confidence: 0.95}}
      simulation: {{max_error_rate: 0.0, max_requests: 200, p99_latency_ms: 2000}}
    prod:
      requires: qa
      approvals: 2
"""


@pytest.fixture
def stop_servers() -> Iterator[None]:
    yield
    from mlscope.release.deploy.local import running_server, stop_local

    if running_server("prod") is not None:
        stop_local("prod")


@pytest.mark.slow
@pytest.mark.timeout(900)  # many real processes; slow on a loaded 2-core machine
def test_recommender_release_end_to_end(repo: Any, run: Callable[..., Any],
                                        stop_servers: None) -> None:
    pytest.importorskip("implicit")
    from mlscope.release.digest import file_digest
    from mlscope.release.reference_app import write_evaluation_set

    evalset = write_evaluation_set(repo.root / "rec_eval.jsonl")
    repo.write_spec(SPEC.format(sha=file_digest(evalset)))

    def promote(version: int, env: str) -> Any:
        return run("release", "promote", "recs", str(version), "--to", env, "--json")

    def approve(version: int) -> None:
        for who in ("bob", "carol"):
            repo.use(who)
            assert run("release", "approve", "recs", str(version), "--env", "prod",
                       "--reason", "ok").code == 0
        repo.use("alice")

    weak = run("release", "train", "--factors", "4", "--iterations", "2", "--register", "recs",
               "--json")
    strong = run("release", "train", "--register", "recs", "--json")
    assert weak.code == 0 and strong.code == 0, weak.err + strong.err
    assert strong.json()["data_version"]["rows"] == 100_000
    v1, v2 = weak.json()["registered"]["version"], strong.json()["registered"]["version"]

    for env in ("dev", "qa"):
        assert promote(v1, env).code == 0
    approve(v1)
    assert promote(v1, "prod").code == 0
    assert promote(v2, "dev").code == 0
    res = promote(v2, "qa")
    assert res.code == 0, res.out
    gates = {g["gate"]: g for g in res.json()["gates"]}
    assert gates["beat_champion"]["data"]["champion"] == v1
    assert gates["beat_champion"]["data"]["low"] > 0
    assert res.json()["overrides"] == {}
    # the weak one cannot come back to qa: it does not beat v2 on the pinned set
    res = promote(v1, "qa")
    assert res.code == 1 and any("beat_champion" in r for r in res.json()["refusals"])
    approve(v2)
    assert promote(v2, "prod").code == 0

    res = run("deploy", "run", "recs", "--env", "prod", "--json")
    assert res.code == 0, res.err
    url = res.json()["url"]
    body = httpx.post(f"{url}/recommend", json={"user_id": "196", "k": 5}, timeout=30).json()
    assert body["model_version"] == str(v2) and len(body["items"]) == 5
    assert body["fallback"] is False

    res = run("release", "rollback", "recs", "--env", "prod", "--reason", "incident", "--json")
    assert res.code == 0 and res.json()["version"] == v1
    assert run("deploy", "run", "recs", "--env", "prod").code == 0
    body = httpx.post(f"{url}/recommend", json={"user_id": "196", "k": 5}, timeout=30).json()
    assert body["model_version"] == str(v1)
    assert run("audit", "verify").code == 0
