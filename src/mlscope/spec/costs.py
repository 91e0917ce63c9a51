"""Spec sections `environments` and `budget` (owned by the cost engine)."""

from __future__ import annotations

from pydantic import Field

from mlscope.spec.base import SpecModel


class EnvironmentSection(SpecModel):
    name: str = Field(min_length=1)
    schedule: str | None = None
    resources: list[dict[str, object]] = Field(default_factory=list)


class BudgetSection(SpecModel):
    monthly_usd: float | None = Field(None, gt=0)
    training_usd: float | None = Field(None, gt=0)
