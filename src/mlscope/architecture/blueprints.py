"""Blueprints: a use case's components and flows at MLOps levels 0, 1, 2, read from YAML data.

Each blueprint file lists components and flows with the levels they exist at (`levels: "1+"`,
`"0"`, `"0-1"`; default every level). `include: [spine]` pulls in a shared fragment (files whose
name starts with `_`); a blueprint component with the same id as a fragment's replaces it, and
`exclude: [id]` drops a fragment component with its flows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from mlscope.architecture.component_catalog import get_component_catalog
from mlscope.architecture.graph import ArchitectureGraph, Component, Flow
from mlscope.architecture.validate import cycle_text, find_cycle
from mlscope.errors import InputError, UnknownNameError

LEVELS = (0, 1, 2)
_LEVELS_RE = re.compile(r"\s*([012])\s*(\+|-\s*([012]))?\s*")


def parse_levels(text: object) -> frozenset[int]:
    """"1+" -> {1, 2}; "0-1" -> {0, 1}; "2" or 2 -> {2}."""
    m = _LEVELS_RE.fullmatch(str(text))
    if not m:
        raise ValueError(f"levels '{text}' is not one of 0, 1, 2, 1+, 0-1")
    low = int(m.group(1))
    if m.group(2) == "+":
        high = 2
    elif m.group(3) is not None:
        high = int(m.group(3))
    else:
        high = low
    if high < low:
        raise ValueError(f"levels '{text}' runs backwards")
    return frozenset(range(low, high + 1))


@dataclass(frozen=True)
class BlueprintComponent:
    id: str
    kind: str
    label: str
    levels: frozenset[int]
    aws: str | None = None
    oss: str | None = None
    icon: str | None = None  # "" = draw no icon


@dataclass(frozen=True)
class BlueprintFlow:
    source: str
    target: str
    label: str
    levels: frozenset[int]
    loop: bool = False


@dataclass
class Blueprint:
    use_case: str
    title: str
    summary: str
    components: dict[str, BlueprintComponent] = field(default_factory=dict)
    flows: list[BlueprintFlow] = field(default_factory=list)
    phase_titles: dict[str, str] = field(default_factory=dict)

    def at_level(self, level: int) -> ArchitectureGraph:
        if level not in LEVELS:
            raise InputError(f"MLOps level {level} does not exist", "use 0, 1 or 2")
        catalog = get_component_catalog()
        graph = ArchitectureGraph(self.use_case, level, self.title,
                                  phase_titles=dict(self.phase_titles), summary=self.summary)
        for c in self.components.values():
            if level in c.levels:
                kind = catalog.kinds[c.kind]
                graph.components[c.id] = Component(
                    c.id, c.kind, c.label, kind.phase, c.aws or (kind.aws[0] if kind.aws else ""),
                    c.oss or (kind.oss[0] if kind.oss else ""), icon=c.icon)
        for f in self.flows:
            if level in f.levels and f.source in graph.components and f.target in graph.components:
                graph.flows.append(Flow(f.source, f.target, f.label, f.loop))
        return graph


def _read(name: str) -> dict[str, Any]:
    path = resources.files("mlscope.architecture") / "blueprints" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"blueprints/{name}.yaml: not a mapping")
    return data


def _parse(name: str, data: dict[str, Any], into: Blueprint) -> None:
    """Add the components and flows of one file to `into`; problems raise with their location."""
    catalog = get_component_catalog()
    where = f"blueprints/{name}.yaml"
    for i, raw in enumerate(data.get("components") or []):
        loc = f"{where}: components.{i}"
        kind = raw.get("kind", "")
        if kind not in catalog.kinds:
            err = UnknownNameError("component kind", kind, catalog.kinds)
            raise ValueError(f"{loc}.kind: {err.one_line()}")
        label = raw.get("label") or catalog.kinds[kind].title
        into.components[raw["id"]] = BlueprintComponent(
            raw["id"], kind, label, parse_levels(raw.get("levels", "0+")),
            raw.get("aws"), raw.get("oss"),
            None if raw.get("icon") is None else ("" if raw["icon"] == "none" else raw["icon"]))
    for i, raw in enumerate(data.get("flows") or []):
        if not raw.get("label"):
            raise ValueError(f"{where}: flows.{i}: every blueprint flow needs a label")
        into.flows.append(BlueprintFlow(raw["from"], raw["to"], raw["label"],
                                        parse_levels(raw.get("levels", "0+")),
                                        bool(raw.get("loop", False))))


def _check(bp: Blueprint) -> None:
    where = f"blueprints/{bp.use_case}.yaml"
    for i, f in enumerate(bp.flows):
        for end in (f.source, f.target):
            if end not in bp.components:
                err = UnknownNameError("component", end, bp.components)
                raise ValueError(f"{where}: flows.{i}: {err.one_line()}")
    for level in LEVELS:
        graph = bp.at_level(level)
        cycle = find_cycle(graph.components, graph.flows)
        if cycle:
            raise ValueError(f"{where}: level {level}: cycle {cycle_text(cycle)} "
                             "(mark the flow that goes back upstream with `loop: true`)")


@cache
def load_blueprint(use_case: str) -> Blueprint:
    """The blueprint of a use case; a packaging bug in the data raises ValueError with its place."""
    if use_case not in use_cases():
        raise UnknownNameError("use case", use_case, use_cases())
    data = _read(use_case)
    bp = Blueprint(use_case, data.get("title", use_case), data.get("summary", ""),
                   phase_titles=dict(data.get("phase_titles") or {}))
    for fragment in data.get("include") or []:
        _parse(f"_{fragment}", _read(f"_{fragment}"), bp)
    _parse(use_case, data, bp)
    for dropped in data.get("exclude") or []:  # fragment parts this use case does not need
        bp.components.pop(dropped)
        bp.flows = [f for f in bp.flows if dropped not in (f.source, f.target)]
    _check(bp)
    return bp


def use_cases() -> list[str]:
    folder = resources.files("mlscope.architecture") / "blueprints"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml") and not p.name.startswith("_"))
