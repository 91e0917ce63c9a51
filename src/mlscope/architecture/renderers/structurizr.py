"""Structurizr DSL for C4 users: external systems, one ML software system, a container per
component grouped by lifecycle phase, and both a system-context and a container view."""

from __future__ import annotations

from mlscope.architecture.component_catalog import get_component_catalog
from mlscope.architecture.graph import ArchitectureGraph
from mlscope.architecture.renderers.common import GENERATOR, phase_style

SYSTEM_ID = "mlsystem"


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ident(name: str) -> str:
    # Prefixed so no id can collide with a DSL keyword (model, views, group, ...).
    return f"c_{name}"


def _describe(kind: str) -> str:
    catalog = get_component_catalog()
    return catalog.kinds[kind].does if kind in catalog.kinds else ""


def emit_structurizr(graph: ArchitectureGraph) -> str:
    out = [f"# {graph.heading} ({GENERATOR})",
           f"workspace {_q(graph.title)} {_q(f'MLOps level {graph.level}')} {{", "  model {"]
    for phase, members in graph.by_phase():
        if phase != "external":
            continue
        for c in members:
            out.append(f"    {_ident(c.id)} = softwareSystem {_q(c.label)} "
                       f"{_q(_describe(c.kind))} {{")
            out.append(f"      tags \"External\" \"phase-{phase}\"")
            out.append("    }")
    out.append(f"    {SYSTEM_ID} = softwareSystem {_q(graph.title)} "
               f"{_q(f'The ML system at MLOps level {graph.level}')} {{")
    for phase, members in graph.by_phase():
        if phase == "external":
            continue
        out.append(f"      group {_q(graph.phase_title(phase))} {{")
        for c in members:
            out.append(f"        {_ident(c.id)} = container {_q(c.label)} "
                       f"{_q(_describe(c.kind))} {_q(c.aws)} {{")
            out.append(f"          tags \"phase-{phase}\"")
            out.append("        }")
        out.append("      }")
    out.append("    }")
    for f in graph.flows:
        tags = ' "" "Loop"' if f.loop else ""
        out.append(f"    {_ident(f.source)} -> {_ident(f.target)} {_q(f.label)}{tags}")
    out += ["  }", "  views {",
            f"    systemContext {SYSTEM_ID} \"context\" {{", "      include *",
            "      autolayout lr", "    }",
            f"    container {SYSTEM_ID} \"containers\" {{", "      include *",
            "      autolayout lr", "    }", "    styles {"]
    for phase, _ in graph.by_phase():
        style = phase_style(phase)
        out += [f"      element \"phase-{phase}\" {{", f"        background {style.color}",
                f"        stroke {style.border}", "        color #1A1A1A", "      }"]
    out += ["      relationship \"Loop\" {", "        dashed true", "      }",
            "    }", "  }", "}"]
    return "\n".join(out) + "\n"
