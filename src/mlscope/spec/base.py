"""Base model and shared value types for every spec section (parsers live in core)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from mlscope.core.quantities import parse_hours, parse_quantity


class SpecModel(BaseModel):
    """Strict by default: an unknown key is a typo the user wants to hear about."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Quantity = Annotated[float, BeforeValidator(parse_quantity)]
Hours = Annotated[float, BeforeValidator(parse_hours)]
