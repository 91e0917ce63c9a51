"""Path-based readiness: each attack on a gate is a spec that must fail `mlscope check`.

Every test here would pass if the rule it names were removed from `paths.py`, so each one also
asserts the rule id: removing a rule turns its test red.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlscope.architecture import build_architecture, check_graph, load_blueprint
from mlscope.architecture.blueprints import LEVELS, use_cases
from mlscope.architecture.build import readiness

BLUEPRINTS = [u for u in use_cases() if u != "other"]  # "other" is an empty starting point

# The two specs from issue 15: a training job wired straight to batch scoring with the approval
# flow removed, and gates drawn as boxes with no flows.
BYPASS = """architecture:
  flows:
    - {from: train, to: batch, label: "model"}
  remove_flows:
    - {from: approval, to: batch}
"""
ORPHAN = """architecture:
  remove_flows:
    - {from: qa, to: approval}
    - {from: approval, to: batch}
    - {from: approval, to: audit}
    - {from: logs, to: modelmon}
    - {from: feedback, to: modelmon}
    - {from: modelmon, to: trigger}
"""


def _check_json(run, path, *extra: str) -> tuple[int, dict]:
    res = run("check", str(path), "--json", *extra)
    return res.code, json.loads(res.out)


def _by_rule(payload: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in payload["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def test_bypass_spec_fails_with_rule_components_and_line(run, write_spec) -> None:
    path = write_spec("recommender", 2, BYPASS)
    code, payload = _check_json(run, path)
    assert code == 1 and not payload["ready"]
    rules = _by_rule(payload)
    for rule in ("path-evaluation", "path-registry", "path-approval"):
        (f,) = rules[rule]
        assert f["level"] == "error" and f["components"] == ["train", "batch"]
        # Line 5 of the file is the added flow (two header lines, then `architecture:`).
        assert f["location"] == f"{path}:5:7", f
        assert f["why"] and "train → batch" in f["fix"]
    assert {f["components"][-1] for f in rules["release-path"]} == {"batch", "api"}
    assert all(f["location"] == f"{path}:7:7" for f in rules["release-path"])  # remove_flows


def test_orphan_gates_fail(run, write_spec) -> None:
    path = write_spec("recommender", 2, ORPHAN)
    code, payload = _check_json(run, path)
    assert code == 1
    wired = {f["components"][0]: f for f in _by_rule(payload)["control-wired"]}
    assert set(wired) == {"approval", "audit", "modelmon"}
    assert all(f["level"] == "error" and f["location"].startswith(str(path)) for f in
               wired.values())
    # Each orphan points at the first remove_flows entry that cut it off.
    assert wired["audit"]["location"] == f"{path}:7:7"


def test_human_output_names_rule_and_line(run, write_spec) -> None:
    path = write_spec("recommender", 2, BYPASS)
    res = run("check", str(path))
    assert res.code == 1
    text = " ".join(res.out.split())
    assert "path-approval" in text and f"{path}:5:7" in text and "components: train, batch" in text


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("use_case", BLUEPRINTS)
def test_every_blueprint_passes_strict(use_case: str, level: int) -> None:
    graph = load_blueprint(use_case).at_level(level)
    failing = [f for f in check_graph(graph, ["dev", "qa", "prod"]) if f.counts_at(strict=True)]
    assert not failing, [(f.rule, f.message) for f in failing]


@pytest.mark.parametrize(("use_case", "level", "architecture", "rule"), [
    # The edge blueprint before issue 15: quantised after evaluation, QA and approval.
    ("edge-voice-assistant", 2, """architecture:
  remove_flows: [{from: train, to: package}, {from: package, to: evaluate},
                 {from: approval, to: fleet}]
  flows:
    - {from: train, to: evaluate, label: candidate}
    - {from: approval, to: package, label: approved}
    - {from: package, to: fleet, label: bundle}
""", "artefact-evaluated"),
    # The RAG blueprint before: the LLM's answer never came back to the user.
    ("llm-rag", 2, "architecture: {remove: [guard_out]}\n", "llm-answer-returns"),
    ("llm-rag", 2, """architecture:
  remove_flows: [{from: llm, to: guard_out}]
  flows: [{from: llm, to: app, label: answer, loop: true}]
""", "llm-output-guarded"),
    ("recommender", 2, "architecture: {remove_flows: [{from: batch, to: svcmon}]}\n",
     "production-monitored"),
    ("recommender", 2, "architecture: {remove_flows: [{from: api, to: fallback}]}\n",
     "production-fallback"),
    ("recommender", 2, "architecture: {flows: [{from: lake, to: train, label: raw}]}\n",
     "data-validated"),
    ("recommender", 2, "architecture: {remove_flows: [{from: approval, to: audit}], "
     "flows: [{from: qa, to: audit, label: results}]}\n", "approval-audited"),
    ("recommender", 1, "architecture: {remove_flows: [{from: modelmon, to: trigger}]}\n",
     "monitoring-wired"),
])
def test_each_attack_is_caught(make_spec, use_case: str, level: int, architecture: str,
                               rule: str) -> None:
    findings = readiness(make_spec(use_case, level, architecture))
    hits = [f for f in findings if f.rule == rule]
    assert hits and all(f.components for f in hits), [(f.rule, f.message) for f in findings]
    assert any(f.counts_at(strict=True) for f in hits)


def test_level_one_approval_bypass_is_a_warning_that_strict_fails(run, write_spec) -> None:
    path = write_spec("recommender", 1, "architecture:\n  flows:\n"
                      "    - {from: registry, to: batch, label: latest}\n")
    code, payload = _check_json(run, path)
    assert code == 0 and _by_rule(payload)["path-approval"][0]["level"] == "warning"
    code, payload = _check_json(run, path, "--strict")
    assert code == 1 and payload["strict"] is True


WAIVER = """  waivers:
    - {rule: path-approval, components: [batch], reason: "pilot: the owner signs off by hand",
       expires: 2027-03-31, owner: dana@example.com}
"""


def test_waiver_accepts_a_finding_until_it_expires(run, write_spec) -> None:
    path = write_spec("recommender", 1, "architecture:\n  flows:\n"
                      "    - {from: registry, to: batch, label: latest}\n" + WAIVER)
    code, payload = _check_json(run, path, "--strict", "--as-of", "2027-01-15")
    assert code == 0 and payload["waived"] == 1
    (f,) = _by_rule(payload)["path-approval"]
    assert f["waived"]["reason"].startswith("pilot") and f["waived"]["expires"] == "2027-03-31"
    assert f["waived"]["where"] == f"{path}:7:7"
    code, payload = _check_json(run, path, "--strict", "--as-of", "2027-04-01")
    rules = _by_rule(payload)
    assert code == 1 and rules["path-approval"][0]["waived"] is None
    assert rules["waiver-expired"][0]["location"] == f"{path}:7:7"


def test_unused_waiver_is_reported(make_spec) -> None:
    spec = make_spec("recommender", 2, "architecture:\n" + WAIVER)
    import datetime as dt

    rules = {f.rule for f in readiness(spec, as_of=dt.date(2027, 1, 1))}
    assert "waiver-unused" in rules


def test_spec_layer_imports_no_engine() -> None:
    code = ("import sys, mlscope.spec; from mlscope.spec import load_spec_text; "
            "load_spec_text('project: {name: t, use_case: recommender}\\narchitecture: "
            "{add: [{id: x, kind: fallback}]}\\n'); "
            "print(sorted(m for m in sys.modules if m.startswith('mlscope.architecture')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_spec_edits_are_kept_for_locations(make_spec) -> None:
    graph = build_architecture(make_spec("recommender", 2, BYPASS))
    assert [(e.action, e.ids) for e in graph.edits] == [
        ("remove_flow", ("approval", "batch")), ("add_flow", ("train", "batch"))]
