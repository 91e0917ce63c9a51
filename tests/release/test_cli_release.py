"""Error paths of `mlscope release` and `mlscope audit`: one line, exit 2 (bad input) or
exit 1 (refused by policy), never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlscope.release.artifact import RecommenderArtifact


@pytest.fixture
def registered(state: Path, run: Callable[..., Any]) -> Path:
    art = RecommenderArtifact(["u"], ["a", "b"], np.ones((1, 2), np.float32),
                              np.ones((2, 2), np.float32), ["a", "b"],
                              {"metrics": {"ndcg_at_10": 0.3}, "params": {"factors": 2}})
    out = art.save(state.parent / "art")
    res = run("release", "register", "recs", "--artifact", out, "--reason", "import", "--json")
    assert res.code == 0, res.err
    assert res.json()["version"] == 1 and res.json()["metrics"] == {"ndcg_at_10": 0.3}
    return out


@pytest.mark.parametrize(("args", "needle"), [
    (["release", "promote", "recz", "1", "--to", "dev"], "did you mean recs"),
    (["release", "promote", "recs", "7", "--to", "dev"], "no version 7"),
    (["release", "promote", "recs", "0", "--to", "dev"], "0 is not in the range"),
    (["release", "promote", "recs", "1", "--to", "stage"], "unknown environment 'stage'"),
    (["release", "register", "recs"], "pass --run ID or --artifact DIR"),
    (["release", "register", "recs", "--run", "x", "--artifact", "y"], "exclude each other"),
    (["release", "register", "recs", "--run", "f" * 32], "no MLflow run"),
    (["release", "register", "bad/name", "--run", "f" * 32], "not valid"),
    (["release", "approve", "recs", "1", "--env", "prod"], "Missing option '--reason'"),
    (["release", "approve", "recs", "1", "--env", "prod", "--reason", " "], "needs a reason"),
    (["release", "rollback", "recs", "--env", "prod"], "nothing holds prod"),
    (["release", "history", "recs", "--at", "2026-01-01"], "--at needs --env"),
    (["release", "history"], "no model name"),
    (["audit", "verify", "--file", "nope.jsonl"], "does not exist"),
])
def test_bad_input_exits_2(registered: Path, run: Callable[..., Any], args: list[str],
                           needle: str) -> None:
    res = run(*args)
    assert res.code == 2, (res.out, res.err)
    assert needle in res.err and "Traceback" not in res.err
    assert len(res.err.strip().splitlines()) == 1


def test_promote_twice_and_status(registered: Path, run: Callable[..., Any]) -> None:
    assert run("release", "promote", "recs", "1", "--to", "dev").code == 0
    again = run("release", "promote", "recs", "1", "--to", "dev")
    assert again.code == 2 and "already holds dev" in again.err
    status = run("release", "status", "recs", "--json").json()
    assert status["environments"]["dev"] == 1 and status["versions"][0]["aliases"] == ["dev"]
    table = run("release", "status", "recs")
    assert table.code == 0 and "alice@example.com" in table.out
    shown = run("audit", "show", "--json").json()
    assert [e["action"] for e in shown["entries"]] == ["register", "promote"]


def test_no_identity(registered: Path, run: Callable[..., Any], tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLSCOPE_USER")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "no-repo"))
    res = run("release", "promote", "recs", "1", "--to", "dev")
    assert res.code == 2 and "MLSCOPE_USER" in res.err


def test_refusals_exit_1(registered: Path, run: Callable[..., Any], tmp_path: Path) -> None:
    spec = tmp_path / "gates.yaml"
    spec.write_text("project: {name: x}\nrelease:\n  gates:\n    qa:\n"
                    "      metrics: {ndcg_at_10: {min: 0.5}}\n")
    res = run("release", "promote", "recs", "1", "--to", "qa", "--spec", spec)
    assert res.code == 1 and "ndcg_at_10 0.3 < min 0.5" in res.err
    self_ok = run("release", "approve", "recs", "1", "--env", "prod", "--reason", "mine")
    assert self_ok.code == 1 and "cannot approve" in self_ok.err


def test_audit_verify_human_output(registered: Path, run: Callable[..., Any],
                                   state: Path) -> None:
    ok = run("audit", "verify")
    assert ok.code == 0 and "intact" in ok.out and "head " in ok.out
    head = run("audit", "verify", "--json").json()["audit"]["head"]
    assert run("audit", "verify", "--anchor", head).code == 0
    assert run("audit", "verify", "--anchor", "0" * 63 + "1").code == 1
    (state / "audit.jsonl").write_text("")
    cut = run("audit", "verify", "--json")
    assert cut.code == 1 and cut.json()["audit"]["first_bad"] == 1


def test_tampered_alias_history_fails_verify(registered: Path, run: Callable[..., Any],
                                             state: Path) -> None:
    assert run("release", "promote", "recs", "1", "--to", "dev").code == 0
    history = state / "alias_history.jsonl"
    history.write_text(history.read_text().replace('"version":1', '"version":7'))
    res = run("audit", "verify", "--json")
    assert res.code == 1
    body = res.json()
    assert body["audit"]["ok"] and not body["alias_history"]["ok"]
    assert body["alias_history"]["first_bad"] == 1
