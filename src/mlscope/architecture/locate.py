"""Read a spec file and point architecture problems at file:line:column in it."""

from __future__ import annotations

from pathlib import Path

from mlscope.architecture.overrides import Loc, Locator

# The spec loader already maps locations to YAML positions; reuse it rather than parse twice.
from mlscope.spec.loader import (
    load_spec,
    locate_position,
    parse_with_positions,
    read_spec_text,
)
from mlscope.spec.models import ProjectSpec


def load_with_locator(path: str | Path) -> tuple[ProjectSpec, Locator]:
    """The validated spec at `path` and a locator into its text."""
    source = str(path)
    spec = load_spec(path)  # the loader also anchors relative paths (billing exports) to the file
    _, positions = parse_with_positions(read_spec_text(path), source)

    def locate(loc: Loc) -> str:
        where = locate_position(loc, positions)
        return f"{source}:{where[0]}:{where[1]}" if where else source

    return spec, locate


def architecture_problems(path: str | Path) -> list[str]:
    """Every located problem of the spec's architecture (empty when it builds), for `validate`.

    Problems the spec model already reports (bad YAML, unknown keys or kinds) are raised by
    `load_spec_text` as SpecError, so callers run this only on a spec that validated.
    """
    from mlscope.architecture.build import build_architecture
    from mlscope.architecture.validate import ArchitectureSpecError

    spec, locate = load_with_locator(path)
    try:
        build_architecture(spec, locate)
    except ArchitectureSpecError as exc:
        return list(exc.problems)
    return []
