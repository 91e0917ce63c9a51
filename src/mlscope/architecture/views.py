"""Views for each reader, from the one architecture graph.

- `system_view`: the one-slide picture for sponsors: 5-9 boxes (who uses it, where they meet
  it, the model, the data it learns from, who approves, the safety net, how we know it works,
  what it costs), landscape, with the one-line value proposition.
- `storyboard`: what the end user sees, step by step, and where the model acts, from the
  spec's `experience:` section or the use case's default.

Each renders as Mermaid (for GitHub) or through Graphviz as SVG/PNG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from html import escape
from importlib import resources
from typing import Any

import yaml

from mlscope.architecture.graph import ArchitectureGraph, Component
from mlscope.architecture.renderers.common import wrap
from mlscope.spec.experience import ExperienceSection

FONT = "DejaVu Sans"
# Big type: the drawing is shown at slide and page width, and must stay legible there.
TITLE_PT = 17
TEXT_PT = 14


@dataclass(frozen=True)
class Box:
    id: str
    role: str  # users | surface | model | data | people | safety | watch | money
    title: str  # what the box is, in a sponsor's words
    detail: str  # the components behind it


ROLE_COLORS = {  # fill, border
    "users": ("#F2F2F2", "#5A5A5A"), "surface": ("#FDECEC", "#C0392B"),
    "model": ("#EAF5EA", "#3A8B3A"), "data": ("#E8F1FB", "#2E75B6"),
    "people": ("#FFF4E0", "#C77C02"), "safety": ("#FFFFFF", "#C0392B"),
    "watch": ("#F3EAF8", "#7D3C98"), "money": ("#FFFBE6", "#9A6700"),
}


@dataclass
class SystemView:
    heading: str
    value: str  # the one-line value proposition
    boxes: list[Box] = field(default_factory=list)
    flows: list[tuple[str, str, str, bool]] = field(default_factory=list)  # a, b, label, loop

    def ids(self) -> set[str]:
        return {b.id for b in self.boxes}


def _labels(components: list[Component], limit: int = 3) -> str:
    names = [c.label for c in components]
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _kinds(graph: ArchitectureGraph, *kinds: str) -> list[Component]:
    return [c for c in graph.components.values() if c.kind in kinds]


def first_sentence(text: str) -> str:
    head = text.strip().split(". ")[0].split(": ")[0].strip()
    return head.rstrip(".") + "." if head else ""


def system_view(graph: ArchitectureGraph, value: str | None = None,
                money: str | None = None) -> SystemView:
    """The sponsor view: every box says what it is for; the components are named inside it."""
    view = SystemView(graph.title, value or first_sentence(graph.summary))
    users = _kinds(graph, "client_app") or _kinds(graph, "edge_device")
    surface = (_kinds(graph, "online_endpoint", "retriever", "llm", "edge_runtime")
               or _kinds(graph, "batch_inference"))
    model = _kinds(graph, "training", "distributed_training", "notebook")
    data = _kinds(graph, "data_source", "event_stream", "feedback")
    people = _kinds(graph, "approval")
    safety = _kinds(graph, "fallback")
    watch = (_kinds(graph, "business_metrics", "model_monitoring")
             or _kinds(graph, "service_monitoring"))

    def add(box_id: str, role: str, title: str, members: list[Component]) -> None:
        if members:
            view.boxes.append(Box(box_id, role, title, _labels(members)))

    add("users", "users", "Who uses it", users)
    add("surface", "surface", "Where they meet the model", surface)
    add("data", "data", "The data it learns from", data)
    add("model", "model", "The model", model)
    if people:
        add("people", "people", "People who approve", people)
    elif graph.level == 0 and model:
        view.boxes.append(Box("people", "people", "People who release it",
                              "a data scientist copies the model by hand"))
    add("safety", "safety", "When the model fails", safety)
    add("watch", "watch", "How we know it works", watch)
    if money:
        view.boxes.append(Box("money", "money", "What it costs", money))
    ids = view.ids()
    for a, b, label, loop in (
        ("users", "surface", "asks, sees the result", False),
        ("data", "model", "learns from", False),
        ("model", "people", "candidate version", False),
        ("people", "surface", "approved version", False),
        ("model", "surface", "new version", False),
        ("surface", "safety", "on failure", False),
        ("surface", "watch", "outcomes", False),
        ("watch", "model", "retrain when it drifts", True),
    ):
        if a in ids and b in ids and not (a == "model" and b == "surface" and "people" in ids):
            view.flows.append((a, b, label, loop))
    return view


def _box_label(b: Box) -> str:
    detail = "<BR/>".join(escape(line) for line in wrap(b.detail, 28))
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2"><TR><TD><FONT POINT-SIZE="'
            f'{TITLE_PT}"><B>{escape(b.title)}</B></FONT></TD></TR><TR><TD><FONT POINT-SIZE="'
            f'{TEXT_PT}" COLOR="#333333">{detail}</FONT></TD></TR></TABLE>>')


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def system_dot(view: SystemView) -> str:
    head = "\n".join(wrap(f"{view.heading}: {view.value}" if view.value else view.heading, 70))
    lines = [
        f"// {view.heading}: system view for sponsors (generated by mlscope)",
        "digraph system {",
        f'  graph [rankdir=TB, fontname="{FONT}", label={_q(head)}, labelloc=t, '
        f"fontsize={TITLE_PT + 3}, nodesep=0.35, ranksep=0.55, pad=0.25];",
        f'  node [shape=box, style="rounded,filled", fontname="{FONT}", margin="0.12,0.06"];',
        f'  edge [fontname="{FONT}", fontsize={TEXT_PT}, color="#555555", fontcolor="#333333"];',
    ]
    for b in view.boxes:
        fill, border = ROLE_COLORS[b.role]
        style = ', style="rounded,filled,dashed"' if b.role == "safety" else ""
        lines.append(f"  {b.id} [label={_box_label(b)}, fillcolor={_q(fill)}, "
                     f"color={_q(border)}, penwidth=2{style}];")
    # Three rows, so the slide stays landscape without shrinking the type: who and what feeds
    # it on top, where the model meets people in the middle, the controls around it below.
    rows = (("users", "data", "money"), ("surface", "model"), ("safety", "watch", "people"))
    ids = view.ids()
    for row in rows:
        present = [r for r in row if r in ids]
        if len(present) > 1:
            lines.append(f"  {{rank=same; {'; '.join(present)}}}")
    upward = {("people", "surface"), ("watch", "model")}
    for src, dst, label, loop in view.flows:
        extra = ', style=dashed, color="#7D3C98"' if loop else ""
        if (src, dst) in upward:
            extra += ", constraint=false"
        lines.append(f"  {src} -> {dst} [label={_q(label)}{extra}];")
    if "money" in ids and "data" in ids:  # keep the cost box at the top right, off the flows
        lines.append("  data -> money [style=invis];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _m(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def system_mermaid(view: SystemView) -> str:
    lines = [f"%% {view.heading}: system view for sponsors (generated by mlscope)",
             f"%% {view.value}", "flowchart LR"]
    for b in view.boxes:
        lines.append(f'  {b.id}["<b>{_m(b.title)}</b><br/>{_m(b.detail)}"]')
    for src, dst, label, loop in view.flows:
        lines.append(f'  {src} {"-.->" if loop else "-->"}|"{_m(label)}"| {dst}')
    for b in view.boxes:
        fill, border = ROLE_COLORS[b.role]
        lines.append(f"  style {b.id} fill:{fill},stroke:{border},color:#1A1A1A")
    return "\n".join(lines) + "\n"


# ---- the user-experience storyboard -------------------------------------------------------


@dataclass(frozen=True)
class Step:
    actor: str  # user | product | model
    text: str


@dataclass
class Storyboard:
    heading: str
    persona: str
    surface: str
    model: str  # the component where the model acts
    fallback: str
    steps: list[Step]
    from_spec: bool  # False: the use case's default storyboard


@cache
def _defaults() -> dict[str, Any]:
    text = (resources.files("mlscope.architecture") / "experience.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def storyboard(graph: ArchitectureGraph, experience: ExperienceSection | None = None) -> Storyboard:
    base = _defaults().get(graph.use_case) or _defaults()["other"]
    exp = experience or ExperienceSection()
    steps = ([Step(s.actor, s.text) for s in exp.steps] if exp.steps
             else [Step(s["actor"], s["text"]) for s in base["steps"]])
    acting = (_kinds(graph, "online_endpoint", "llm", "edge_runtime", "retriever")
              or _kinds(graph, "batch_inference", "training", "distributed_training"))
    fallback = exp.fallback or base["fallback"]
    return Storyboard(graph.title, exp.persona or base["persona"],
                      exp.surface or base["surface"],
                      _labels(acting, 1) if acting else "the model", fallback, steps,
                      from_spec=bool(exp.steps))


STORY_ROW = 3


def story_mermaid(sb: Storyboard) -> str:
    """A sequence diagram: the person, the product surface, the model, the fallback."""
    lines = [f"%% {sb.heading}: user-experience storyboard (generated by mlscope)",
             "sequenceDiagram", f'  actor P as {_m(sb.persona)}',
             f"  participant S as {_m(sb.surface)}", f"  participant M as {_m(sb.model)}"]
    for i, s in enumerate(sb.steps, 1):
        text = f"{i}. {_m(s.text)}"
        if s.actor == "user":
            lines.append(f"  P->>S: {text}")
        elif s.actor == "product":
            lines.append(f"  S-->>P: {text}")
        else:
            lines += [f"  S->>M: {text}", "  M-->>S: result"]
    lines += ["  alt the model is slow or down", f"    S-->>P: fallback: {_m(sb.fallback)}",
              "  end"]
    return "\n".join(lines) + "\n"


def story_dot(sb: Storyboard) -> str:
    """Frames left to right; the frames where the model acts are green; the fallback below."""
    lines = [f"// {sb.heading}: user-experience storyboard (generated by mlscope)",
             "digraph storyboard {",
             f'  graph [rankdir=TB, fontname="{FONT}", '
             f'label={_q(f"What the {sb.persona.lower()} sees: " + sb.surface)}, '
             f"labelloc=t, fontsize={TITLE_PT + 2}, nodesep=0.5, ranksep=0.4, pad=0.25];",
             f'  node [shape=box, style="rounded,filled", fontname="{FONT}", margin="0.14,0.08"];',
             f'  edge [fontname="{FONT}", fontsize={TEXT_PT}, color="#555555"];']
    who = {"user": sb.persona, "product": sb.surface, "model": f"model: {sb.model}"}
    colors = {"user": ("#F2F2F2", "#5A5A5A"), "product": ("#FFFFFF", "#2E75B6"),
              "model": ("#EAF5EA", "#3A8B3A")}
    model_steps = []
    for i, s in enumerate(sb.steps, 1):
        fill, border = colors[s.actor]
        text = "<BR/>".join(escape(line) for line in wrap(s.text, 22))
        tag = escape("\n".join(wrap(who[s.actor], 26))).replace("\n", "<BR/>")
        lines.append(
            f'  s{i} [label=<<FONT POINT-SIZE="{TEXT_PT}" COLOR="#555555">{i} · {tag}</FONT>'
            f'<BR/><FONT POINT-SIZE="{TITLE_PT - 1}"><B>{text}</B></FONT>>, '
            f'fillcolor="{fill}", color="{border}", penwidth={3 if s.actor == "model" else 1.5}];')
        if s.actor == "model":
            model_steps.append(i)
    for i in range(1, len(sb.steps)):
        lines.append(f"  s{i} -> s{i + 1};")
    fb = "<BR/>".join(escape(line) for line in wrap(sb.fallback, 30))
    lines.append(f'  fallback [label=<<FONT POINT-SIZE="{TEXT_PT}" COLOR="#C0392B">if the model '
                 f'is slow or down</FONT><BR/><FONT POINT-SIZE="{TITLE_PT - 1}"><B>{fb}</B>'
                 '</FONT>>, style="rounded,dashed", color="#C0392B"];')
    anchor = model_steps[0] if model_steps else 1
    lines.append(f'  s{anchor} -> fallback [style=dashed, color="#C0392B", constraint=false];')
    # Rows of three frames, read left to right then down: a long story stays page-wide with
    # legible type instead of shrinking into one strip.
    n = len(sb.steps)
    for row in range(0, n, STORY_ROW):
        members = [f"s{i}" for i in range(row + 1, min(row + STORY_ROW, n) + 1)]
        if row + STORY_ROW >= n:
            members.append("fallback")
        lines.append(f"  {{rank=same; {'; '.join(members)}}}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_view(text_dot: str, text_mermaid: str, fmt: str) -> str | bytes:
    """A view in one of mermaid, dot, svg, png."""
    from mlscope.architecture.renderers.graphviz import dot_to

    if fmt == "mermaid":
        return text_mermaid
    if fmt == "dot":
        return text_dot
    if fmt in ("svg", "png"):
        out = dot_to(text_dot, fmt)
        return out.decode() if fmt == "svg" else out
    from mlscope.errors import InputError

    raise InputError(f"this view cannot be drawn as {fmt}", "use --format svg, png, mermaid or dot")
