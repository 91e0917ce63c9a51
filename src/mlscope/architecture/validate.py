"""Structural checks shared by blueprints and spec overrides: kinds, flow ends, cycles."""

from __future__ import annotations

from collections.abc import Iterable

from mlscope.architecture.graph import Flow
from mlscope.errors import SpecError


class ArchitectureSpecError(SpecError):
    """An architecture that cannot be built; every problem names its location."""

    def __init__(self, problems: list[str], path: str | None = None,
                 fix: str | None = None) -> None:
        super().__init__(problems, path)
        self.fix = fix


def find_cycle(ids: Iterable[str], flows: Iterable[Flow]) -> list[str] | None:
    """A cycle made only of non-loop flows, as [a, b, ..., a]; None when there is none."""
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for f in flows:
        if not f.loop and f.source in succ and f.target in succ:
            succ[f.source].append(f.target)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in succ[node]:
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in succ:
        if start not in state and (found := visit(start)):
            return found
    return None


def cycle_text(cycle: list[str]) -> str:
    return " → ".join(cycle)
