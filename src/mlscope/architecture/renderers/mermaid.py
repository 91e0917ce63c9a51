"""Mermaid flowchart (renders on GitHub, GitLab and in many wikis)."""

from __future__ import annotations

from mlscope.architecture.graph import ArchitectureGraph, Component
from mlscope.architecture.renderers.common import (
    GENERATOR,
    LEGEND_LOOP,
    LEGEND_SOLID,
    phase_style,
)

RESERVED = frozenset({"end", "graph", "flowchart", "subgraph", "style", "class", "classDef",
                      "click", "linkStyle", "direction", "call", "href"})


def _text(value: str) -> str:
    # Inside a quoted Mermaid label: entity codes keep quotes and markup literal.
    return (value.replace("&", "#amp;").replace('"', "#quot;")
            .replace("<", "#lt;").replace(">", "#gt;"))


def _node_id(name: str) -> str:
    return f"{name}_" if name in RESERVED else name


def _node(c: Component) -> str:
    second = f"<br/><small>{_text(c.aws)}</small>" if c.aws else ""
    return f'{_node_id(c.id)}["<b>{_text(c.label)}</b>{second}"]'


def emit_mermaid(graph: ArchitectureGraph) -> str:
    lines = [f"%% {graph.heading} ({GENERATOR})",
             f"%% legend: --> {LEGEND_SOLID}; -.-> {LEGEND_LOOP}",
             f"flowchart {graph.direction}"]
    for phase, members in graph.by_phase():
        if graph.clustered:
            lines.append(f'  subgraph phase_{phase}["{_text(graph.phase_title(phase))}"]')
            lines += [f"    {_node(c)}" for c in members]
            lines.append("  end")
        else:
            lines += [f"  {_node(c)}" for c in members]
    for f in graph.flows:
        arrow = "-.->" if f.loop else "-->"
        label = f'|"{_text(f.label)}"|' if f.label else ""
        lines.append(f"  {_node_id(f.source)} {arrow}{label} {_node_id(f.target)}")
    for phase, members in graph.by_phase():
        style = phase_style(phase)
        lines.append(f"  classDef {phase} fill:{style.color},stroke:{style.border},color:#1A1A1A")
        lines.append(f"  class {','.join(_node_id(c.id) for c in members)} {phase}")
        if graph.clustered:
            lines.append(f"  style phase_{phase} fill:#FFFFFF,stroke:{style.border}")
    return "\n".join(lines) + "\n"


def emit_mermaid_stages(graph: ArchitectureGraph) -> str:
    """Markdown with one Mermaid block per lifecycle stage (top down, the whole diagram's flow
    numbers), so each stays readable at GitHub's column width instead of one block ~30 boxes wide.
    """
    from mlscope.architecture.renderers.common import flow_numbers

    numbers = flow_numbers(graph)
    out = [f"# {graph.heading}", "",
           "One diagram per lifecycle stage; flow numbers are those of the whole diagram "
           f"({len(graph.components)} components, {len(graph.flows)} flows).", ""]
    for phase, members in graph.by_phase():
        if phase == "external":
            continue
        out += [f"## {graph.phase_title(phase)} ({len(members)} components)", "",
                "```mermaid", emit_mermaid(graph.stage_view(phase, numbers)).rstrip("\n"),
                "```", ""]
    return "\n".join(out)
