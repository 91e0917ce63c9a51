"""Spec section `plan`: time-boxed experiments and demos (owned by the report engine)."""

from __future__ import annotations

from pydantic import Field

from mlscope.spec.base import SpecModel


class PlanSection(SpecModel):
    start: str | None = None
    phases: list[dict[str, object]] = Field(default_factory=list)
