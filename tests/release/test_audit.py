from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.release.audit import AuditLog, default_audit_log


def _log(tmp_path: Path, n: int = 4) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(n):
        log.append("alice@example.com", "promote", f"recs:{i + 1}", reason=f"step {i}",
                   before={"version": i}, after={"version": i + 1})
    return log


def _rewrite(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(line + "\n" for line in lines))


def test_intact_chain(tmp_path: Path) -> None:
    log = _log(tmp_path)
    res = log.verify()
    assert res.ok and res.first_bad is None and res.entries == 4
    entries = log.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[1]["prev"] == entries[0]["hash"]
    assert res.head == entries[-1]["hash"]


def test_empty_log_verifies(tmp_path: Path) -> None:
    assert AuditLog(tmp_path / "none.jsonl").verify().ok


def test_edit_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["actor"] = "mallory@example.com"
    lines[2] = json.dumps(entry)
    _rewrite(log, lines)
    res = log.verify()
    assert not res.ok and res.first_bad == 3 and "edited" in res.message


def test_delete_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    _rewrite(log, lines[:1] + lines[2:])
    res = log.verify()
    assert not res.ok and res.first_bad == 2


def test_reorder_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    _rewrite(log, lines)
    assert log.verify().first_bad == 2


def test_truncated_tail_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    _rewrite(log, lines[:3])
    res = log.verify()
    assert not res.ok and res.first_bad == 4 and "deleted from the end" in res.message


def test_anchor_catches_a_rewritten_log(tmp_path: Path) -> None:
    log = _log(tmp_path, 3)
    anchor = log.verify().head
    log.append("alice@example.com", "promote", "recs:9")
    assert log.verify(anchor).ok  # the anchored entry is still in a longer chain
    # Rewrite history consistently (new chain, new head file): only the anchor notices.
    forged = AuditLog(tmp_path / "forged.jsonl")
    for entry in log.entries():
        forged.append(entry["actor"], entry["action"], entry["subject"], "rewritten")
    forged.path.replace(log.path)
    forged.head_path.replace(log.head_path)
    assert log.verify().ok
    res = log.verify(anchor)
    assert not res.ok and "anchored hash" in res.message


def test_secrets_redacted(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    log.append("bob", "approve", "recs:2", reason="ok, password=hunter2",
               after={"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
    text = log.path.read_text()
    assert "hunter2" not in text and "wJalrXUtnFEMI" not in text
    assert log.verify().ok


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    # Separate processes (CI jobs, a deploy next to a promotion) append to the same log at
    # once; without the file lock this interleaves and breaks the chain within a few entries.
    import subprocess
    import sys
    import time

    path, go = tmp_path / "shared.jsonl", tmp_path / "go"
    code = ("import os, sys, time; from pathlib import Path; "
            "from mlscope.release.audit import AuditLog; log = AuditLog(Path(sys.argv[1]))\n"
            "while not os.path.exists(sys.argv[3]): time.sleep(0.005)\n"
            "for i in range(60): log.append(sys.argv[2], 'deploy', f'm:{i}')")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), f"p{k}", str(go)])
             for k in range(3)]
    time.sleep(1.0)  # let every process import and wait at the start line
    go.touch()
    assert all(p.wait(60) == 0 for p in procs)
    res = AuditLog(path).verify()
    assert res.ok, res.message
    assert res.entries == 180


def test_default_log_uses_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSCOPE_STATE_DIR", str(tmp_path / "st"))
    default_audit_log().append("a", "register", "m:1")
    assert (tmp_path / "st" / "audit.jsonl").exists()


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=4), st.text(min_size=1, max_size=20))
def test_any_single_edit_is_caught(tmp_path_factory: pytest.TempPathFactory, index: int,
                                   new_reason: str) -> None:
    log = _log(tmp_path_factory.mktemp("h"), 5)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[index])
    if entry["reason"] == new_reason:
        return
    entry["reason"] = new_reason
    lines[index] = json.dumps(entry)
    _rewrite(log, lines)
    assert log.verify().first_bad == index + 1
