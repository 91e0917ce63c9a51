"""Renderers: golden files for the text emitters, SVG that parses and names every component,
PNG that is a real image, and escaping that survives any label."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlscope.architecture import build_architecture, load_blueprint, render
from mlscope.architecture.blueprints import LEVELS, use_cases
from mlscope.architecture.renderers import TEXT_FORMATS
from mlscope.architecture.renderers import graphviz as gv
from mlscope.errors import EngineMissingError, UnknownNameError

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MLSCOPE_UPDATE_GOLDEN") == "1"  # regenerate after a deliberate change
SUFFIX = {"mermaid": "mmd", "d2": "d2", "dot": "dot", "structurizr": "dsl"}
GOLDEN_CASES = [("recommender", 2, "container"), ("edge-voice-assistant", 1, "container"),
                ("llm-rag", 2, "context")]
BLUEPRINTS = [u for u in use_cases() if u != "other"]
SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def _graph(use_case: str, level: int, view: str = "container"):
    graph = load_blueprint(use_case).at_level(level)
    return graph.context_view() if view == "context" else graph


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@pytest.mark.parametrize(("use_case", "level", "view"), GOLDEN_CASES)
def test_text_emitters_match_golden_files(fmt: str, use_case: str, level: int,
                                          view: str) -> None:
    text = render(_graph(use_case, level, view), fmt)
    assert isinstance(text, str)
    golden = GOLDEN / f"{use_case}-{level}-{view}.{SUFFIX[fmt]}"
    if UPDATE:
        golden.write_text(text)
    assert text == golden.read_text()


@pytest.mark.parametrize(("use_case", "level", "view"), GOLDEN_CASES)
def test_dot_text_is_accepted_by_graphviz(use_case: str, level: int, view: str) -> None:
    done = subprocess.run(["dot", "-Tcanon"], input=render(_graph(use_case, level, view), "dot"),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def _svg_text(svg: str) -> str:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    hrefs = [el.get(XLINK_HREF) for el in root.iter() if el.get(XLINK_HREF) is not None]
    assert all(h.startswith("data:image/png;base64,") for h in hrefs), "external reference"
    return " ".join(" ".join(el.itertext()) for el in root.iter(f"{SVG_NS}text"))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("use_case", BLUEPRINTS)
def test_svg_parses_and_names_every_component(use_case: str, level: int) -> None:
    graph = _graph(use_case, level)
    svg = render(graph, "svg")
    assert isinstance(svg, str)
    words = " ".join(_svg_text(svg).split())
    for c in graph.components.values():
        assert " ".join(c.label.split()) in words, c.label
    assert graph.heading in words and "Legend" in words


def test_svg_inlines_icons_and_stays_small() -> None:
    svg = render(_graph("recommender", 2), "svg")
    assert isinstance(svg, str)
    assert svg.count("data:image/png;base64,") >= 20
    assert len(svg) < 400_000


def test_svg_without_the_icon_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gv, "icon_root", lambda: None)
    svg = render(_graph("forecasting", 1), "svg")
    assert isinstance(svg, str) and "<image" not in svg
    assert "Weekly forecast job" in _svg_text(svg)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("use_case", BLUEPRINTS)
def test_png_is_a_real_image(use_case: str, tmp_path: Path) -> None:
    data = render(_graph(use_case, 2), "png")
    assert isinstance(data, bytes)
    width, height = _png_size(data)
    assert width > 800 and height > 800
    pil = pytest.importorskip("PIL.Image")
    path = tmp_path / "a.png"
    path.write_bytes(data)
    with pil.open(path) as img:
        img.verify()
        assert img.size == (width, height)


def test_missing_dot_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gv.shutil, "which", lambda name: None)
    with pytest.raises(EngineMissingError) as err:
        render(_graph("recommender", 0), "svg")
    assert "apt-get install graphviz" in err.value.one_line()
    # The text emitters need no binary.
    assert "flowchart" in str(render(_graph("recommender", 0), "mermaid"))


def test_unknown_format() -> None:
    with pytest.raises(UnknownNameError) as err:
        render(_graph("recommender", 0), "mermaidd")
    assert "did you mean mermaid" in err.value.one_line()


def test_context_view_folds_phases() -> None:
    full = _graph("recommender", 2)
    ctx = full.context_view()
    phases = {p for p, _ in full.by_phase()} - {"external"}
    assert phases <= set(ctx.components)
    assert {"app", "sources"} <= set(ctx.components)
    assert len(ctx.components) < len(full.components) / 2
    assert all(f.source != f.target for f in ctx.flows)


LABEL = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
                ).filter(lambda s: s.strip() != "")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=LABEL)
def test_any_label_survives_every_emitter(make_spec, label: str) -> None:
    quoted = label.strip().replace("\\", "\\\\").replace('"', '\\"')
    spec = make_spec("recommender", 0, f'architecture:\n  rename: {{api: "{quoted}"}}\n')
    graph = build_architecture(spec)
    shown = graph.components["api"].label
    mermaid = str(render(graph, "mermaid"))
    node = next(ln for ln in mermaid.splitlines() if ln.strip().startswith("api["))
    assert re.fullmatch(r'\s*api\["[^"]*"\]', node), node
    for fmt, pattern in (("d2", r'\s*api: ("(?:[^"\\]|\\.)*") \{'),
                         ("structurizr", r'\s*c_api = container ("(?:[^"\\]|\\.)*") .*')):
        line = next(ln for ln in str(render(graph, fmt)).splitlines()
                    if re.fullmatch(pattern, ln))
        assert line
    done = subprocess.run(["dot", "-Tsvg"], input=render(graph, "dot"), capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    words = " ".join(_svg_text(done.stdout).split())
    assert " ".join(shown.split()) in words
