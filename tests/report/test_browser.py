"""The report in a real browser: headless Chromium loads it, we check what it laid out.

Screenshots are kept under test-artifacts/report/ (gitignored) for people to look at.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from mlscope.report.browser import check_page, print_pdf
from mlscope.report.build import write_report

AS_OF = dt.date(2026, 12, 1)
FIRST_SCREEN = (1280, 800)
MIN_DIAGRAM_TEXT_PX = 11

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "report"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromium") is None,
                       reason="Debian's chromium is not installed (make system-deps)"),
]


@pytest.mark.parametrize("example", sorted(p.parent.name for p in
                                            (REPO / "examples").glob("*/mlscope.yaml")))
def test_report_renders_in_chromium(example: str, tmp_path: Path) -> None:
    written = write_report(REPO / "examples" / example / "mlscope.yaml", tmp_path,
                           as_of=AS_OF)
    shot = ARTIFACTS / f"{example}.png"
    page = check_page(written.html_path, screenshot=shot)
    assert page.console == [] and page.errors == []
    sections = {s["id"]: s for s in page.sections}
    expected = ["decision", "summary"] + [s.id for s in written.report.sections]
    assert list(sections) == expected
    assert all(s["heading"] for s in page.sections)
    # Every chart the report drew was laid out by the browser with a real size and marks.
    drawn = sum(len(s.figures) for s in written.report.sections)
    assert drawn >= 1 and len(page.charts) == drawn
    for chart in page.charts:
        assert chart["width"] > 300 and chart["height"] > 100 and chart["marks"] > 10, chart
    assert page.screenshot is not None and page.screenshot.stat().st_size > 20_000
    shutil.copytree(tmp_path, ARTIFACTS / example, dirs_exist_ok=True)


def test_console_errors_are_caught(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text("<html><head></head><body><section class='report-section' id='x'><h2>x</h2>"
                    "</section><script>console.error('boom'); missingFunction();</script>"
                    "</body></html>")
    seen = check_page(page)
    assert any("boom" in e for e in seen.errors)
    assert any("missingFunction" in m for m in seen.console)


def test_pdf_is_printed(tmp_path: Path) -> None:
    written = write_report(REPO / "examples" / "llm-pretrain" / "mlscope.yaml", tmp_path)
    pdf = print_pdf(written.html_path, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000


@pytest.mark.parametrize("example", ["recommender", "llm-pretrain", "edge-assistant"])
def test_first_screen_tells_the_decision(example: str, tmp_path: Path) -> None:
    """At 1280×800, before any scrolling: the total, the delivery date, three risks (where the
    spec lets them be sized) and the decision; the system diagram's text is legible."""
    written = write_report(REPO / "examples" / example / "mlscope.yaml", tmp_path, as_of=AS_OF)
    page = check_page(written.html_path, screenshot=ARTIFACTS / f"{example}-first-screen.png",
                      width=FIRST_SCREEN[0], height=FIRST_SCREEN[1])
    visible = {}
    for k in page.keys:
        if k["bottom"] <= FIRST_SCREEN[1]:
            visible.setdefault(k["key"], []).append(k["text"])
    decision = written.report.decision
    assert decision.total in visible["total"][0] and "$" in visible["total"][0]
    assert decision.delivery in visible["delivery"][0]
    assert any(ch.isdigit() for ch in decision.delivery)  # a date, not "no plan"
    assert len(visible["risk"]) == len(decision.risks) == 3, visible.get("risk")
    assert all(("chance" in r or "probability not estimated" in r)
               and ("costs $" in r or "cost not estimated" in r) for r in visible["risk"])
    assert visible["decision"][0].startswith("Decision asked Approve")
    assert page.fonts["system"] >= MIN_DIAGRAM_TEXT_PX, page.fonts
    assert page.fonts["story"] >= MIN_DIAGRAM_TEXT_PX, page.fonts
