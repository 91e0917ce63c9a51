"""Renderers: one graph model, text emitters (Mermaid, D2, DOT, Structurizr) and SVG/PNG."""

from __future__ import annotations

import importlib

from mlscope.architecture.graph import ArchitectureGraph
from mlscope.errors import UnknownNameError

TEXT_FORMATS = ("mermaid", "d2", "dot", "structurizr")
IMAGE_FORMATS = ("svg", "png")
FORMATS = TEXT_FORMATS + IMAGE_FORMATS

# format -> (module under renderers/, function); imported on use so `dot` etc. load lazily.
_EMITTERS = {
    "mermaid": ("mermaid", "emit_mermaid"), "d2": ("d2", "emit_d2"), "dot": ("dot", "emit_dot"),
    "structurizr": ("structurizr", "emit_structurizr"), "svg": ("graphviz", "render_svg"),
    "png": ("graphviz", "render_png"),
}


def render(graph: ArchitectureGraph, fmt: str) -> str | bytes:
    """The diagram as text (mermaid, d2, dot, structurizr, svg) or PNG bytes."""
    key = fmt.lower()
    if key not in _EMITTERS:
        raise UnknownNameError("diagram format", fmt, FORMATS)
    module_name, function = _EMITTERS[key]
    module = importlib.import_module(f"mlscope.architecture.renderers.{module_name}")
    result: str | bytes = getattr(module, function)(graph)
    return result
