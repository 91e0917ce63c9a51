"""The architecture graph: components grouped by lifecycle phase, and labelled flows between them.

One model feeds every renderer; `context_view()` derives the sponsor-level view from it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mlscope.architecture.component_catalog import get_component_catalog


@dataclass
class Component:
    id: str
    kind: str
    label: str
    phase: str
    aws: str  # the AWS service drawn on diagrams
    oss: str  # the open-source alternative drawn on diagrams
    origin: str = "blueprint"  # "blueprint" or "spec" (added by the user)
    icon: str | None = None  # None: the kind's icon; "": none (the service differs from the kind's)


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    label: str = ""
    loop: bool = False  # goes back upstream (feedback, a reply): the only flows allowed in cycles


@dataclass(frozen=True)
class Edit:
    """One spec change to the blueprint, kept so a finding can point at the line that caused it."""

    action: str  # add | remove | rename | add_flow | remove_flow
    ids: tuple[str, ...]  # the component, or the two ends of the flow
    where: str  # "file:line:col" in the spec, "" when unknown
    kind: str = ""  # the kind of a removed or added component


@dataclass
class ArchitectureGraph:
    use_case: str
    level: int
    title: str
    components: dict[str, Component] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    phase_titles: dict[str, str] = field(default_factory=dict)
    clustered: bool = True  # draw a box per lifecycle phase (off in the context view)
    summary: str = ""  # the blueprint's one-paragraph description
    edits: list[Edit] = field(default_factory=list)  # the spec's changes, in order
    level_where: str = ""  # where the spec sets the MLOps level (findings with no other cause)
    direction: str = "LR"  # Graphviz rankdir: stages left to right; a single stage top down
    numbered: bool = True  # number the flows (off when the labels already carry numbers)

    @property
    def heading(self) -> str:
        return f"{self.title} — MLOps level {self.level}"

    def kinds(self) -> set[str]:
        return {c.kind for c in self.components.values()}

    def phase_title(self, phase: str) -> str:
        return self.phase_titles.get(phase) or get_component_catalog().phases[phase].title

    def by_phase(self) -> list[tuple[str, list[Component]]]:
        """Phases in lifecycle order, each with its components in declaration order."""
        groups: list[tuple[str, list[Component]]] = []
        for phase in get_component_catalog().phase_order():
            members = [c for c in self.components.values() if c.phase == phase]
            if members:
                groups.append((phase, members))
        return groups

    def flows_of(self, component_id: str) -> list[Flow]:
        return [f for f in self.flows if component_id in (f.source, f.target)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "use_case": self.use_case, "level": self.level, "title": self.title,
            "phases": [{"id": p, "title": self.phase_title(p), "components": [c.id for c in cs]}
                       for p, cs in self.by_phase()],
            "components": [asdict(c) for c in self.components.values()],
            "flows": [{"from": f.source, "to": f.target, "label": f.label, "loop": f.loop}
                      for f in self.flows],
        }

    def stage_view(self, phase: str, numbers: dict[int, int]) -> ArchitectureGraph:
        """One lifecycle stage with the components its flows touch, drawn top down.

        `numbers` are the whole diagram's flow numbers, so a reader can move between the
        pieces and the whole: a wide diagram is split per stage rather than shrunk.
        """
        members = {c.id for c in self.components.values() if c.phase == phase}
        touching = [(i, f) for i, f in enumerate(self.flows)
                    if f.source in members or f.target in members]
        ids = members | {f.source for _, f in touching} | {f.target for _, f in touching}
        view = ArchitectureGraph(self.use_case, self.level,
                                 f"{self.title}: {self.phase_title(phase)}",
                                 phase_titles=dict(self.phase_titles), direction="TB",
                                 numbered=False)
        # Boxes of other stages are context: their name only, so the piece stays narrow.
        view.components = {cid: c if cid in members else Component(
            c.id, c.kind, c.label, c.phase, "", "", c.origin, icon="")
            for cid, c in self.components.items() if cid in ids}
        view.flows = [Flow(f.source, f.target, f"{numbers[i]}. {f.label}" if f.label else
                           str(numbers[i]), f.loop) for i, f in touching]
        return view

    def context_view(self) -> ArchitectureGraph:
        """Sponsor view: users and source systems kept, each lifecycle phase folded into one box.

        Flows between phases are merged; their labels are joined (at most two, then a count).
        """
        view = ArchitectureGraph(self.use_case, self.level, self.title,
                                 phase_titles=dict(self.phase_titles), clustered=False)
        owner: dict[str, str] = {}
        for phase, members in self.by_phase():
            if phase == "external":
                for c in members:
                    view.components[c.id] = c
                    owner[c.id] = c.id
                continue
            # The box names what the phase holds: sponsors read labels, not service names.
            shown = ", ".join(c.label for c in members[:3])
            more = f" and {len(members) - 3} more" if len(members) > 3 else ""
            view.components[phase] = Component(
                id=phase, kind=f"phase:{phase}", label=self.phase_title(phase), phase=phase,
                aws=f"{shown}{more}", oss="")
            for c in members:
                owner[c.id] = phase
        merged: dict[tuple[str, str], list[Flow]] = {}
        for f in self.flows:
            a, b = owner[f.source], owner[f.target]
            if a != b:
                merged.setdefault((a, b), []).append(f)
        for (a, b), flows in merged.items():
            labels = list(dict.fromkeys(f.label for f in flows if f.label))
            text = "; ".join(labels[:2]) + (f" (+{len(labels) - 2})" if len(labels) > 2 else "")
            view.flows.append(Flow(a, b, text, loop=all(f.loop for f in flows)))
        return view
