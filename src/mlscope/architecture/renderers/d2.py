"""D2 (https://d2lang.com): containers per lifecycle phase, labelled connections, a legend."""

from __future__ import annotations

from mlscope.architecture.graph import ArchitectureGraph, Component
from mlscope.architecture.renderers.common import GENERATOR, LEGEND_LOOP, LEGEND_SOLID, phase_style

# Keys D2 reads as attributes rather than children; a component with such an id gets a suffix.
RESERVED = frozenset({
    "label", "style", "shape", "icon", "direction", "near", "width", "height", "link",
    "tooltip", "class", "classes", "vars", "layers", "scenarios", "steps", "grid-rows",
    "grid-columns", "grid-gap", "top", "left", "constraint", "source-arrowhead",
    "target-arrowhead", "filled", "font", "legend", "title", "desc", "level", "content",
})


def _q(value: str) -> str:
    # A double-quoted D2 string: escape backslashes, quotes, `$` (substitutions), newlines.
    text = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return '"' + text.replace("\n", "\\n") + '"'


def _key(name: str) -> str:
    return f"{name}_" if name in RESERVED else name


def _path(graph: ArchitectureGraph, c: Component) -> str:
    return f"phase_{c.phase}.{_key(c.id)}" if graph.clustered else _key(c.id)


def emit_d2(graph: ArchitectureGraph) -> str:
    lines = [f"# {graph.heading} ({GENERATOR})", "direction: down",
             f"title: {_q(graph.heading)} {{near: top-center; shape: text; style.font-size: 24}}"]
    where: dict[str, str] = {}
    for phase, members in graph.by_phase():
        style = phase_style(phase)
        indent = "  " if graph.clustered else ""
        if graph.clustered:
            lines.append(f"phase_{phase}: {_q(graph.phase_title(phase))} {{")
            lines.append(f"  style.fill: {_q(style.color)}")
            lines.append(f"  style.stroke: {_q(style.border)}")
        for c in members:
            where[c.id] = _path(graph, c)
            text = f"{c.label}\n{c.aws}" if c.aws else c.label
            lines.append(f"{indent}{_key(c.id)}: {_q(text)} {{")
            fill = "#FFFFFF" if graph.clustered else style.color
            lines.append(f"{indent}  style.fill: {_q(fill)}")
            lines.append(f"{indent}  style.stroke: {_q(style.border)}")
            lines.append(f"{indent}}}")
        if graph.clustered:
            lines.append("}")
    for f in graph.flows:
        label = f": {_q(f.label)}" if f.label else ""
        dash = " {style.stroke-dash: 4}" if f.loop else ""
        lines.append(f"{where[f.source]} -> {where[f.target]}{label}{dash}")
    lines += ["legend_: \"Legend\" {", "  near: bottom-right",
              f"  solid: {_q('→ ' + LEGEND_SOLID)} {{shape: text}}",
              f"  dashed: {_q('⇢ ' + LEGEND_LOOP + ' (dashed)')} {{shape: text}}",
              f"  boxes: {_q('box: component, then its AWS service')} {{shape: text}}",
              "}"]
    return "\n".join(lines) + "\n"
