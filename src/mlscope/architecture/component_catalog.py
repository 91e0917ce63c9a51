"""The component catalog: what each kind of building block does, its AWS and open-source options.

Loaded once from `components.yaml` (data, not code) so a new kind is one YAML entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from mlscope.errors import UnknownNameError


@dataclass(frozen=True)
class Phase:
    id: str
    title: str
    color: str  # cluster fill
    border: str  # cluster border and accents


@dataclass(frozen=True)
class CostBasis:
    """How to price one unit of a component from the mlscope catalog, or why it cannot be."""

    instance: str | None = None  # an instance type in the price catalog
    storage: str | None = None  # "Service/item" of a row in the storage price table
    basis: str = ""  # what one priced unit means
    note: str = ""  # why there is no catalog price


@dataclass(frozen=True)
class ComponentKind:
    id: str
    title: str
    phase: str
    does: str
    why: str
    aws: tuple[str, ...]
    oss: tuple[str, ...]
    icon: str | None
    cost: CostBasis


@dataclass(frozen=True)
class ComponentCatalog:
    phases: dict[str, Phase]
    kinds: dict[str, ComponentKind]

    def kind(self, name: str) -> ComponentKind:
        key = name.strip().lower().replace("-", "_").replace(" ", "_")
        if key in self.kinds:
            return self.kinds[key]
        raise UnknownNameError("component kind", name, self.kinds)

    def phase_order(self) -> list[str]:
        return list(self.phases)


def _kind(kind_id: str, raw: dict[str, Any]) -> ComponentKind:
    cost = raw.get("cost") or {}
    return ComponentKind(
        id=kind_id, title=raw["title"], phase=raw["phase"], does=raw["does"], why=raw["why"],
        aws=tuple(raw.get("aws") or ()), oss=tuple(raw.get("oss") or ()), icon=raw.get("icon"),
        cost=CostBasis(instance=cost.get("instance"), storage=cost.get("storage"),
                       basis=cost.get("basis", ""), note=cost.get("note", "")),
    )


@lru_cache(maxsize=1)
def get_component_catalog() -> ComponentCatalog:
    text = (resources.files("mlscope.architecture") / "components.yaml").read_text()
    raw = yaml.safe_load(text)
    phases = {pid: Phase(pid, p["title"], p["color"], p["border"])
              for pid, p in raw["phases"].items()}
    kinds = {kid: _kind(kid, k) for kid, k in raw["components"].items()}
    for k in kinds.values():
        if k.phase not in phases:  # a packaging bug, caught by the tests
            raise ValueError(f"components.yaml: {k.id}: unknown phase '{k.phase}'")
    return ComponentCatalog(phases, kinds)
