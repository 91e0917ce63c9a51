"""The report: sections from the real engines, honest notices, a self-contained page, the CLI."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from mlscope.errors import InputError
from mlscope.report.build import build_report, render_html, write_report
from mlscope.report.context import ReportContext
from mlscope.report.model import Section, Skip
from mlscope.report.sections import Entry, run_section
from mlscope.spec import load_spec, load_spec_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECTION_IDS = ["system", "experience", "plan", "demos", "monthly-cost", "budget-risk",
               "estimate", "inference", "architecture", "readiness", "assumptions"]
AS_OF = dt.date(2026, 12, 1)
MAX_BYTES = 5 * 1024 * 1024

# A small project with environments, schedules and a budget, so every engine has input.
COSTED = """
project: {name: costed, use_case: recommender, mlops_level: 1}
model: {kind: als, factors: 64, iterations: 10}
dataset: {users: 1e6, items: 1e5, interactions: 1e8}
training: {instance: m6i.8xlarge, runs_per_month: 4}
budget: {monthly_usd: 600}
environments:
  - name: dev
    schedule: off=(M-F,19);on=(M-F,7);tz=pt
    resources:
      - {kind: notebook, name: nb, instance: ml.t3.medium, count: 3}
      - {kind: ec2, name: box, instance: m6i.2xlarge}
  - name: prod
    resources:
      - {kind: endpoint, name: ep, instance: ml.m5.xlarge, min_instances: 1, max_instances: 4,
         typical_instances: 2}
      - {kind: training, name: retrain, from_estimator: true}
plan:
  start: 2027-01-04
  deadline: 2027-02-26
  phases:
    - {name: ALS baseline, weeks: 2, demo: offline recall}
    - {name: API in staging, kind: feature, weeks: 2, demo: live in staging}
"""


def no_external_resources(html: str) -> None:
    """Works offline: nothing is fetched from the network, no script or stylesheet file."""
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html


EXAMPLE_NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/mlscope.yaml"))
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_each_example_renders_every_section(example: str, tmp_path: Path) -> None:
    written = write_report(EXAMPLES / example / "mlscope.yaml", tmp_path)
    report = written.report
    # "actuals" appears only for a spec with a billing export (tests/billing/test_report.py).
    assert [s.id for s in report.sections if s.id != "actuals"] == SECTION_IDS
    html = written.html_path.read_text()
    for s in report.sections:
        assert f'id="{s.id}"' in html
        assert s.status != "ok" or s.facts or s.figures or s.findings or s.tables
    labels = [label for label, _ in report.summary]
    assert labels[:3] == ["What", "Total cost", "Delivery"] and labels[-1] == "Decision asked"
    assert written.size_bytes < MAX_BYTES
    no_external_resources(html)
    assert not [s.notice for s in report.sections if s.status == "failed"]


@pytest.mark.parametrize("example", ["recommender", "llm-pretrain"])
def test_examples_with_a_plan_show_estimate_and_plan(example: str) -> None:
    report = build_report(load_spec(EXAMPLES / example / "mlscope.yaml"))
    assert report.section("plan").status == "ok" and report.section("estimate").status == "ok"
    assert report.section("plan").figures and report.section("estimate").figures


def test_costed_project_has_bars_histogram_and_summary(tmp_path: Path) -> None:
    spec = load_spec_text(COSTED)
    report = build_report(spec, as_of=AS_OF)
    by_id = {s.id: s for s in report.sections}
    monthly, risk = by_id["monthly-cost"], by_id["budget-risk"]
    assert monthly.status == "ok" and "chart bars" in monthly.figures[0].svg
    assert {"dev", "prod"} <= {row[0] for row in monthly.tables[0].rows}
    assert risk.status == "ok" and "chart overrun" in risk.figures[0].svg
    # The engine's draws were reproduced (their quantiles matched), so it is a histogram.
    assert "simulated versions" in risk.figures[0].caption
    assert "a month at typical usage" in dict(monthly.facts)["Monthly cost"]
    risks = report.decision.risks
    assert any("$600 monthly budget" in r.title for r in risks)
    assert by_id["assumptions"].lists  # the cost engine's assumptions and price sources
    assert any("sources" in heading for heading, _ in by_id["assumptions"].lists)


def test_a_failing_section_keeps_its_place_with_the_reason() -> None:
    ctx = ReportContext(load_spec_text(COSTED), AS_OF)

    def broken(ctx: ReportContext, sec: Section) -> None:
        raise RuntimeError("division by zero in the engine")

    def bad_input(ctx: ReportContext, sec: Section) -> None:
        raise InputError("the spec has no environments", "add an `environments:` section")

    def nothing(ctx: ReportContext, sec: Section) -> None:
        raise Skip("the spec has no budget")

    failed = run_section(ctx, Entry("estimate", "Training estimate", "lead", broken))
    assert failed.status == "failed" and "division by zero" in failed.notice
    engine = run_section(ctx, Entry("monthly-cost", "Monthly cost", "lead", bad_input))
    assert engine.status == "failed" and "add an `environments:` section" in engine.notice
    skipped = run_section(ctx, Entry("budget-risk", "Budget", "lead", nothing))
    assert skipped.status == "no-input" and not skipped.facts


def test_report_exits_1_naming_the_failed_section(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # An estimate the engine refuses (a model with no size): the section fails, the page is
    # still written, and the command says which section failed.
    spec = tmp_path / "mlscope.yaml"
    spec.write_text("project: {name: t, use_case: llm-pretrain}\nmodel: {kind: transformer}\n"
                    "dataset: {tokens: 1e9}\n")
    res = run("report", spec, "-o", tmp_path / "r", "--as-of", "2026-12-01")
    assert res.code == 1, res.out + res.err
    assert "error: section 'Training estimate' failed" in res.err
    assert (tmp_path / "r" / "index.html").exists()


def test_report_on_a_spec_with_a_cycle_exits_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "mlscope.yaml"
    spec.write_text("project: {name: t, use_case: recommender, mlops_level: 2}\n"
                    "architecture:\n  flows:\n    - {from: api, to: cache, label: back}\n")
    res = run("report", spec, "-o", tmp_path / "r")
    assert res.code == 2 and "cycle" in res.err and "Traceback" not in res.err


def test_report_is_byte_identical_for_one_date(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = EXAMPLES / "recommender" / "mlscope.yaml"
    outs = []
    for name in ("a", "b"):
        res = run("report", spec, "-o", tmp_path / name, "--as-of", "2026-12-01")
        assert res.code == 0, res.err
        outs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    assert outs[0] == outs[1] and "index.html" in outs[0]
    html = outs[0]["index.html"].decode()
    assert "2026-12-01" in html and str(tmp_path) not in html


def test_decision_adds_people_at_the_loaded_rate() -> None:
    spec = load_spec(EXAMPLES / "recommender" / "mlscope.yaml")
    t_weeks, fte = 11.0, 2.7  # the plan: 1 + 5 × 2 weeks; Ana, Ben, Chen 0.5, Dana 0.2
    base = build_report(spec, as_of=AS_OF)
    double = build_report(spec, as_of=AS_OF, loaded_rate=300_000)
    people = {k: v for k, v in base.decision.breakdown}["People (the plan's team)"]
    assert people.startswith("$85,673")  # hand computation below
    assert round(fte * 150_000 * t_weeks / 52) == 85673
    diff = double.decision.data["total_usd"]["p50"] - base.decision.data["total_usd"]["p50"]
    assert diff == pytest.approx(fte * 150_000 * t_weeks / 52, abs=0.02)  # cents rounded
    assert "8 in 10 chance between" in base.decision.total_explained


def test_a_configuration_that_does_not_fit_never_headlines() -> None:
    from mlscope.report.decision import _estimate_risks
    from mlscope.report.sections.estimate import _facts

    q = {"p10": 1.0, "p50": 2.0, "p90": 4.0}
    best = {"instance_type": "p5en.48xlarge", "instances": 32, "count": 256,
            "accelerator": "H200", "purchase": "spot", "wall_clock_hours": q,
            "cost_usd": {"p10": 100.0, "p50": 200.0, "p90": 300.0}}
    est = {"method": "analytic", "wall_clock_hours": q, "cost_usd": q, "best": best,
           "memory": {"per_accelerator_gb": 107.3, "capacity_gb": 80.0, "fits": False,
                      "min_count": 256}}
    facts = _facts(est)
    assert facts[0][0] == "Cheapest configuration that fits" and "p5en.48xlarge" in facts[0][1]
    assert "Cost per run (the spec's configuration, which does not fit)" in dict(facts)
    assert "Recommended option" not in dict(facts)
    ctx = ReportContext(load_spec(EXAMPLES / "llm-pretrain" / "mlscope.yaml"), AS_OF)
    ctx._cache["estimate"] = est
    risks = _estimate_risks(ctx)
    assert risks[0].blocker and "does not fit" in risks[0].title
    # The P90 risk is priced from the option that fits ($300 - $200), not the impossible one.
    assert risks[1].cost_usd == pytest.approx(100.0)


def test_plan_without_phases_and_budget_without_amount_say_what_to_add() -> None:
    report = build_report(load_spec_text("project: {name: bare}\n"))
    plan = report.section("plan")
    assert plan.status == "no-input" and "plan:" in plan.notice
    assert report.section("estimate").status == "no-input"
    assert not report.failed


def test_messages_fit_the_use_case() -> None:
    report = build_report(load_spec(EXAMPLES / "edge-assistant" / "mlscope.yaml"), as_of=AS_OF)
    notice = report.section("estimate").notice
    assert "on the device" in notice and "--model" not in notice


def test_text_from_the_spec_is_escaped() -> None:
    spec = load_spec_text("project: {name: '<script>alert(1)</script>', "
                          "description: 'A & B'}\nplan:\n  phases: [{name: '<b>x</b>', weeks: 1, "
                          "demo: true}]\n")
    html = render_html(build_report(spec))
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html


def test_cli_report_summary_and_json(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = EXAMPLES / "recommender" / "mlscope.yaml"
    res = run("report", spec, "-o", tmp_path / "r", "--as-of", "2026-12-01")
    assert res.code == 0, res.err
    assert "Total cost" in res.out and "Decision asked" in res.out and "Risk 3" in res.out
    assert str(tmp_path / "r" / "index.html") in res.out.replace("\n", "")
    data = run("report", spec, "-o", tmp_path / "r", "--json", "--as-of", "2026-12-01").json()
    assert Path(data["html"]).exists() and data["pdf"] is None and data["failed"] == []
    assert len(data["decision"]["risks"]) == 3 and data["decision"]["total_usd"]["p50"] > 0
    assert [s["id"] for s in data["sections"]] == SECTION_IDS


def test_cli_report_errors_exit_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = run("report", tmp_path / "nope.yaml", "-o", tmp_path / "r")
    assert res.code == 2 and res.err.startswith("Error:")
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    res = run("report", EXAMPLES / "recommender" / "mlscope.yaml", "-o", afile)
    assert res.code == 2 and "Traceback" not in res.err
    res = run("report", EXAMPLES / "recommender" / "mlscope.yaml", "-o", afile / "sub")
    assert res.code == 2 and "cannot write the report" in res.err


def test_pdf_without_chromium_names_the_package(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    res = run("report", EXAMPLES / "llm-pretrain" / "mlscope.yaml", "-o", tmp_path / "r", "--pdf")
    assert res.code == 2 and "apt-get install chromium" in res.err
