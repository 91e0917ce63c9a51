"""Blueprints: every use case at every level is valid, connected and passes its own check;
taking away what a rule requires makes the check fail with that rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlscope.architecture import build_architecture, check_graph, load_blueprint, readiness
from mlscope.architecture.blueprints import LEVELS, parse_levels, use_cases
from mlscope.architecture.component_catalog import get_component_catalog
from mlscope.architecture.readiness import load_rules
from mlscope.errors import InputError, UnknownNameError

BLUEPRINTS = [u for u in use_cases() if u != "other"]  # "other" is the empty starting point
CASES = [(u, lv) for u in BLUEPRINTS for lv in LEVELS]
ISSUE_USE_CASES = {"recommender", "tabular-classifier", "forecasting", "llm-rag",
                   "edge-voice-assistant", "computer-vision"}


def test_the_issue_use_cases_all_have_blueprints() -> None:
    assert set(BLUEPRINTS) >= ISSUE_USE_CASES


@pytest.mark.parametrize(("use_case", "level"), CASES)
def test_blueprint_passes_its_own_readiness_check(make_spec, use_case: str, level: int) -> None:
    findings = readiness(make_spec(use_case, level))
    blocking = [(f.level, f.rule, f.message) for f in findings if f.level != "info"]
    assert blocking == []


@pytest.mark.parametrize(("use_case", "level"), CASES)
def test_blueprint_components_are_known_connected_and_labelled(use_case: str, level: int) -> None:
    graph = load_blueprint(use_case).at_level(level)
    kinds = get_component_catalog().kinds
    assert graph.components
    for c in graph.components.values():
        assert c.kind in kinds
        assert c.label and graph.flows_of(c.id), c.id
    assert all(f.label for f in graph.flows)


@pytest.mark.parametrize("use_case", BLUEPRINTS)
def test_levels_only_add_maturity(use_case: str) -> None:
    # A higher level needs at least as many components: maturity is added, not swapped out.
    sizes = [len(load_blueprint(use_case).at_level(lv).components) for lv in LEVELS]
    assert sizes == sorted(sizes) and sizes[0] < sizes[2]


def _required_removals() -> list[tuple[str, int, str, frozenset[str]]]:
    """(use case, level, rule id, kinds to remove) for every error rule a blueprint satisfies
    through `require_any`: removing those components must trigger exactly that rule."""
    cases = []
    for use_case, level in CASES:
        graph = load_blueprint(use_case).at_level(level)
        for rule in load_rules():
            if (rule.require_any and rule.applies(graph) and rule.severity[level] == "error"
                    and not rule.when_any & rule.require_any):
                cases.append((use_case, level, rule.id, rule.require_any & graph.kinds()))
    return cases


REMOVALS = _required_removals()


def test_removal_cases_cover_every_blueprint_at_level_two() -> None:
    assert {u for u, lv, _, _ in REMOVALS if lv == 2} == set(BLUEPRINTS)
    assert len(REMOVALS) > 50


@pytest.mark.parametrize(("use_case", "level", "rule", "kinds"), REMOVALS,
                         ids=[f"{u}-{lv}-{r}" for u, lv, r, _ in REMOVALS])
def test_removing_a_required_component_fails_with_that_rule(
        make_spec, use_case: str, level: int, rule: str, kinds: frozenset[str]) -> None:
    graph = load_blueprint(use_case).at_level(level)
    ids = [c.id for c in graph.components.values() if c.kind in kinds]
    spec = make_spec(use_case, level, f"architecture: {{remove: [{', '.join(ids)}]}}\n")
    errors = {f.rule for f in readiness(spec) if f.level == "error"}
    assert rule in errors


def test_missing_flow_requirement_is_found(make_spec) -> None:
    spec = make_spec("recommender", 2, "architecture:\n  remove_flows:\n"
                     "    - {from: fallback, to: svcmon}\n")
    found = {f.rule: f for f in readiness(spec)}
    assert found["fallback-rate-monitored"].level == "error"
    assert "fallback" in found["fallback-rate-monitored"].message


def test_findings_explain_why_and_fix(make_spec) -> None:
    spec = make_spec("tabular-classifier", 2, "architecture: {remove: [registry]}\n")
    finding = next(f for f in readiness(spec) if f.rule == "model-registry")
    as_dict = finding.to_dict()
    assert as_dict["level"] == "error" and as_dict["why"] and "model_registry" in as_dict["fix"]


def test_level_zero_notes_what_level_one_would_add(make_spec) -> None:
    rules = {f.rule for f in readiness(make_spec("recommender", 0)) if f.level == "info"}
    assert {"experiment-tracking", "orchestration", "model-registry"} <= rules


def test_environments_rule(make_spec) -> None:
    none = {f.rule: f for f in readiness(make_spec("forecasting", 2, environments=False))}
    assert none["environments"].level == "info"
    graph = build_architecture(make_spec("forecasting", 2))
    partial = check_graph(graph, ["dev", "prod"])
    env = next(f for f in partial if f.rule == "environments")
    assert env.level == "warning" and "qa" in env.message


def test_isolated_component_is_a_warning(make_spec) -> None:
    spec = make_spec("forecasting", 1, "architecture:\n  add:\n"
                     "    - {id: labels, kind: labeling}\n")
    finding = next(f for f in readiness(spec) if f.rule == "connected")
    assert finding.level == "warning" and "labels" in finding.message


def test_other_use_case_starts_empty_and_says_what_is_missing(make_spec) -> None:
    findings = readiness(make_spec("other", 1))
    assert "serving" in {f.rule for f in findings if f.level == "error"}


def test_unknown_use_case_and_level() -> None:
    with pytest.raises(UnknownNameError) as err:
        load_blueprint("recommendr")
    assert "did you mean recommender" in err.value.one_line()
    with pytest.raises(InputError, match="level 3"):
        load_blueprint("recommender").at_level(3)


@given(st.integers(0, 2), st.integers(0, 2), st.sampled_from(["", "+", "-"]))
def test_parse_levels(low: int, high: int, form: str) -> None:
    if form == "+":
        assert parse_levels(f"{low}+") == frozenset(range(low, 3))
    elif form == "-" and high >= low:
        assert parse_levels(f"{low}-{high}") == frozenset(range(low, high + 1))
    elif form == "-":
        with pytest.raises(ValueError, match="backwards"):
            parse_levels(f"{low}-{high}")
    else:
        assert parse_levels(low) == frozenset({low})


@given(st.text(max_size=6).filter(lambda s: s.strip() not in {"0", "1", "2"}))
def test_parse_levels_rejects_garbage(text: str) -> None:
    import re

    if re.fullmatch(r"\s*[012]\s*(\+|-\s*[012])?\s*", text):
        return
    with pytest.raises(ValueError):
        parse_levels(text)
