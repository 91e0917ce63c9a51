"""From a spec to its architecture graph: the blueprint at the MLOps level, then the overrides."""

from __future__ import annotations

import datetime as dt

from mlscope.architecture.blueprints import load_blueprint
from mlscope.architecture.graph import ArchitectureGraph
from mlscope.architecture.overrides import Locator, apply_overrides
from mlscope.architecture.readiness import Finding, check_graph
from mlscope.spec.models import ProjectSpec


def build_architecture(spec: ProjectSpec, locate: Locator | None = None) -> ArchitectureGraph:
    """The blueprint for spec.project.use_case at spec.project.mlops_level, overrides applied.

    `locate` maps a spec location to "file:line:col" so problems point into the user's file.
    """
    graph = load_blueprint(spec.project.use_case).at_level(spec.project.mlops_level)
    graph = apply_overrides(graph, spec.architecture, locate)
    if locate is not None:
        graph.level_where = locate(("project", "mlops_level"))
    return graph


def readiness(spec: ProjectSpec, locate: Locator | None = None,
              as_of: dt.date | None = None) -> list[Finding]:
    """What the spec's MLOps level needs but its architecture lacks, most severe first.

    Waivers in `architecture.waivers` are judged on `as_of` (default: today, UTC).
    """
    graph = build_architecture(spec, locate)
    return check_spec_graph(spec, graph, locate, as_of)


def check_spec_graph(spec: ProjectSpec, graph: ArchitectureGraph, locate: Locator | None = None,
                     as_of: dt.date | None = None) -> list[Finding]:
    where = [locate(("architecture", "waivers", i)) if locate else ""
             for i in range(len(spec.architecture.waivers))]
    return check_graph(graph, [e.name for e in spec.environments], spec.architecture.waivers,
                       as_of, where)
