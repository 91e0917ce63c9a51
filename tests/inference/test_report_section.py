"""The sponsor report's on-device section: the stage chart, the cloud comparison, the finding."""

from __future__ import annotations

from pathlib import Path

from mlscope.report.sections import build_sections
from mlscope.spec import load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "edge-assistant" / "mlscope.yaml"


def test_edge_assistant_report_section() -> None:
    sections = {s.id: s for s in build_sections(load_spec(str(EXAMPLE)))}
    sec = sections["inference"]
    assert sec.status == "ok", sec.notice
    assert "Voice loop latency by stage" in sec.figures[0].svg
    assert "speech-to-text" in sec.figures[0].svg
    assert any("Where" in t.headers for t in sec.tables)
    assert any("does not fit" in f.message for f in sec.findings)


def test_spec_without_inference_keeps_its_place() -> None:
    spec = load_spec(str(EXAMPLE.parents[1] / "recommender" / "mlscope.yaml"))
    sec = {s.id: s for s in build_sections(spec)}["inference"]
    assert sec.status == "no-input"
