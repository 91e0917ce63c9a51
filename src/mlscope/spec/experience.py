"""Spec section `experience`: what the end user sees, step by step, and where the model acts.

    experience:
      persona: "Shopper on the website"
      steps:
        - {actor: user, text: "Opens a product page"}
        - {actor: model, text: "'Customers also bought': 10 items picked for them"}
        - {actor: user, text: "Clicks a recommendation"}
        - {actor: product, text: "Shows the product; the click is logged"}
      fallback: "Popular items in the category when the model is slow or down"

Empty steps mean "the use case's default storyboard" (the architecture engine keeps those).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlscope.spec.base import SpecModel


class StoryStep(SpecModel):
    actor: Literal["user", "product", "model"] = Field(
        description="user: what the person does; product: what the product shows or does "
                    "without the model; model: where the model acts.")
    text: str = Field(min_length=1, max_length=120, description="One short sentence.")


class ExperienceSection(SpecModel):
    """The user-experience storyboard drawn for sponsors."""

    persona: str | None = Field(None, min_length=1, max_length=60,
                                description="Who the end user is.")
    surface: str | None = Field(None, min_length=1, max_length=60,
                                description="Where they meet the model (app, page, device).")
    steps: list[StoryStep] = Field(default_factory=list)
    fallback: str | None = Field(None, min_length=1, max_length=120,
                                 description="What the user sees when the model is down.")
