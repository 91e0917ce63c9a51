"""Architecture blueprints: a use case -> the components it needs at an MLOps level, mapped to
AWS and open-source options, drawn as diagrams, with a readiness check.

Public API: build_architecture(spec), render(graph, fmt), readiness(spec) -> list[Finding].
"""

from mlscope.architecture.blueprints import load_blueprint, use_cases
from mlscope.architecture.build import build_architecture, readiness
from mlscope.architecture.component_catalog import get_component_catalog
from mlscope.architecture.graph import ArchitectureGraph, Component, Flow
from mlscope.architecture.readiness import Finding, check_graph
from mlscope.architecture.renderers import FORMATS, render

__all__ = [
    "FORMATS", "ArchitectureGraph", "Component", "Finding", "Flow", "build_architecture",
    "check_graph", "get_component_catalog", "load_blueprint", "readiness", "render", "use_cases",
]
