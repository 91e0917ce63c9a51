"""Apply a spec's `architecture:` overrides to a blueprint graph, collecting every problem."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from mlscope.architecture.component_catalog import get_component_catalog
from mlscope.architecture.graph import ArchitectureGraph, Component, Edit, Flow
from mlscope.architecture.validate import ArchitectureSpecError, cycle_text, find_cycle
from mlscope.errors import UnknownNameError
from mlscope.spec.architecture import ArchitectureSection

Loc = tuple[str | int, ...]
Locator = Callable[[Loc], str]  # a location -> "file:line:col" ("" when unknown)


def _no_place(loc: Loc) -> str:
    return ""


class _Problems:
    def __init__(self, locate: Locator) -> None:
        self.locate = locate
        self.items: list[str] = []

    def where(self, loc: Loc) -> str:
        return self.locate(("architecture", *loc))

    def add(self, loc: Loc, message: str) -> None:
        dotted = ".".join(str(p) for p in ("architecture", *loc))
        where = self.locate(("architecture", *loc))
        self.items.append(f"{where}: {dotted}: {message}" if where else f"{dotted}: {message}")


def _unknown(name: str, graph: ArchitectureGraph) -> str:
    close = UnknownNameError("component", name, graph.components).suggestions
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return f"no component '{name}' in the {graph.use_case} blueprint at level {graph.level}{hint}"


def apply_overrides(graph: ArchitectureGraph, section: ArchitectureSection,
                    locate: Locator | None = None) -> ArchitectureGraph:
    """Remove, add, rename components, then remove and add flows; raise with every problem."""
    problems = _Problems(locate or _no_place)
    catalog = get_component_catalog()
    for i, cid in enumerate(section.remove):
        if cid not in graph.components:
            problems.add(("remove", i), _unknown(cid, graph))
            continue
        kind_id = graph.components.pop(cid).kind
        graph.flows = [f for f in graph.flows if cid not in (f.source, f.target)]
        graph.edits.append(Edit("remove", (cid,), problems.where(("remove", i)), kind_id))
    for i, add in enumerate(section.add):
        if add.id in graph.components:
            problems.add(("add", i, "id"), f"component '{add.id}' already exists; use `rename` "
                         "to relabel it, or `remove` it to replace it")
            continue
        try:
            kind = catalog.kind(add.kind)
        except UnknownNameError as exc:
            problems.add(("add", i, "kind"), exc.one_line())
            continue
        graph.components[add.id] = Component(
            add.id, kind.id, add.label or kind.title, kind.phase,
            add.aws or (kind.aws[0] if kind.aws else ""),
            add.oss or (kind.oss[0] if kind.oss else ""), origin="spec",
            # The kind's icon pictures its default service; another service gets none.
            icon="" if add.aws and add.aws not in kind.aws else None)
        graph.edits.append(Edit("add", (add.id,), problems.where(("add", i)), kind.id))
    for cid, label in section.rename.items():
        if cid not in graph.components:
            problems.add(("rename", cid), _unknown(cid, graph))
        elif not label.strip() or "\n" in label:
            problems.add(("rename", cid), "the new label must be one non-empty line")
        else:
            graph.components[cid].label = label.strip()
            graph.edits.append(Edit("rename", (cid,), problems.where(("rename", cid))))
    for i, ref in enumerate(section.remove_flows):
        kept = [f for f in graph.flows if (f.source, f.target) != (ref.from_, ref.to)]
        if len(kept) == len(graph.flows):
            problems.add(("remove_flows", i), f"there is no flow {ref.from_} → {ref.to} to remove")
        graph.flows = kept
        graph.edits.append(Edit("remove_flow", (ref.from_, ref.to),
                                problems.where(("remove_flows", i))))
    added: dict[tuple[str, str], int] = {}
    for i, spec_flow in enumerate(section.flows):
        ends_ok = True
        for end, key in ((spec_flow.from_, "from"), (spec_flow.to, "to")):
            if end not in graph.components:
                problems.add(("flows", i, key), _unknown(end, graph))
                ends_ok = False
        if not ends_ok:
            continue
        if spec_flow.from_ == spec_flow.to:
            problems.add(("flows", i), "a flow cannot go from a component to itself")
            continue
        pair = (spec_flow.from_, spec_flow.to)
        flow = Flow(*pair, spec_flow.label, spec_flow.loop)
        existing = [j for j, f in enumerate(graph.flows) if (f.source, f.target) == pair]
        if existing:  # same two ends: the spec relabels the blueprint's flow
            graph.flows[existing[0]] = flow
        else:
            graph.flows.append(flow)
        added[pair] = i
        graph.edits.append(Edit("add_flow", pair, problems.where(("flows", i))))
    cycle = find_cycle(graph.components, graph.flows)
    if cycle:
        edges = list(itertools.pairwise(cycle))
        culprit = next((added[e] for e in edges if e in added), None)
        loc: Loc = ("flows", culprit) if culprit is not None else ("flows",)
        problems.add(loc, f"the flows make a cycle {cycle_text(cycle)}; mark the flow that goes "
                     "back upstream with `loop: true` or remove one")
    if problems.items:
        raise ArchitectureSpecError(
            problems.items, fix=f"`mlscope explain --blueprint {graph.use_case}` lists its "
            "component ids")
    return graph
