"""Graphviz DOT: one cluster per lifecycle phase, HTML-like boxes, labelled edges, a legend.

`emit_dot(graph)` is the portable text; `emit_dot(graph, icons)` adds an <IMG> per box (local
icon files) for the SVG/PNG pipeline, which then inlines them.
"""

from __future__ import annotations

from html import escape

from mlscope.architecture.graph import ArchitectureGraph, Component
from mlscope.architecture.renderers.common import (
    GENERATOR,
    LEGEND_LOOP,
    LEGEND_SOLID,
    flow_numbers,
    phase_style,
    wrap,
)

ICON_PX = 36
FONT = "DejaVu Sans"


def _h(value: str) -> str:
    return escape(value, quote=True)


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_label(c: Component, icon: str | None) -> str:
    title = "<BR/>".join(_h(line) for line in wrap(c.label, 24))
    rows = ['<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="12">'
            f"<B>{title}</B></FONT></TD></TR>"]
    if c.aws:
        aws = "<BR/>".join(_h(line) for line in wrap(c.aws, 30))
        rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="#333333">{aws}'
                    "</FONT></TD></TR>")
    if c.oss:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="#777777"><I>or '
                    f"{_h(c.oss)}</I></FONT></TD></TR>")
    text = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1">{"".join(rows)}</TABLE>'
    if not icon:
        return f"<{text}>"
    img = (f'<TD FIXEDSIZE="TRUE" WIDTH="{ICON_PX}" HEIGHT="{ICON_PX}">'
           f'<IMG SRC="{_h(icon)}" SCALE="TRUE"/></TD>')
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4"><TR>{img}'
            f"<TD>{text}</TD></TR></TABLE>>")


def _legend(clustered: bool) -> list[str]:
    rows = (
        '<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Legend</B></TD></TR>'
        f'<TR><TD ALIGN="LEFT">────▶</TD><TD ALIGN="LEFT">{_h(LEGEND_SOLID)}; '
        "numbered in lifecycle order</TD></TR>"
        f'<TR><TD ALIGN="LEFT">- - - ▶</TD><TD ALIGN="LEFT">{_h(LEGEND_LOOP)}</TD></TR>'
        '<TR><TD ALIGN="LEFT"><B>Box</B></TD><TD ALIGN="LEFT">component · AWS service · '
        "<I>or open-source option</I></TD></TR>"
    )
    if clustered:
        rows += '<TR><TD ALIGN="LEFT"><B>Frame</B></TD><TD ALIGN="LEFT">lifecycle phase</TD></TR>'
    return ["  \"_legend\" [shape=plain, fontsize=10, label=<<TABLE BORDER=\"1\" COLOR=\"#999999\" "
            f'CELLBORDER="0" CELLSPACING="2" CELLPADDING="3">{rows}</TABLE>>];']


def emit_dot(graph: ArchitectureGraph, icons: dict[str, str] | None = None) -> str:
    icons = icons or {}
    lines = [
        f"// {graph.heading} ({GENERATOR})",
        "digraph architecture {",
        # Left to right by lifecycle stage: data, training, release, serving, monitoring.
        f'  graph [rankdir={graph.direction}, fontname="{FONT}", label={_q(graph.heading)}, '
        "labelloc=t, "
        'fontsize=20, nodesep=0.3, ranksep=0.7, newrank=true, compound=true, pad=0.3];',
        f'  node [shape=box, style="rounded,filled", fillcolor="#FFFFFF", fontname="{FONT}", '
        "margin=0.08];",
        f'  edge [fontname="{FONT}", fontsize=9, color="#555555", fontcolor="#333333", '
        "arrowsize=0.7];",
    ]
    for phase, members in graph.by_phase():
        style = phase_style(phase)
        # Users and source systems sit at both ends of the flow (sources on top, consumers at
        # the bottom): a frame around them would stretch across the whole drawing.
        framed = graph.clustered and phase != "external"
        indent = "    " if framed else "  "
        if framed:
            lines += [f"  subgraph cluster_{phase} {{",
                      f"    label={_q(graph.phase_title(phase))}; labeljust=l; fontsize=14;",
                      f'    style="rounded,filled"; fillcolor="{style.color}"; '
                      f'color="{style.border}"; penwidth=1.5;']
        for c in members:
            fill = "#FFFFFF" if framed else style.color
            lines.append(f'{indent}{_q(c.id)} [label={_node_label(c, icons.get(c.id))}, '
                         f'color="{style.border}", fillcolor="{fill}"];')
        if framed:
            lines.append("  }")
    phase_of = {c.id: c.phase for c in graph.components.values()}
    fed = {f.target for f in graph.flows if not f.loop}
    numbers = flow_numbers(graph) if graph.clustered and graph.numbered else {}
    for i, f in enumerate(graph.flows):
        # One short label per edge, numbered so the story can be read in order.
        text = f"{numbers[i]}. {f.label}" if i in numbers and f.label else f.label
        attrs = [f"label={_q(text)}"] if text else []
        if f.loop:
            attrs += ["style=dashed", 'color="#7D3C98"', "constraint=false"]
        elif (phase_of[f.source] == "external" and f.source not in fed
              and phase_of[f.target] == "monitoring"):
            # Outcomes come from users on the left, but monitoring belongs on the right, after
            # serving: an edge from a first-column box must not pull the monitoring frame there.
            attrs.append("constraint=false")
        lines.append(f"  {_q(f.source)} -> {_q(f.target)} [{', '.join(attrs)}];")
    if graph.numbered:  # a stage piece is read beside the whole diagram and its legend
        lines += _legend(graph.clustered)
    lines.append("}")
    return "\n".join(lines) + "\n"
