"""The readiness check: what the declared MLOps level needs but the architecture lacks.

Rules are data (`rules.yaml`): each names the kinds it requires, the levels it applies at and its
severity there. Two rules need the whole spec and live here: environments and isolated components.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml

from mlscope.architecture.graph import ArchitectureGraph

Level = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
REQUIRED_ENVIRONMENTS = ("dev", "qa", "prod")


@dataclass(frozen=True)
class Finding:
    level: Level
    rule: str
    area: str
    message: str
    why: str
    fix: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: str
    area: str
    severity: dict[int, Level]
    message: str
    why: str
    fix: str
    when_any: frozenset[str] = frozenset()
    skip_use_cases: frozenset[str] = frozenset()
    require_any: frozenset[str] = frozenset()
    require_from: frozenset[str] = frozenset()
    require_to: frozenset[str] = frozenset()

    def applies(self, graph: ArchitectureGraph) -> bool:
        if graph.level not in self.severity or graph.use_case in self.skip_use_cases:
            return False
        return not self.when_any or bool(self.when_any & graph.kinds())

    def satisfied(self, graph: ArchitectureGraph) -> bool:
        if self.require_any and not self.require_any & graph.kinds():
            return False
        if self.require_from:
            kind = {c.id: c.kind for c in graph.components.values()}
            return any(kind[f.source] in self.require_from and kind[f.target] in self.require_to
                       for f in graph.flows)
        return True

    def finding(self, level: int) -> Finding:
        return Finding(self.severity[level], self.id, self.area, self.message, self.why, self.fix)


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    raw = yaml.safe_load((resources.files("mlscope.architecture") / "rules.yaml").read_text())
    rules = []
    for r in raw["rules"]:
        flow = r.get("require_flow") or {}
        rules.append(Rule(
            id=r["id"], area=r["area"], severity={int(k): v for k, v in r["severity"].items()},
            message=r["message"], why=r["why"], fix=r["fix"],
            when_any=frozenset(r.get("when_any") or ()),
            skip_use_cases=frozenset(r.get("skip_use_cases") or ()),
            require_any=frozenset(r.get("require_any") or ()),
            require_from=frozenset(flow.get("from") or ()),
            require_to=frozenset(flow.get("to") or ())))
    return tuple(rules)


def _environment_findings(graph: ArchitectureGraph, environments: list[str]) -> list[Finding]:
    if graph.level == 0:
        return []
    names = {e.lower() for e in environments}
    missing = [e for e in REQUIRED_ENVIRONMENTS if e not in names]
    if not missing:
        return []
    why = ("Changes must be tried in dev and proven in qa (simulation tests, UAT) before prod; "
           "one shared environment mixes experiments with customer traffic.")
    if not names:
        return [Finding("info", "environments", "environments",
                        "no environments are declared", why,
                        "add `environments:` with dev, qa and prod (names, schedules, resources)")]
    level: Level = "warning" if graph.level == 2 else "info"
    return [Finding(level, "environments", "environments",
                    f"environment(s) {', '.join(missing)} missing (declared: "
                    f"{', '.join(sorted(names))})", why,
                    f"add {', '.join(missing)} under `environments:`")]


def _isolated(graph: ArchitectureGraph) -> list[Finding]:
    linked = {f.source for f in graph.flows} | {f.target for f in graph.flows}
    return [Finding("warning", "connected", "architecture",
                    f"component '{c.id}' ({c.label}) has no flows",
                    "A box with no arrows is either unused or an undocumented dependency.",
                    f"add a flow to or from '{c.id}' under `architecture.flows`, or remove it")
            for c in graph.components.values() if c.id not in linked]


def check_graph(graph: ArchitectureGraph, environments: list[str] | None = None) -> list[Finding]:
    """Findings for a graph, most severe first."""
    findings = [r.finding(graph.level) for r in load_rules()
                if r.applies(graph) and not r.satisfied(graph)]
    findings += _isolated(graph)
    if environments is not None:
        findings += _environment_findings(graph, environments)
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.level])
