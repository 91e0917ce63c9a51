"""End to end on the reference app, through the real CLI: train two versions, register, promote
to dev, pass and fail the qa gates for the right reasons, refuse prod without approvals and with
a self-approval, promote with two approvals, roll back, verify and tamper with the audit log."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

SPEC = """\
version: 1
project: {name: recs-e2e}
release:
  model_name: recs
  gates:
    qa:
      metrics: {ndcg_at_10: {min: 0.05}, rmse: {max: 1.2}}
      beat_champion: {metric: ndcg_at_10, confidence: 0.95}
      simulation: {max_error_rate: 0.0, p99_latency_ms: 200}
    prod:
      requires: qa
      approvals: 2
"""


def _gates(res: Any) -> dict[str, dict[str, Any]]:
    return {g["gate"]: g for g in res.json()["gates"]}


def test_release_process_end_to_end(state: Path, tmp_path: Path, run: Callable[..., Any],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def as_user(who: str) -> None:
        monkeypatch.setenv("MLSCOPE_USER", who)

    def approve(version: str, *people: str) -> None:
        for who in people:
            as_user(who)
            res = run("release", "approve", "recs", version, "--env", "prod", "--reason",
                      f"reviewed by {who}; api_key=sk-live-0123456789abcdef")
            assert res.code == 0, res.err
        as_user("alice@example.com")

    (tmp_path / "mlscope.yaml").write_text(SPEC)
    # Two versions by alice: a weak one (4 factors, 2 sweeps) and a stronger one.
    weak = run("release", "train", "--factors", "4", "--iterations", "2", "--register", "recs",
               "--json")
    assert weak.code == 0, weak.err
    strong = run("release", "train", "--factors", "32", "--iterations", "10", "--register",
                 "recs", "--json")
    assert strong.code == 0, strong.err
    assert weak.json()["registered"]["version"] == 1
    assert strong.json()["registered"]["version"] == 2
    assert strong.json()["data_version"]["rows"] == 100_000
    assert strong.json()["metrics"]["ndcg_at_10"] > weak.json()["metrics"]["ndcg_at_10"]

    assert run("release", "promote", "recs", "1", "--to", "dev").code == 0
    assert run("release", "promote", "recs", "2", "--to", "dev").code == 0

    # v1 goes through qa (no champion yet) to prod; prod is refused without approvals and the
    # author's own approval is refused and does not count.
    first = run("release", "promote", "recs", "1", "--to", "qa", "--json")
    assert first.code == 0 and first.json()["promoted"]
    assert "nothing to beat" in _gates(first)["beat_champion"]["detail"]
    no_approvals = run("release", "promote", "recs", "1", "--to", "prod", "--json")
    assert no_approvals.code == 1
    assert "0 of 2 approvals" in _gates(no_approvals)["approvals"]["detail"]
    self_approval = run("release", "approve", "recs", "1", "--env", "prod", "--reason", "mine")
    assert self_approval.code == 1 and "cannot approve" in self_approval.err
    still_none = run("release", "promote", "recs", "1", "--to", "prod", "--json")
    assert still_none.code == 1 and _gates(still_none)["approvals"]["data"]["approvers"] == []
    approve("1", "bob@example.com", "carol@example.com")
    assert run("release", "promote", "recs", "1", "--to", "prod").code == 0

    # qa: v2 must beat v1 by a bootstrap CI over per-user nDCG@10, and does.
    second = run("release", "promote", "recs", "2", "--to", "qa", "--json")
    assert second.code == 0, second.out
    beat = _gates(second)["beat_champion"]["data"]
    assert beat["champion"] == 1 and beat["low"] > 0 and beat["n"] > 500
    sim = _gates(second)["simulation"]["data"]
    assert sim["errors"] == 0 and sim["requests"] > 500

    # v3 is v2 retrained (same seed, same params): no improvement is not a win; and a latency
    # budget no model can meet fails the simulation gate.
    same = run("release", "train", "--register", "recs", "--json")
    assert same.json()["registered"]["version"] == 3
    refused = run("release", "promote", "recs", "3", "--to", "qa", "--json")
    assert refused.code == 1
    gates = _gates(refused)
    assert "does not beat champion v2" in gates["beat_champion"]["detail"]
    assert gates["metric:ndcg_at_10"]["passed"] and gates["simulation"]["passed"]
    strict = tmp_path / "strict.yaml"
    strict.write_text(SPEC.replace("p99_latency_ms: 200", "p99_latency_ms: 0.000001"))
    slow = run("release", "promote", "recs", "3", "--to", "qa", "--spec", strict, "--json")
    assert slow.code == 1 and "p99 latency" in _gates(slow)["simulation"]["detail"]
    assert run("release", "status", "--json").json()["environments"]["qa"] == 2

    # prod: one approval is not enough, two distinct non-authors are.
    approve("2", "bob@example.com", "bob@example.com")
    one = run("release", "promote", "recs", "2", "--to", "prod", "--json")
    assert one.code == 1 and "1 of 2 approvals" in _gates(one)["approvals"]["detail"]
    approve("2", "carol@example.com")
    before_v2 = datetime.now(UTC).isoformat()
    promoted = run("release", "promote", "recs", "2", "--to", "prod", "--json")
    assert promoted.code == 0 and promoted.json()["previous"] == 1
    assert _gates(promoted)["approvals"]["data"]["approvers"] == ["bob@example.com",
                                                                  "carol@example.com"]
    with_v2 = datetime.now(UTC).isoformat()

    # Roll back: prod goes back to v1; rollback cannot smuggle in a version prod never held.
    smuggle = run("release", "rollback", "--env", "prod", "--to-version", "3")
    assert smuggle.code == 2 and "never held prod" in smuggle.err
    rolled = run("release", "rollback", "--env", "prod", "--reason", "incident 42", "--json")
    assert rolled.code == 0
    assert (rolled.json()["version"], rolled.json()["previous"]) == (1, 2)
    assert run("release", "status", "--json").json()["environments"]["prod"] == 1
    assert run("release", "rollback", "--env", "prod").code == 2  # nothing earlier than v1
    at = {when: run("release", "history", "--env", "prod", "--at", when, "--json").json()
          for when in (before_v2, with_v2)}
    assert at[before_v2]["version"] == 1 and at[with_v2]["version"] == 2

    # The audit log holds every step and no secret, and verifies; then tampering is caught.
    ok = run("audit", "verify", "--json")
    assert ok.code == 0 and ok.json()["ok"]
    log = state / "audit.jsonl"
    text = log.read_text()
    assert "sk-live-0123456789abcdef" not in text
    actions = {json.loads(line)["action"] for line in text.splitlines()}
    assert {"register", "promote", "promote.refused", "approve", "approve.refused",
            "rollback"} <= actions
    lines = text.splitlines()
    entry = json.loads(lines[4])
    entry["actor"] = "mallory@example.com"
    lines[4] = json.dumps(entry)
    log.write_text("\n".join(lines) + "\n")
    broken = run("audit", "verify")
    assert broken.code == 1 and "entry 5" in broken.err and "edited" in broken.err
    # Approvals read from a broken log are not trusted.
    distrust = run("release", "promote", "recs", "2", "--to", "prod", "--json")
    assert distrust.code == 1 and "not intact" in _gates(distrust)["approvals"]["detail"]
