"""Load mlscope.yaml and report every problem with file:line:column.

PyYAML's node tree keeps the position of every key; pydantic's error locations are mapped back
onto it, so "training.count: must be > 0" becomes "mlscope.yaml:12:10: training.count: ...".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mlscope.errors import InputError, SpecError
from mlscope.spec.models import ProjectSpec

Loc = tuple[int | str, ...]
# A check an engine adds on top of the models (the spec layer calls no engine): it returns
# (location in the spec, problem) pairs, reported with file:line like model errors.
SpecCheck = Callable[[ProjectSpec], list[tuple[Loc, str]]]


def _positions(node: yaml.Node, path: Loc, out: dict[Loc, tuple[int, int]]) -> None:
    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _positions(value_node, (*path, key), out)
            # Keep the key's own position: errors on a key point at the key, not its value.
            out[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _positions(item, (*path, i), out)


def locate_position(loc: Loc, positions: dict[Loc, tuple[int, int]]) -> tuple[int, int] | None:
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
    while loc:
        if loc in positions:
            return positions[loc]
        loc = loc[:-1]
    return positions.get(())


def parse_with_positions(text: str, source: str) -> tuple[Any, dict[Loc, tuple[int, int]]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([f"{where}: YAML syntax error: {problem}"], source) from None
    positions: dict[Loc, tuple[int, int]] = {}
    if node is not None:
        _positions(node, (), positions)
    return data, positions


def spec_problems(text: str, source: str = "mlscope.yaml", checks: Sequence[SpecCheck] = ()
                  ) -> tuple[ProjectSpec | None, list[str]]:
    """Validate spec text; return the spec (when valid) and every problem with its location."""
    data, positions = parse_with_positions(text, source)
    if not isinstance(data, dict):
        return None, [f"{source}:1:1: the spec must be a mapping with at least "
                      "`project: {name: ...}`"]
    try:
        spec = ProjectSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = locate_position(loc, positions)
            prefix = f"{source}:{where[0]}:{where[1]}" if where else source
            dotted = ".".join(str(p) for p in loc if not str(p).startswith("function-"))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; `mlscope schema` lists every key)"
            problems.append(f"{prefix}: {dotted or '(root)'}: {msg}")
        return None, problems
    found = []
    for check in checks:
        for loc, msg in check(spec):
            where = locate_position(loc, positions)
            prefix = f"{source}:{where[0]}:{where[1]}" if where else source
            found.append(f"{prefix}: {'.'.join(str(p) for p in loc)}: {msg}")
    return (None, found) if found else (spec, [])


def load_spec_text(text: str, source: str = "mlscope.yaml",
                   checks: Sequence[SpecCheck] = ()) -> ProjectSpec:
    spec, problems = spec_problems(text, source, checks)
    if spec is None:
        raise SpecError(problems, source)
    return spec


def read_spec_text(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise InputError(f"spec file '{p}' does not exist",
                         "pass the path of an mlscope.yaml or create one with `mlscope init`")
    if p.is_dir():
        p = p / "mlscope.yaml"
        if not p.exists():
            raise InputError(f"no mlscope.yaml in '{path}'", "create one with `mlscope init`")
    return p.read_text()


def load_spec(path: str | Path, checks: Sequence[SpecCheck] = ()) -> ProjectSpec:
    spec = load_spec_text(read_spec_text(path), str(path), checks)
    if spec.billing is not None:  # relative billing export paths are relative to the spec
        spec.billing.set_source(path)
    for env in spec.environments:  # relative serving sizing files too
        for res in env.resources:
            if getattr(res, "sizing", None) is not None:
                res.set_source(path)  # type: ignore[union-attr]
    return spec


def validate_file(path: str | Path, checks: Sequence[SpecCheck] = ()) -> list[str]:
    """Every problem of the spec at `path` (empty when it is valid)."""
    try:
        _, problems = spec_problems(read_spec_text(path), str(path), checks)
    except SpecError as exc:
        return exc.problems
    return problems
