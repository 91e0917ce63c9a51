"""SVG and PNG through Graphviz's `dot`, with AWS icons inlined so the SVG stands alone.

Icons come from the `diagrams` package's wheel (resources/aws/...), read from disk; nothing is
fetched. Without `diagrams` the boxes are drawn without icons. Without `dot`, EngineMissingError.
"""

from __future__ import annotations

import base64
import importlib.util
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from mlscope.architecture.component_catalog import get_component_catalog
from mlscope.architecture.graph import ArchitectureGraph
from mlscope.architecture.renderers.dot import ICON_PX, emit_dot
from mlscope.errors import EngineMissingError

DOT_TIMEOUT_S = 60


def icon_root() -> Path | None:
    """resources/aws inside the installed `diagrams` wheel, or None when it is not installed."""
    spec = importlib.util.find_spec("diagrams")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).resolve().parent.parent / "resources" / "aws"
    return root if root.is_dir() else None


def _shrink(src: Path, dest: Path) -> None:
    # Icons ship at 300 px (~20 kB each); twice the drawn size in 64 colours stays sharp on
    # high-DPI screens and keeps a 30-box SVG under ~100 kB. Without Pillow: the originals.
    try:
        from PIL import Image
    except ImportError:
        shutil.copyfile(src, dest)
        return
    with Image.open(src) as img:
        small = img.convert("RGBA")
        small.thumbnail((ICON_PX * 2, ICON_PX * 2))
        small.quantize(64, method=Image.Quantize.FASTOCTREE).save(dest, format="PNG",
                                                                  optimize=True)


def _stage_icons(graph: ArchitectureGraph, folder: Path) -> dict[str, str]:
    """Copy each component's icon into `folder`; component id -> local path."""
    root = icon_root()
    if root is None:
        return {}
    catalog = get_component_catalog()
    staged: dict[str, str] = {}
    out: dict[str, str] = {}
    for c in graph.components.values():
        kind = catalog.kinds.get(c.kind)
        icon = c.icon if c.icon is not None else (kind.icon if kind else None)
        if not icon or not (root / icon).is_file():
            continue
        if icon not in staged:
            dest = folder / f"icon{len(staged)}.png"
            _shrink(root / icon, dest)
            staged[icon] = str(dest)
        out[c.id] = staged[icon]
    return out


def _run_dot(source: str, fmt: str, cwd: Path) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise EngineMissingError(
            f"Graphviz `dot` is not installed, so {fmt.upper()} cannot be drawn",
            "apt-get install graphviz (or brew install graphviz), or use --format mermaid|d2|dot")
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=source.encode(), cwd=cwd,
                              capture_output=True, timeout=DOT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise EngineMissingError(f"Graphviz `dot` took over {DOT_TIMEOUT_S} s",
                                 "simplify the diagram (--view context)") from None
    if done.returncode != 0:
        first = done.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise EngineMissingError(f"Graphviz `dot` failed: {first[0] if first else 'no message'}",
                                 "report this spec as a bug; meanwhile use --format mermaid")
    return done.stdout


def _inline(svg: str, icons: dict[str, str]) -> str:
    for path in set(icons.values()):
        data = base64.b64encode(Path(path).read_bytes()).decode()
        svg = svg.replace(f'"{path}"', f'"data:image/png;base64,{data}"')
    # Nothing may point outside the file: a left-over local path would break on another machine.
    return re.sub(r'xlink:href="(?!data:|#|https?:)[^"]*"', 'xlink:href=""', svg)


def render_svg(graph: ArchitectureGraph) -> str:
    with tempfile.TemporaryDirectory(prefix="mlscope-diagram-") as tmp:
        icons = _stage_icons(graph, Path(tmp))
        svg = _run_dot(emit_dot(graph, icons), "svg", Path(tmp)).decode()
        return _inline(svg, icons)


def render_png(graph: ArchitectureGraph) -> bytes:
    with tempfile.TemporaryDirectory(prefix="mlscope-diagram-") as tmp:
        icons = _stage_icons(graph, Path(tmp))
        source = emit_dot(graph, icons).replace("pad=0.3];", "pad=0.3, dpi=110];", 1)
        return _run_dot(source, "png", Path(tmp))


def dot_to(source: str, fmt: str) -> bytes:
    """Any DOT text (no icons) as SVG or PNG."""
    with tempfile.TemporaryDirectory(prefix="mlscope-diagram-") as tmp:
        if fmt == "png":
            source = source.replace("pad=0.25];", "pad=0.25, dpi=110];", 1)
        return _run_dot(source, fmt, Path(tmp))
