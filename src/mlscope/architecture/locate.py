"""Read a spec file and point architecture problems at file:line:column in it."""

from __future__ import annotations

from pathlib import Path

from mlscope.architecture.overrides import Loc, Locator

# The spec loader already maps locations to YAML positions; reuse it rather than parse twice.
from mlscope.spec.loader import _locate, _parse, _read, load_spec_text
from mlscope.spec.models import ProjectSpec


def load_with_locator(path: str | Path) -> tuple[ProjectSpec, Locator]:
    """The validated spec at `path` and a locator into its text."""
    source = str(path)
    text = _read(path)
    spec = load_spec_text(text, source)
    _, positions = _parse(text, source)

    def locate(loc: Loc) -> str:
        where = _locate(loc, positions)
        return f"{source}:{where[0]}:{where[1]}" if where else source

    return spec, locate
