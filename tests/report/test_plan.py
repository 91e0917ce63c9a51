"""The plan: scheduling phases on a calendar, the checks, and `mlscope plan`."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.errors import SpecError
from mlscope.report.plan import MAX_TIME_BOX_WEEKS, schedule
from mlscope.spec import load_spec_text
from mlscope.spec.plan import PhaseSection, PlanSection

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MONDAY = dt.date(2027, 1, 4)


def rules(plan: PlanSection) -> set[str]:
    return {f.rule for f in schedule(plan).findings}


def test_phases_run_back_to_back_and_weeks_end_on_a_friday() -> None:
    t = schedule(PlanSection(start=MONDAY, phases=[
        PhaseSection(name="a", weeks=2, demo=True), PhaseSection(name="b", weeks=1, demo="x")]))
    a, b = t.phases
    assert (a.start, a.last_day, a.end) == (MONDAY, dt.date(2027, 1, 15), dt.date(2027, 1, 18))
    assert b.start == a.end and b.last_day == dt.date(2027, 1, 22)
    assert t.end == dt.date(2027, 1, 22) and t.total_weeks == 3


def test_days_are_working_days() -> None:
    friday = dt.date(2027, 1, 8)
    t = schedule(PlanSection(start=friday, phases=[PhaseSection(name="spike", days=3, demo=True)]))
    # Fri, Mon, Tue: the weekend does not count.
    assert t.phases[0].last_day == dt.date(2027, 1, 12)
    assert t.phases[0].time_box == "3 working days"


@settings(max_examples=60, deadline=None)
@given(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)),
       st.lists(st.one_of(st.builds(lambda w: {"weeks": w}, st.floats(0.2, 10)),
                          st.builds(lambda d: {"days": d}, st.integers(1, 60)),
                          st.just({})), min_size=1, max_size=8))
def test_schedule_is_contiguous_and_ends_on_working_days(start: dt.date,
                                                         boxes: list[dict[str, float]]) -> None:
    phases = [PhaseSection(name=f"p{i}", demo=True, **b) for i, b in enumerate(boxes)]
    t = schedule(PlanSection(start=start, phases=phases))
    for prev, nxt in itertools.pairwise(t.phases):
        assert nxt.start == prev.end
    for p in t.phases:
        assert p.start <= p.last_day <= max(p.start, p.end)
        if p.time_boxed and p.last_day > p.start:
            assert p.last_day.weekday() < 5
    untimed = [p.name for p in t.phases if not p.time_boxed]
    assert t.is_lower_bound == bool(untimed)
    assert {f.phase for f in t.findings if f.rule == "no-time-box"} == set(untimed)


def test_flags_missing_time_box_demo_and_long_phases() -> None:
    plan = PlanSection(start=MONDAY, phases=[
        PhaseSection(name="open-ended"),
        PhaseSection(name="marathon", weeks=MAX_TIME_BOX_WEEKS + 2, demo=True)])
    t = schedule(plan)
    by_rule = {(f.rule, f.phase) for f in t.findings}
    assert ("no-time-box", "open-ended") in by_rule
    assert ("no-demo", "open-ended") in by_rule
    assert ("long-time-box", "marathon") in by_rule
    assert ("no-demo", "marathon") not in by_rule
    assert all(f.fix for f in t.findings)


def test_flags_a_plan_that_ends_after_the_deadline_and_mvp_date() -> None:
    plan = PlanSection(start=MONDAY, mvp=dt.date(2027, 1, 13), deadline=dt.date(2027, 1, 20),
                       phases=[PhaseSection(name="mvp", weeks=2, demo=True, mvp=True),
                               PhaseSection(name="more", weeks=2, demo=True)])
    t = schedule(plan)
    assert [f.rule for f in t.findings[:2]] == ["after-deadline", "after-mvp-date"]
    assert t.findings[0].level == "error"
    assert "2027-01-29" in t.findings[0].message and "9 days after" in t.findings[0].message


def test_a_plan_that_fits_has_no_problems() -> None:
    plan = PlanSection(start=MONDAY, mvp=dt.date(2027, 1, 15), deadline=dt.date(2027, 1, 29),
                       phases=[PhaseSection(name="mvp", weeks=2, demo=True, mvp=True),
                               PhaseSection(name="more", weeks=2, demo=True)])
    assert schedule(plan).findings == []


def test_without_a_start_date_phases_are_relative_and_flagged() -> None:
    t = schedule(PlanSection(mvp=None, phases=[PhaseSection(name="a", weeks=2, demo=True)]))
    assert not t.dated and "no-start" in {f.rule for f in t.findings}
    assert t.to_dict()["phases"][0]["start"] is None
    assert rules(PlanSection()) == {"no-phases"}


def test_mvp_date_without_a_marked_phase_is_noted() -> None:
    plan = PlanSection(start=MONDAY, mvp=dt.date(2027, 2, 1),
                       phases=[PhaseSection(name="a", weeks=1, demo=True)])
    assert "no-mvp-phase" in rules(plan)


def test_team_shorthand_and_spec_validation() -> None:
    spec = load_spec_text("""
project: {name: p}
plan:
  start: 2027-01-04
  team: ["Ana (ML engineer)", "Ben", {name: Chen, allocation: 0.5}]
  phases: [{name: a, days: 5, demo: true}]
""")
    team = [(m.name, m.role, m.allocation) for m in spec.plan.team]
    assert team == [("Ana", "ML engineer", 1.0), ("Ben", None, 1.0), ("Chen", None, 0.5)]


@pytest.mark.parametrize(("body", "needle"), [
    ("phases: [{name: a, weeks: 1, days: 3}]", "weeks or days, not both"),
    ("start: 2027-02-01\n  deadline: 2027-01-01", "before start"),
    ("mvp: 2027-03-01\n  deadline: 2027-02-01", "before the mvp date"),
    ("phases: [{name: a, weeks: 0}]", "greater than 0"),
    ("phases: [{name: a, kind: research}]", "experiment"),
    ("start: someday", "date"),
    ("team: [{name: A, allocation: 2}]", "less than or equal to 1"),
])
def test_invalid_plans_are_spec_errors(body: str, needle: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec_text(f"project: {{name: p}}\nplan:\n  {body}\n")
    assert needle in " ".join(err.value.problems)


def test_cli_plan_for_the_examples(run) -> None:  # type: ignore[no-untyped-def]
    for name in ("recommender", "llm-pretrain"):
        res = run("plan", EXAMPLES / name / "mlscope.yaml", "--json")
        assert res.code == 0, res.err
        data = res.json()
        assert data["dated"] and data["phases"] and data["end"] <= data["deadline"]
        assert not [f for f in data["findings"] if f["level"] != "info"]
        assert all(p["demo"] and p["time_box"] for p in data["phases"])
    res = run("plan", EXAMPLES / "recommender" / "mlscope.yaml")
    assert res.code == 0 and "No problems found" in res.out and "ALS baseline" in res.out


def test_cli_plan_flags_and_strict(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "mlscope.yaml"
    f.write_text("project: {name: p}\nplan:\n  start: 2027-01-04\n  deadline: 2027-01-08\n"
                 "  phases: [{name: big, weeks: 3}, {name: tbd}]\n")
    res = run("plan", f)
    assert res.code == 0
    assert "after the deadline" in res.out and "no time box" in res.out
    assert "without a demo" in res.out
    assert run("plan", f, "--strict").code == 1
    data = run("plan", f, "--json").json()
    assert data["end_is_lower_bound"] is True
    assert {x["rule"] for x in data["findings"]} >= {"after-deadline", "no-time-box", "no-demo"}


def test_cli_plan_errors_exit_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = run("plan", tmp_path / "missing.yaml")
    assert res.code == 2 and res.err.startswith("Error:") and "Traceback" not in res.err
    bad = tmp_path / "bad.yaml"
    bad.write_text("project: {name: p}\nplan:\n  phases: [{name: a, weeks: -1}]\n")
    res = run("plan", bad)
    assert res.code == 2 and "plan.phases.0.weeks" in res.err


def test_an_untimed_phase_after_the_mvp_does_not_blur_the_mvp_date() -> None:
    t = schedule(PlanSection(start=MONDAY, mvp=dt.date(2027, 1, 8), deadline=dt.date(2027, 1, 8),
                             phases=[PhaseSection(name="mvp", weeks=2, demo=True, mvp=True),
                                     PhaseSection(name="later", demo=True)]))
    messages = {f.rule: f.message for f in t.findings}
    assert "ends no earlier than 2027-01-18" in messages["after-deadline"]
    assert "reached on 2027-01-15" in messages["after-mvp-date"]
