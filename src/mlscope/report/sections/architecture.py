"""Sections: the architecture diagram and the readiness findings."""

from __future__ import annotations

import re
from typing import Any

from mlscope.report.model import Figure, FindingView, Section, engine_function
from mlscope.spec.models import ProjectSpec

DIAGRAM_FILE = "architecture.svg"
_LEVELS = {"error": "error", "critical": "error", "warning": "warning", "warn": "warning"}


def safe_svg(text: str) -> str:
    """Inline-ready SVG: no XML prolog or doctype, no scripts or event handlers."""
    text = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<script\b.*?</script>", "", text, flags=re.S | re.I)
    text = re.sub(r"\son[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*')", "", text, flags=re.I)
    start = text.find("<svg")
    return text[start:].strip() if start >= 0 else ""


def build_diagram(spec: ProjectSpec) -> Section:
    sec = Section("architecture", "Architecture",
                  f"The components a {spec.project.use_case} system needs at MLOps level "
                  f"{spec.project.mlops_level}, and the AWS services behind them.")
    build = engine_function("mlscope.architecture", "build_architecture", "architecture engine")
    render = engine_function("mlscope.architecture", "render", "architecture engine")
    graph = build(spec)
    drawing = safe_svg(str(render(graph, "svg")))
    if not drawing:
        return sec.unavailable("the architecture engine returned no SVG drawing", "failed")
    sec.attachments[DIAGRAM_FILE] = drawing
    sec.figures.append(Figure(drawing, "Boxes are components, grouped by stage; arrows show how "
                                       "data and models flow between them.", link=DIAGRAM_FILE))
    sec.data = {"svg_bytes": len(drawing)}
    sec.sources.append(f"mlscope's {spec.project.use_case} blueprint at MLOps level "
                       f"{spec.project.mlops_level}, with the spec's `architecture:` changes")
    return sec


def _finding(f: Any) -> FindingView:
    level = str(getattr(f, "level", "info")).lower()
    return FindingView(level=_LEVELS.get(level, "info"), message=str(getattr(f, "message", f)),
                       fix=str(getattr(f, "fix", "") or ""), why=str(getattr(f, "why", "") or ""),
                       rule=str(getattr(f, "rule", "") or ""))


def build_readiness(spec: ProjectSpec) -> Section:
    sec = Section("readiness", "Readiness",
                  "What the chosen MLOps level needs but the project does not have yet, worst "
                  "first, each with why it matters and how to fix it.")
    readiness = engine_function("mlscope.architecture", "readiness", "architecture engine")
    findings = [_finding(f) for f in readiness(spec)]
    rank = {"error": 0, "warning": 1, "info": 2}
    sec.findings = sorted(findings, key=lambda f: rank[f.level])
    counts = {lvl: sum(f.level == lvl for f in findings) for lvl in ("error", "warning", "info")}
    sec.data = {"counts": counts}
    sec.facts = [("Blocking gaps", str(counts["error"])), ("Warnings", str(counts["warning"])),
                 ("Notes", str(counts["info"]))]
    if not findings:
        sec.notes.append("No gaps found: the spec covers everything this MLOps level needs.")
    return sec
