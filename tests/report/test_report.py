"""The report: sections from the real engines, honest notices, a self-contained page, the CLI."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from mlscope.errors import InputError
from mlscope.report.build import build_report, render_html, write_report
from mlscope.report.model import EngineUnavailable, Section, engine_function
from mlscope.report.sections import _guarded
from mlscope.spec import load_spec, load_spec_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECTION_IDS = ["architecture", "readiness", "estimate", "monthly-cost", "budget-risk", "plan",
               "inference", "assumptions"]
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
    assert len(report.summary) == 5
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
    report = build_report(spec)
    by_id = {s.id: s for s in report.sections}
    monthly, risk = by_id["monthly-cost"], by_id["budget-risk"]
    assert monthly.status == "ok" and "chart bars" in monthly.figures[0].svg
    assert {"dev", "prod"} <= {row[0] for row in monthly.tables[0].rows}
    assert risk.status == "ok" and "chart overrun" in risk.figures[0].svg
    # The engine's draws were reproduced (their quantiles matched), so it is a histogram.
    assert "simulated versions" in risk.figures[0].caption
    summary = dict(report.summary)
    assert "a month at typical usage" in summary["Monthly cost"]
    assert "$600 monthly budget" in summary["Overrun risk"]
    assert by_id["assumptions"].lists  # the cost engine's assumptions and price sources
    assert any("sources" in heading for heading, _ in by_id["assumptions"].lists)


def test_a_missing_engine_is_said_plainly_without_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate an installation without the estimator: importing it fails.
    monkeypatch.setitem(sys.modules, "mlscope.estimate.api", None)
    report = build_report(load_spec(EXAMPLES / "llm-pretrain" / "mlscope.yaml"))
    est = report.section("estimate")
    assert est.status == "unavailable"
    assert "not available yet: the training estimator" in est.notice
    assert not (est.facts or est.figures or est.tables)
    assert dict(report.summary)["Training estimate"] == est.notice
    html = render_html(report)
    block = html.split('id="estimate"')[1].split("</section>")[0]
    assert "Not available yet" in block and "$" not in block


def test_engine_function_explains_what_is_missing() -> None:
    with pytest.raises(EngineUnavailable, match="not installed/implemented"):
        engine_function("mlscope.no_such_engine", "run", "crystal ball")
    with pytest.raises(EngineUnavailable, match=r"has no mlscope.errors.nothing\(\)"):
        engine_function("mlscope.errors", "nothing", "error engine")
    assert engine_function("mlscope.spec", "load_spec", "spec") is load_spec


def test_a_failing_engine_keeps_its_place_with_the_reason() -> None:
    def broken() -> Section:
        raise RuntimeError("division by zero in the engine")

    def bad_input() -> Section:
        raise InputError("the spec has no environments", "add an `environments:` section")

    failed = _guarded("estimate", broken)
    assert failed.status == "failed" and "division by zero" in failed.notice
    missing = _guarded("monthly-cost", bad_input)
    assert missing.status == "no-input" and "add an `environments:` section" in missing.notice


def test_plan_without_phases_and_budget_without_amount_say_what_to_add() -> None:
    report = build_report(load_spec_text("project: {name: bare}\n"))
    plan = report.section("plan")
    assert plan.status == "no-input" and "plan:" in plan.notice
    assert report.section("estimate").status != "ok"


def test_text_from_the_spec_is_escaped() -> None:
    spec = load_spec_text("project: {name: '<script>alert(1)</script>', "
                          "description: 'A & B'}\nplan:\n  phases: [{name: '<b>x</b>', weeks: 1, "
                          "demo: true}]\n")
    html = render_html(build_report(spec))
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html


def test_cli_report_summary_and_json(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = EXAMPLES / "recommender" / "mlscope.yaml"
    res = run("report", spec, "-o", tmp_path / "r")
    assert res.code == 0, res.err
    assert "Training estimate" in res.out and "Readiness" in res.out
    assert str(tmp_path / "r" / "index.html") in res.out.replace("\n", "")
    data = run("report", spec, "-o", tmp_path / "r", "--json").json()
    assert Path(data["html"]).exists() and data["pdf"] is None
    assert set(data["summary"]) == {"Training estimate", "Monthly cost", "Overrun risk",
                                    "Readiness", "Plan"}
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
