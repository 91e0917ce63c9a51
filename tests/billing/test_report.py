"""The report's "actual vs plan" section: present with an export, absent (no numbers) without."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mlscope.report.build import build_report, render_html
from mlscope.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2027, 1, 21, tzinfo=dt.UTC)


def test_section_with_an_export() -> None:
    spec = load_spec(REPO / "examples" / "recommender-actuals" / "mlscope.yaml")
    report = build_report(spec, "mlscope.yaml", NOW)
    section = report.section("actuals")
    assert section.status == "ok", section.notice
    assert len(section.figures) == 1 and "<svg" in section.figures[0].svg
    assert [r[0] for r in section.tables[0].rows] == ["dev", "qa", "prod"]
    assert section.data["month"] == "2027-01" and section.data["through"] == "2027-01-20"
    html = render_html(report)
    assert 'id="actuals"' in html and "Daily actual cost against the plan" in html


def test_no_export_no_section(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlscope.report.sections import billing

    spec = load_spec(REPO / "examples" / "recommender" / "mlscope.yaml")
    before = render_html(build_report(spec, "mlscope.yaml", NOW))

    def boom(_: object) -> None:
        raise AssertionError("the billing section must not be built without an export")

    monkeypatch.setattr(billing, "build", boom)
    report = build_report(spec, "mlscope.yaml", NOW)
    assert "actuals" not in [s.id for s in report.sections]
    assert render_html(report) == before  # byte for byte: `make demo` is unchanged
    assert "Actual vs plan" not in before


def test_relative_export_resolves_against_the_spec(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # far from the example folder
    spec = load_spec(REPO / "examples" / "recommender-actuals" / "mlscope.yaml")
    assert spec.billing is not None
    assert all(Path(p).exists() for p in spec.billing.exports())


def test_report_billing_flag_adds_the_section_to_a_spec_without_one(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO / "examples" / "recommender-actuals")  # a path relative to here
    res = run("report", REPO / "examples" / "recommender" / "mlscope.yaml", "--billing",
              "billing/GENERATED-cur2-2026-12_2027-01.parquet", "--as-of", "2027-01-21",
              "-o", tmp_path / "out", "--json")
    assert res.code == 0, res.err
    d = res.json()
    actuals = next(s for s in d["sections"] if s["id"] == "actuals")
    assert actuals["status"] == "ok" and not d["failed"]
    # The same figures as the spec that names the export itself.
    spec = load_spec(REPO / "examples" / "recommender-actuals" / "mlscope.yaml")
    own = build_report(spec, "mlscope.yaml", NOW).section("actuals").data["total"]
    got = actuals["data"]["total"]
    assert got["actual_to_date"] == pytest.approx(own["actual_to_date"])
    for key in ("planned", "forecast"):
        assert got[key] == pytest.approx(own[key])


def test_report_billing_flag_with_a_missing_export_is_exit_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = run("report", REPO / "examples" / "recommender" / "mlscope.yaml", "--billing",
              tmp_path / "missing.parquet", "-o", tmp_path / "out")
    assert res.code == 2 and "not found" in res.err and res.err.strip().count("\n") == 0
    assert not (tmp_path / "out").exists()  # nothing written
