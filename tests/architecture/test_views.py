"""Views for each reader: the sponsor system view (5-9 boxes, landscape, big type) and the
user-experience storyboard, as SVG/PNG and Mermaid, for every example and blueprint."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlscope.architecture import build_architecture, load_blueprint
from mlscope.architecture.blueprints import LEVELS, use_cases
from mlscope.architecture.views import (
    TEXT_PT,
    render_view,
    story_dot,
    story_mermaid,
    storyboard,
    system_dot,
    system_mermaid,
    system_view,
)
from mlscope.spec import load_spec, load_spec_text

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/mlscope.yaml"))
BLUEPRINTS = [u for u in use_cases() if u != "other"]
# The report column is 872 px wide; text of TEXT_PT user units must stay >= 11 px there.
MAX_SYSTEM_WIDTH = 872 * TEXT_PT / 11


def _viewbox(svg: str) -> tuple[float, float]:
    m = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"', svg)
    assert m, svg[:200]
    return float(m.group(1)), float(m.group(2))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("use_case", BLUEPRINTS)
def test_system_view_has_5_to_9_landscape_boxes(use_case: str, level: int) -> None:
    view = system_view(load_blueprint(use_case).at_level(level), money="$1k a month")
    assert 5 <= len(view.boxes) <= 9, [b.title for b in view.boxes]
    svg = str(render_view(system_dot(view), system_mermaid(view), "svg"))
    width, height = _viewbox(svg)
    assert width > height and width <= MAX_SYSTEM_WIDTH, (width, height)
    ET.fromstring(svg)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_each_example_draws_system_and_storyboard(path: Path) -> None:
    spec = load_spec(path)
    graph = build_architecture(spec)
    view = system_view(graph, spec.project.description)
    sb = storyboard(graph, spec.experience)
    for dot, mermaid in ((system_dot(view), system_mermaid(view)),
                         (story_dot(sb), story_mermaid(sb))):
        svg = str(render_view(dot, mermaid, "svg"))
        ET.fromstring(svg)
        png = render_view(dot, mermaid, "png")
        assert isinstance(png, bytes) and png[:4] == b"\x89PNG"
    text = story_mermaid(sb)
    assert text.splitlines()[1] == "sequenceDiagram" and "alt the model is slow or down" in text
    assert system_mermaid(view).splitlines()[2] == "flowchart LR"


def test_system_view_names_the_hidden_components() -> None:
    # The old context view showed three components per phase and "and N more", hiding the LLM.
    view = system_view(load_blueprint("llm-rag").at_level(2))
    surface = next(b for b in view.boxes if b.role == "surface")
    assert "LLM" in surface.detail
    rec = system_view(load_blueprint("recommender").at_level(2))
    assert "Recommendations API" in next(b for b in rec.boxes if b.role == "surface").detail


def test_storyboard_from_the_spec_beats_the_default() -> None:
    spec = load_spec_text("project: {name: t, use_case: recommender}\nexperience:\n"
                          "  persona: Buyer\n  steps:\n    - {actor: user, text: Visits}\n"
                          "    - {actor: model, text: Suggests}\n  fallback: Best-sellers\n")
    sb = storyboard(build_architecture(spec), spec.experience)
    assert sb.from_spec and sb.persona == "Buyer" and [s.text for s in sb.steps] == [
        "Visits", "Suggests"] and sb.fallback == "Best-sellers"
    default = storyboard(build_architecture(load_spec_text(
        "project: {name: t, use_case: tabular-classifier}\n")))
    assert not default.from_spec and "fraud" in " ".join(s.text for s in default.steps)


def test_stage_pieces_keep_the_whole_diagrams_numbers() -> None:
    from mlscope.architecture.renderers.common import flow_numbers

    graph = load_blueprint("recommender").at_level(2)
    numbers = flow_numbers(graph)
    assert sorted(numbers.values()) == list(range(1, len(graph.flows) + 1))
    # Forward flows first, in lifecycle order: the first flow leaves a source system or the app.
    first = graph.flows[next(i for i, n in numbers.items() if n == 1)]
    assert graph.components[first.source].phase == "external"
    assert all(graph.flows[i].loop for i, n in numbers.items() if n > len(numbers) - 2)
    pieces = [graph.stage_view(p, numbers) for p, _ in graph.by_phase() if p != "external"]
    labels = {f.label for piece in pieces for f in piece.flows}
    whole = {f"{numbers[i]}. {f.label}" for i, f in enumerate(graph.flows)}
    assert labels == whole  # every flow appears in a piece, with its number from the whole
    assert all(piece.direction == "TB" and not piece.numbered for piece in pieces)
