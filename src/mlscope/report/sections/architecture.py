"""Sections: the system view for sponsors, the user-experience storyboard, the container view for
engineers, and the readiness findings (with the waivers that accept some of them)."""

from __future__ import annotations

import re

from mlscope.architecture import render
from mlscope.architecture.readiness import Finding
from mlscope.architecture.renderers.common import flow_numbers
from mlscope.architecture.views import (
    render_view,
    story_dot,
    story_mermaid,
    storyboard,
    system_dot,
    system_mermaid,
    system_view,
)
from mlscope.core import fmt
from mlscope.report.context import ReportContext
from mlscope.report.model import Figure, FindingView, Section, Skip, Table

DIAGRAM_FILE = "architecture.svg"
SYSTEM_FILE = "system.svg"
STORY_FILE = "storyboard.svg"


def safe_svg(text: str) -> str:
    """Inline-ready SVG: no XML prolog or doctype, no scripts or event handlers."""
    text = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<script\b.*?</script>", "", text, flags=re.S | re.I)
    text = re.sub(r"\son[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*')", "", text, flags=re.I)
    start = text.find("<svg")
    return text[start:].strip() if start >= 0 else ""


def _money_line(ctx: ReportContext) -> str | None:
    if not ctx.has_costs():
        return None
    try:
        first = ctx.costs()["total"]["monthly"][0]
    except Exception:  # the cost section reports the failure itself
        return None
    return (f"about {fmt.money(first['p50'])} a month to run (8 in 10 chance "
            f"{fmt.money(first['p10'])} to {fmt.money(first['p90'])})")


def build_system(ctx: ReportContext, sec: Section) -> None:
    view = system_view(ctx.graph(), ctx.spec.project.description, _money_line(ctx))
    drawing = safe_svg(str(render_view(system_dot(view), system_mermaid(view), "svg")))
    sec.attachments[SYSTEM_FILE] = drawing
    sec.attachments["system.mmd"] = system_mermaid(view)
    sec.figures.append(Figure(drawing, "The whole system in a few boxes: each names the "
                              "components behind it; the dashed arrow is the retraining loop.",
                              link=SYSTEM_FILE, kind="system"))
    sec.data = {"boxes": [b.title for b in view.boxes]}


def build_experience(ctx: ReportContext, sec: Section) -> None:
    sb = storyboard(ctx.graph(), ctx.spec.experience)
    drawing = safe_svg(str(render_view(story_dot(sb), story_mermaid(sb), "svg")))
    sec.attachments[STORY_FILE] = drawing
    sec.attachments["storyboard.mmd"] = story_mermaid(sb)
    where = ("from the spec's `experience:` section" if sb.from_spec else
             f"the {ctx.spec.project.use_case} default; describe yours under `experience:`")
    sec.figures.append(Figure(drawing, f"Green frames are where the model acts ({sb.model}); "
                              f"the dashed frame is what the user gets when it is down. Steps "
                              f"{where}.", link=STORY_FILE, kind="story"))
    sec.facts = [("Who", sb.persona), ("Where", sb.surface), ("When the model is down",
                                                              sb.fallback)]
    sec.data = {"steps": [{"actor": s.actor, "text": s.text} for s in sb.steps],
                "from_spec": sb.from_spec}


def build_diagram(ctx: ReportContext, sec: Section) -> None:
    graph = ctx.graph()
    if not graph.components:
        raise Skip("the architecture is empty; add components under `architecture.add`")
    drawing = safe_svg(str(render(graph, "svg")))
    sec.attachments[DIAGRAM_FILE] = drawing
    # The whole drawing is too wide to read at page width; it is linked, and shown here one
    # stage at a time with the whole drawing's flow numbers.
    sec.notes.append(f"The whole diagram ({len(graph.components)} components, left to right "
                     f"from data to monitoring) is in {DIAGRAM_FILE} beside this page; below, "
                     "one stage at a time, with the same flow numbers.")
    numbers = flow_numbers(graph)
    for phase, members in graph.by_phase():
        if phase == "external":
            continue
        piece = safe_svg(str(render(graph.stage_view(phase, numbers), "svg")))
        sec.figures.append(Figure(piece, f"{graph.phase_title(phase)}: {len(members)} "
                                         "components, and the boxes their flows reach in other "
                                         "stages.", link=DIAGRAM_FILE, kind="stage"))
    sec.data = {"components": len(graph.components), "flows": len(graph.flows)}
    sec.sources.append(f"mlscope's {ctx.spec.project.use_case} blueprint at MLOps level "
                       f"{ctx.spec.project.mlops_level}, with the spec's `architecture:` changes")


def build_readiness(ctx: ReportContext, sec: Section) -> None:
    findings = ctx.findings()
    for f in findings:
        waived = (f"until {f.waived.expires}: {f.waived.reason}"
                  + (f" ({f.waived.owner})" if f.waived.owner else "")) if f.waived else ""
        sec.findings.append(FindingView(level=f.level, message=f.message, fix=f.fix, why=f.why,
                                        rule=f.rule, location=f.location,
                                        components=f.components, waived=waived))
    live = [f for f in findings if f.waived is None]
    counts = {lvl: sum(f.level == lvl for f in live) for lvl in ("error", "warning", "info")}
    waivers = [f for f in findings if f.waived]
    sec.data = {"counts": counts, "waived": len(waivers)}
    sec.facts = [("Blocking gaps", str(counts["error"])), ("Warnings", str(counts["warning"])),
                 ("Notes", str(counts["info"])), ("Accepted by a waiver", str(len(waivers)))]
    if waivers:
        sec.tables.append(_waiver_table(waivers))
    if not live:
        sec.notes.append("No open gaps: the spec covers everything this MLOps level needs.")


def _waiver_table(waived: list[Finding]) -> Table:
    rows = [[f.rule, ", ".join(f.components), w.expires, w.reason, w.owner or ""]
            for f in waived if (w := f.waived) is not None]
    return Table(["Rule", "Components", "Accepted until", "Reason", "Owner"], rows,
                 "Waivers in the spec: accepted gaps, listed until they expire")
