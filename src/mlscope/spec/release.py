"""Spec sections `release` and `serving` (owned by the release engine)."""

from __future__ import annotations

from pydantic import Field

from mlscope.spec.base import SpecModel


class ReleaseSection(SpecModel):
    model_name: str | None = None
    gates: dict[str, object] = Field(default_factory=dict)


class ServingSection(SpecModel):
    mode: str = "online"
