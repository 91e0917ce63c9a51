"""Bad specs: unknown kinds, flows to missing components, cycles -> one line with the location."""

from __future__ import annotations

import re

import pytest

from mlscope.architecture import build_architecture
from mlscope.architecture.validate import ArchitectureSpecError

LOCATED = re.compile(r"^Error: .*mlscope\.yaml:(\d+):(\d+): architecture\.")


def _one_error_line(res) -> str:
    assert res.code == 2, res.out + res.err
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.err
    return lines[0]


@pytest.mark.parametrize("command", ["check", "diagram"])
def test_unknown_kind_points_at_the_line(run, write_spec, command: str) -> None:
    path = write_spec("recommender", 2, "architecture:\n  add:\n"
                      "    - {id: consent, kind: fetaure_store}\n")
    line = _one_error_line(run(command, path))
    m = LOCATED.match(line)
    assert m and m.group(1) == "5", line
    assert "architecture.add.0.kind" in line and "did you mean feature_store" in line


def test_validate_also_reports_unknown_kind(run, write_spec) -> None:
    path = write_spec("recommender", 2, "architecture:\n  add:\n    - {id: x, kind: nope}\n")
    res = run("validate", path)
    assert res.code == 2 and "architecture.add.0.kind" in res.err and ":5:" in res.err


def test_flow_to_missing_component(run, write_spec) -> None:
    path = write_spec("recommender", 1, "architecture:\n  flows:\n"
                      "    - {from: api, to: lakee, label: x}\n")
    line = _one_error_line(run("check", path))
    assert LOCATED.match(line), line
    assert "architecture.flows.0.to" in line and "no component 'lakee'" in line
    assert "did you mean lake" in line


def test_cycle_is_refused_unless_marked_loop(run, write_spec) -> None:
    path = write_spec("recommender", 2, "architecture:\n  flows:\n"
                      "    - {from: api, to: cache, label: write back}\n")
    line = _one_error_line(run("diagram", path, "--format", "mermaid"))
    assert LOCATED.match(line) and "architecture.flows.0" in line
    assert "cycle" in line and "cache → api → cache" in line and "loop: true" in line
    ok = write_spec("recommender", 2, "architecture:\n  flows:\n"
                    "    - {from: api, to: cache, label: write back, loop: true}\n")
    assert run("diagram", ok, "--format", "mermaid").code == 0


@pytest.mark.parametrize(("architecture", "where", "expected"), [
    ("architecture: {remove: [nosuch]}\n", "architecture.remove.0", "no component 'nosuch'"),
    ("architecture: {rename: {nosuch: X}}\n", "architecture.rename.nosuch", "no component"),
    ("architecture:\n  add:\n    - {id: api, kind: fallback}\n", "architecture.add.0.id",
     "already exists"),
    ("architecture:\n  remove_flows:\n    - {from: api, to: lake}\n",
     "architecture.remove_flows.0", "no flow api → lake"),
    ("architecture:\n  flows:\n    - {from: api, to: api}\n", "architecture.flows.0", "itself"),
])
def test_override_problems_are_located(write_spec, run, architecture: str, where: str,
                                       expected: str) -> None:
    path = write_spec("recommender", 2, architecture)
    line = _one_error_line(run("check", path))
    assert f": {where}: " in line and expected in line and re.search(r":\d+:\d+: ", line), line


def test_every_problem_is_collected(make_spec) -> None:
    spec = make_spec("recommender", 2, "architecture:\n  remove: [a1, a2]\n")
    with pytest.raises(ArchitectureSpecError) as err:
        build_architecture(spec)
    assert len(err.value.problems) == 2
    assert "(+1 more problems)" in err.value.one_line()


def test_bad_ids_are_spec_errors(run, write_spec) -> None:
    path = write_spec("recommender", 2,
                      "architecture:\n  add:\n    - {id: Bad-Id, kind: fallback}\n")
    line = _one_error_line(run("check", path))
    assert "architecture.add.0.id" in line and ":5:" in line


def test_overrides_apply(make_spec) -> None:
    spec = make_spec("recommender", 2, """architecture:
  add:
    - {id: consent, kind: data_validation, label: "Consent check", aws: "AWS Lambda"}
  remove: [batch]
  rename: {api: "Recs API v2"}
  flows:
    - {from: events, to: consent, label: "raw events"}
    - {from: app, to: router, label: "page view"}
  remove_flows:
    - {from: events, to: ingest}
""")
    graph = build_architecture(spec)
    assert "batch" not in graph.components and not any("batch" in (f.source, f.target)
                                                        for f in graph.flows)
    assert graph.components["api"].label == "Recs API v2"
    added = graph.components["consent"]
    assert (added.kind, added.phase, added.aws, added.origin) == (
        "data_validation", "data", "AWS Lambda", "spec")
    pairs = {(f.source, f.target): f.label for f in graph.flows}
    assert pairs[("events", "consent")] == "raw events"
    assert pairs[("app", "router")] == "page view"  # relabelled, not duplicated
    assert sum(1 for f in graph.flows if (f.source, f.target) == ("app", "router")) == 1
    assert ("events", "ingest") not in pairs


def test_architecture_problems_lists_every_problem(write_spec) -> None:
    from mlscope.architecture.locate import architecture_problems

    path = write_spec("recommender", 2, "architecture:\n  remove: [nosuch]\n  flows:\n"
                      "    - {from: api, to: lakee}\n")
    problems = architecture_problems(path)
    assert len(problems) == 2
    assert all(re.match(rf"{re.escape(str(path))}:\d+:\d+: architecture\.", p) for p in problems)
    assert architecture_problems(write_spec("recommender", 2)) == []
