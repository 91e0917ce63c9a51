"""Path-based readiness: rules over the graph's flows, not over which kinds are present.

A gate only protects production if production cannot be reached around it. Each rule here asks a
reachability question ("with every evaluation box taken out, can a training job still reach a
serving component?") and, when the answer is yes, names one offending path so the finding can
say which components and which spec line opened it.

Level 0 is manual by definition (a person copies the model), so the path rules start at level 1.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mlscope.architecture.component_catalog import get_component_catalog
from mlscope.architecture.graph import ArchitectureGraph, Component, Edit

# What ships predictions to people or systems: the "production components" of the rules.
PRODUCTION = frozenset({"online_endpoint", "batch_inference", "llm", "retriever",
                        "edge_runtime"})
ONLINE = frozenset({"online_endpoint", "llm", "retriever", "edge_runtime"})
# Where a model is made or changed after it is made (quantisation, packaging).
TRAINING = frozenset({"training", "distributed_training", "notebook"})
CHANGES_ARTEFACT = frozenset({"model_packaging"})
# Where data enters, and what learns from it (an embedding index learns from documents).
DATA_IN = frozenset({"data_source", "ingestion", "event_stream"})
LEARNS = TRAINING | {"embedding"}
# Boxes that are controls: drawn without a flow they control nothing.
GATES = frozenset({"approval", "audit_log", "model_monitoring", "model_evaluation",
                   "model_registry", "data_validation", "fallback", "service_monitoring"})
# Control flows (start a run) are not data: a drift alarm restarting training is not a data path.
CONTROL = frozenset({"trigger", "orchestration"})

Severity = dict[int, str]
# Every rule id this module can report (docs/architecture.md lists each; a test keeps it so).
PATH_RULE_IDS = ("path-evaluation", "path-registry", "path-approval", "artefact-evaluated",
                 "release-path", "production-monitored", "production-fallback",
                 "data-validated", "control-wired", "approval-audited", "monitoring-wired",
                 "llm-answer-returns", "llm-output-guarded")


@dataclass(frozen=True)
class PathFinding:
    """A rule's verdict before it becomes a Finding: which components, which spec line."""

    rule: str
    level: str
    area: str
    message: str
    why: str
    fix: str
    components: tuple[str, ...]
    where: str


def _succ(graph: ArchitectureGraph, loops: bool) -> dict[str, list[str]]:
    succ: dict[str, list[str]] = {c: [] for c in graph.components}
    for f in graph.flows:
        if (loops or not f.loop) and f.source in succ and f.target in succ:
            succ[f.source].append(f.target)
    return succ


def find_path(graph: ArchitectureGraph, sources: Iterable[str], targets: set[str],
              blocked: set[str], *, loops: bool = True) -> list[str] | None:
    """A shortest path from a source to a target that avoids `blocked` nodes; None if none."""
    succ = _succ(graph, loops)
    parent: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for s in sources:
        if s not in blocked and s not in parent:
            parent[s] = None
            queue.append(s)
    while queue:
        node = queue.popleft()
        if node in targets and parent[node] is not None:
            path = [node]
            while (prev := parent[path[-1]]) is not None:
                path.append(prev)
            return path[::-1]
        for nxt in succ[node]:
            if nxt not in parent and nxt not in blocked:
                parent[nxt] = node
                queue.append(nxt)
    return None


def reachable(graph: ArchitectureGraph, sources: Iterable[str]) -> set[str]:
    succ = _succ(graph, loops=False)
    seen = set(sources)
    queue = deque(seen)
    while queue:
        for nxt in succ[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def where(graph: ArchitectureGraph, ids: Iterable[str], path: list[str] | None = None) -> str:
    """The spec line most likely to have caused a finding about `ids` (or `path`).

    A flow the spec added on the offending path first; then any spec change touching one of the
    components; else the line that sets the MLOps level (the blueprint at that level is at fault).
    """
    pairs = set(itertools.pairwise(path)) if path else set()
    involved = set(ids) | set(path or ())
    ordered: list[Callable[[Edit], bool]] = [
        lambda e: e.action == "add_flow" and tuple(e.ids) in pairs,
        lambda e: e.action in ("add", "remove_flow", "remove") and bool(set(e.ids) & involved),
        lambda e: bool(set(e.ids) & involved),
    ]
    for match in ordered:
        for e in graph.edits:
            if match(e) and e.where:
                return e.where
    return graph.level_where


def _of(graph: ArchitectureGraph, kinds: frozenset[str]) -> list[Component]:
    return [c for c in graph.components.values() if c.kind in kinds]


def _ids(components: list[Component]) -> set[str]:
    return {c.id for c in components}


def _chain(graph: ArchitectureGraph, path: list[str]) -> str:
    return " → ".join(path)


_GATE_STEPS = (
    # rule id, gate kind, what it is, severity by level, why
    ("path-evaluation", "model_evaluation", "model evaluation", {1: "error", 2: "error"},
     "A model that reaches customers without being compared with the champion can be worse "
     "than the one it replaces."),
    ("path-registry", "model_registry", "the model registry", {1: "error", 2: "error"},
     "A model deployed around the registry has no version: nobody can say what is serving, "
     "approve it or roll it back."),
    ("path-approval", "approval", "the approval gate", {1: "warning", 2: "error"},
     "Change management needs an accountable sign-off on the exact version before customers "
     "see it; a path around the gate makes the sign-off decorative."),
)


def gate_paths(graph: ArchitectureGraph) -> list[PathFinding]:
    """Every path from training (or a step that changes the model) to production passes through
    evaluation, the registry and (level 2) approval; the shipped artefact is the evaluated one."""
    out: list[PathFinding] = []
    targets = _ids(_of(graph, PRODUCTION))
    release_targets = targets or _consumers(graph)
    sources = _ids(_of(graph, TRAINING))
    for rule, kind, name, severity, why in _GATE_STEPS:
        gates = _ids(_of(graph, frozenset({kind})))
        if graph.level not in severity or not gates:
            continue  # the presence rules report a missing gate; this one reports a bypass
        path = find_path(graph, sources, release_targets, gates)
        if path:
            out.append(PathFinding(
                rule, severity[graph.level], "release",
                f"{_chain(graph, path)} reaches production without passing {name}", why,
                f"route the model through {name} ({', '.join(sorted(gates))}): remove the flow "
                f"{path[-2]} → {path[-1]} or send it through the gate", tuple(path),
                where(graph, path, path)))
    evaluations = _ids(_of(graph, frozenset({"model_evaluation"})))
    packers = _ids(_of(graph, CHANGES_ARTEFACT))
    if graph.level >= 1 and evaluations and packers:
        path = find_path(graph, packers, release_targets, evaluations)
        if path:
            out.append(PathFinding(
                "artefact-evaluated", "error", "release",
                f"{graph.components[path[0]].label} changes the model after evaluation "
                f"({_chain(graph, path)}): the artefact shipped is not the one evaluated",
                "Quantisation and packaging change accuracy and speed; a gate that measured the "
                "unpackaged model says nothing about the bundle that ships.",
                f"evaluate the packaged artefact: flow {path[0]} → an evaluation step, and "
                "only the evaluated artefact onwards to release", tuple(path),
                where(graph, path, path)))
    return out


def _consumers(graph: ArchitectureGraph) -> set[str]:
    """With no serving component (pre-training), production is the people the weights reach."""
    if not _of(graph, TRAINING):
        return set()
    after = reachable(graph, _ids(_of(graph, TRAINING)))
    return {c.id for c in _of(graph, frozenset({"client_app"})) if c.id in after}


def release_path(graph: ArchitectureGraph) -> list[PathFinding]:
    """Every production component is reached from the model registry (level 1+)."""
    severity = {1: "warning", 2: "error"}
    registries = _ids(_of(graph, frozenset({"model_registry"})))
    if graph.level not in severity or not registries or not _of(graph, TRAINING):
        return []
    targets = _ids(_of(graph, PRODUCTION)) or _consumers(graph) or set()
    fed = reachable(graph, registries)
    out = []
    for cid in sorted(targets - fed, key=list(graph.components).index):
        c = graph.components[cid]
        out.append(PathFinding(
            "release-path", severity[graph.level], "release",
            f"'{cid}' ({c.label}) is not deployed from the model registry: no path reaches it "
            "from the registry",
            "If production is not fed from the registry through the gates, nobody can tell which "
            "version is serving, and the gates protect nothing.",
            f"add the release flows from the registry (through approval) to '{cid}'",
            (*sorted(registries), cid), where(graph, [cid, *_release_steps(graph)])))
    return out


def _release_steps(graph: ArchitectureGraph) -> list[str]:
    return [c.id for c in _of(graph, frozenset({"approval", "model_registry", "ci_cd"}))]


def production_edges(graph: ArchitectureGraph) -> list[PathFinding]:
    """Every production component has an edge to monitoring; every online one to a fallback."""
    severity = {0: "info", 1: "warning", 2: "error"}
    level = severity[graph.level]
    phase = {c.id: c.phase for c in graph.components.values()}
    kind = {c.id: c.kind for c in graph.components.values()}
    has_fallback = bool(_of(graph, frozenset({"fallback"})))
    has_monitoring = any(p == "monitoring" for p in phase.values())
    out = []
    for c in _of(graph, PRODUCTION):
        targets = {f.target for f in graph.flows if f.source == c.id}
        if has_monitoring and not any(phase[t] == "monitoring" for t in targets):
            out.append(PathFinding(
                "production-monitored", level, "monitoring",
                f"'{c.id}' ({c.label}) has no flow to monitoring",
                "A production component nobody watches fails silently; its latency, errors and "
                "outputs must reach an alarm.",
                f"add a flow from '{c.id}' to a monitoring component (service monitoring or "
                "prediction logs)", (c.id,), where(graph, [c.id])))
        if (c.kind in ONLINE and has_fallback
                and not any(kind[t] == "fallback" for t in targets)):
            out.append(PathFinding(
                "production-fallback", level, "serving",
                f"'{c.id}' ({c.label}) has no fallback when it fails",
                "When this step times out or errors, the user gets nothing instead of a "
                "sensible default.",
                f"add a flow from '{c.id}' to the fallback (on error / timeout)", (c.id,),
                where(graph, [c.id])))
    return out


def data_validated(graph: ArchitectureGraph) -> list[PathFinding]:
    """Data validation sits between ingestion and every training step (level 1+)."""
    severity = {1: "warning", 2: "error"}
    checks = _ids(_of(graph, frozenset({"data_validation"})))
    if graph.level not in severity or not checks:
        return []
    control = _ids(_of(graph, CONTROL))
    path = find_path(graph, _ids(_of(graph, DATA_IN)), _ids(_of(graph, LEARNS)),
                     checks | control, loops=False)
    if not path:
        return []
    return [PathFinding(
        "data-validated", severity[graph.level], "data",
        f"{_chain(graph, path)} feeds training with data nobody validated",
        "Duplicated IDs, empty columns and schema changes silently produce bad models when "
        "ingested data reaches training unchecked.",
        f"send the data through validation ({', '.join(sorted(checks))}) before "
        f"'{path[-1]}'", tuple(path), where(graph, path, path))]


def controls_wired(graph: ArchitectureGraph) -> list[PathFinding]:
    """Approvals are recorded, monitoring is fed and raises alarms, control boxes have flows."""
    out = []
    level = {0: "warning", 1: "warning", 2: "error"}[graph.level]
    linked_in = {f.target for f in graph.flows}
    linked_out = {f.source for f in graph.flows}
    kind = {c.id: c.kind for c in graph.components.values()}
    audits = _ids(_of(graph, frozenset({"audit_log"})))
    for c in graph.components.values():
        if c.kind in GATES and c.id not in linked_in | linked_out:
            out.append(PathFinding(
                "control-wired", level, get_component_catalog().kinds[c.kind].phase,
                f"control '{c.id}' ({c.label}) has no flows: it controls nothing",
                "A gate, log or monitor drawn without arrows is decoration: nothing passes "
                "through it and nothing reads it.",
                f"connect '{c.id}' (flows in and out under `architecture.flows`) or remove it",
                (c.id,), where(graph, [c.id])))
            continue
        if c.kind == "approval" and audits and graph.level == 2 and not any(
                f.source == c.id and f.target in audits for f in graph.flows):
            out.append(PathFinding(
                "approval-audited", "error", "release",
                f"approvals at '{c.id}' are not written to the audit log",
                "Who approved which version, and when, must be answerable after the fact.",
                f"add a flow '{c.id}' → {sorted(audits)[0]} (sign-off)", (c.id, *sorted(audits)),
                where(graph, [c.id, *audits])))
        if c.kind == "model_monitoring" and graph.level >= 1 and c.id in linked_in | linked_out:
            fed = any(f.target == c.id and kind[f.source] in ("logging", "feedback")
                      for f in graph.flows)
            alarms = c.id in linked_out
            if not fed or not alarms:
                missing = "reads no prediction logs or outcomes" if not fed else "raises no alarm"
                out.append(PathFinding(
                    "monitoring-wired", level, "monitoring",
                    f"model monitoring '{c.id}' {missing}",
                    "Monitoring that sees no predictions or alarms nobody cannot trigger a "
                    "retrain or a rollback.",
                    f"feed '{c.id}' from the prediction logs and feedback, and send its alarm to "
                    "the retraining trigger", (c.id,), where(graph, [c.id])))
    return out


def llm_answers(graph: ArchitectureGraph) -> list[PathFinding]:
    """An LLM's answer reaches the user, and only through output guardrails when there are any."""
    level = {0: "warning", 1: "error", 2: "error"}[graph.level]
    users = _ids(_of(graph, frozenset({"client_app", "edge_device"})))
    guards = _ids(_of(graph, frozenset({"guardrails"})))
    fallbacks = _ids(_of(graph, frozenset({"fallback"})))
    out = []
    for c in _of(graph, frozenset({"llm"})):
        if not find_path(graph, [c.id], users, fallbacks):
            out.append(PathFinding(
                "llm-answer-returns", level, "serving",
                f"the answer of '{c.id}' ({c.label}) never reaches the user",
                "A diagram where the answer stops at the model hides the output checks, the "
                "latency and the fallback the user actually meets.",
                f"add the flow that carries the answer from '{c.id}' back to the user (through "
                "output guardrails)", (c.id,), where(graph, [c.id])))
        # A fallback replaces the answer with its own canned one: not a path of the answer.
        elif guards and (path := find_path(graph, [c.id], users, guards | fallbacks)):
            out.append(PathFinding(
                "llm-output-guarded", level, "serving",
                f"{_chain(graph, path)} returns the answer without output guardrails",
                "Input checks do not stop a harmful, wrong or private answer; only a check on "
                "the output does.",
                f"send the answer from '{c.id}' through a guardrails component before the user",
                tuple(path), where(graph, path, path)))
    return out


def path_findings(graph: ArchitectureGraph) -> list[PathFinding]:
    return [*gate_paths(graph), *release_path(graph), *production_edges(graph),
            *data_validated(graph), *controls_wired(graph), *llm_answers(graph)]
