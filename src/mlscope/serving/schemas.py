"""Request and response bodies. Strict types and bounds: bad input is a 422 with the reason."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

# Ids are short printable tokens; anything else (control characters, megabyte strings) is refused.
Identifier = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64,
                                              pattern=r"^[A-Za-z0-9_.:\-]+$")]

MAX_K = 100
MAX_EXCLUDE = 1000


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Identifier
    k: Annotated[StrictInt, Field(ge=1, le=MAX_K)] = 10
    exclude: Annotated[list[Identifier], Field(max_length=MAX_EXCLUDE)] = Field(
        default_factory=list)


class ScoredItem(BaseModel):
    item_id: str
    score: float | None  # None for baseline (popularity) answers


class RecommendResponse(BaseModel):
    user_id: str
    items: list[ScoredItem]
    model_version: str
    fallback: bool
    fallback_reason: str | None = None
