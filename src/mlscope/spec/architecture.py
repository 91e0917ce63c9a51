"""Spec section `architecture`: components and flows (owned by the architecture engine)."""

from __future__ import annotations

from pydantic import Field

from mlscope.spec.base import SpecModel


class ArchitectureSection(SpecModel):
    """Overrides on top of the use case's blueprint at the project's MLOps level."""

    add: list[dict[str, object]] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)
    rename: dict[str, str] = Field(default_factory=dict)
    flows: list[dict[str, object]] = Field(default_factory=list)
