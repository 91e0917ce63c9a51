"""The readiness check: what the declared MLOps level needs but the architecture lacks.

Two families of rules: presence rules are data (`rules.yaml`: the kinds a level requires), path
rules are code (`paths.py`: production is reached only through the gates). Every finding names
its rule, the components involved and the spec line to change; waivers in the spec accept a
finding until a date, and `strict` counts warnings as failures (for CI).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml

from mlscope.architecture.graph import ArchitectureGraph
from mlscope.architecture.paths import path_findings
from mlscope.spec.architecture import Waiver

Level = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
REQUIRED_ENVIRONMENTS = ("dev", "qa", "prod")


@dataclass(frozen=True)
class Waived:
    reason: str
    expires: str  # ISO date
    owner: str | None
    where: str  # the waiver's line in the spec


@dataclass(frozen=True)
class Finding:
    level: Level
    rule: str
    area: str
    message: str
    why: str
    fix: str
    components: tuple[str, ...] = ()
    location: str = ""  # "file:line:col" of the spec line to change ("" without a file)
    waived: Waived | None = None  # accepted by a waiver in the spec: shown, not counted

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["components"] = list(self.components)
        return data

    def counts_at(self, strict: bool) -> bool:
        """Whether this finding fails the check."""
        if self.waived is not None:
            return False
        return self.level == "error" or (strict and self.level == "warning")


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

    def finding(self, graph: ArchitectureGraph) -> Finding:
        # A kind the spec removed is the spec's doing; otherwise the blueprint at this level.
        wanted = self.require_any | self.require_from
        where = next((e.where for e in graph.edits
                      if e.action == "remove" and e.kind in wanted and e.where),
                     graph.level_where)
        involved = tuple(c.id for c in graph.components.values()
                         if self.require_from and c.kind in self.require_from)
        return Finding(self.severity[graph.level], self.id, self.area, self.message, self.why,
                       self.fix, involved, where)


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
                        "add `environments:` with dev, qa and prod (names, schedules, resources)",
                        location=graph.level_where)]
    level: Level = "warning" if graph.level == 2 else "info"
    return [Finding(level, "environments", "environments",
                    f"environment(s) {', '.join(missing)} missing (declared: "
                    f"{', '.join(sorted(names))})", why,
                    f"add {', '.join(missing)} under `environments:`",
                    location=graph.level_where)]


def _isolated(graph: ArchitectureGraph, reported: set[str]) -> list[Finding]:
    from mlscope.architecture.paths import where

    linked = {f.source for f in graph.flows} | {f.target for f in graph.flows}
    return [Finding("warning", "connected", "architecture",
                    f"component '{c.id}' ({c.label}) has no flows",
                    "A box with no arrows is either unused or an undocumented dependency.",
                    f"add a flow to or from '{c.id}' under `architecture.flows`, or remove it",
                    (c.id,), where(graph, [c.id]))
            for c in graph.components.values() if c.id not in linked and c.id not in reported]


def _path_findings(graph: ArchitectureGraph) -> list[Finding]:
    return [Finding(p.level, p.rule, p.area, p.message, p.why, p.fix,  # type: ignore[arg-type]
                    p.components, p.where) for p in path_findings(graph)]


def apply_waivers(findings: Sequence[Finding], waivers: Sequence[Waiver], as_of: dt.date,
                  where: Sequence[str] = ()) -> list[Finding]:
    """Mark findings a live waiver accepts; an expired or unused waiver is itself a finding."""
    out = list(findings)
    for i, w in enumerate(waivers):
        place = where[i] if i < len(where) else ""
        hits = [j for j, f in enumerate(out) if f.rule == w.rule and f.waived is None
                and (not w.components or set(w.components) & set(f.components))]
        if w.expires < as_of:
            out.append(Finding(
                "warning", "waiver-expired", "waivers",
                f"the waiver for '{w.rule}' expired on {w.expires.isoformat()}",
                "An accepted risk must be looked at again when its waiver runs out.",
                "fix the finding, or renew the waiver with a new `expires` and reason",
                tuple(w.components), place))
            continue
        if not hits:
            out.append(Finding(
                "info", "waiver-unused", "waivers",
                f"the waiver for '{w.rule}' matches no finding", "Stale waivers hide what was "
                "accepted and why.", "remove the waiver", tuple(w.components), place))
        for j in hits:
            out[j] = replace(out[j], waived=Waived(w.reason, w.expires.isoformat(), w.owner,
                                                   place))
    return out


def check_graph(graph: ArchitectureGraph, environments: list[str] | None = None,
                waivers: Sequence[Waiver] = (), as_of: dt.date | None = None,
                waiver_where: Sequence[str] = ()) -> list[Finding]:
    """Findings for a graph, most severe first (waived ones last in their level)."""
    findings = [r.finding(graph) for r in load_rules()
                if r.applies(graph) and not r.satisfied(graph)]
    paths = _path_findings(graph)
    findings += paths
    findings += _isolated(graph, {c for p in paths if p.rule == "control-wired"
                                  for c in p.components})
    if environments is not None:
        findings += _environment_findings(graph, environments)
    findings = apply_waivers(findings, waivers, as_of or dt.datetime.now(dt.UTC).date(),
                             waiver_where)
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.level], f.waived is not None))
