"""The package's layering holds: the import-linter contract, and no import cycle anywhere.

`make lint` runs `lint-imports` on the contract in pyproject.toml (layers that run one way);
this test runs the same contract from pytest and adds what a layers contract cannot see: a
cycle between two modules of one package (strongly connected components of the module graph,
lazy imports inside functions included).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contract_is_kept() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(grimp.build_graph("mlscope")) == []


def test_catalog_data_is_read_through_the_catalog() -> None:
    # One home: engines ask mlscope.catalog.data_text/data_file, never the package folder.
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "src" / "mlscope").rglob("*.py")
                 if "catalog" not in p.parent.name
                 and 'resources.files("mlscope.catalog")' in p.read_text()]
    assert offenders == []
