"""docs/architecture.md stays true: its commands run, its outputs and rule table are real."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from mlscope.architecture import build_architecture
from mlscope.architecture.paths import PATH_RULE_IDS
from mlscope.architecture.readiness import load_rules

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _console_commands(text: str) -> list[str]:
    return re.findall(r"^\$ (mlscope .+)$", text, flags=re.M)


def test_documented_commands_run(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the quick start writes shop-recs/ and architecture.* here
    for line in _console_commands(DOC.read_text()):
        args = shlex.split(line.split(" > ")[0])[1:]
        args = [str(ROOT / a) if a.startswith("examples/") else a for a in args]
        res = run(*args)
        assert res.code == 0, (line, res.err)
    assert (tmp_path / "architecture.svg").read_text().startswith("<?xml")
    assert (tmp_path / "architecture.png").read_bytes()[:4] == b"\x89PNG"


def test_documented_outputs_are_real(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DOC.read_text()
    monkeypatch.chdir(tmp_path)
    run("init", "--use-case", "recommender", "--level", "2", "--dir", "shop-recs")
    checked = run("check", "shop-recs/mlscope.yaml").out
    for expected in ("31 components, 42 flows", "ready: 0 error(s), 0 warning(s), 0 note(s)"):
        assert expected in checked and expected in text
    explained = run("explain", "online_endpoint").out
    assert explained.splitlines()[0] in text and "$175.20/month" in explained
    body = run("check", str(ROOT / "examples/edge-assistant/mlscope.yaml"), "--json").json()
    assert f'"info": {body["counts"]["info"]}' in text


def test_rule_table_lists_every_rule() -> None:
    table = DOC.read_text().split("## Readiness check", 1)[1]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", table, flags=re.M))
    assert ({r.id for r in load_rules()} | set(PATH_RULE_IDS)
            | {"environments", "connected", "waiver-expired", "waiver-unused"} == documented)


def test_documented_overrides_apply(make_spec) -> None:
    block = DOC.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    section = yaml.safe_dump(yaml.safe_load(block))
    graph = build_architecture(make_spec("recommender", 2, section))
    assert "dedupe" in graph.components and "batch" not in graph.components
