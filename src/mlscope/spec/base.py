"""Base model and shared value parsers for every spec section."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict


class SpecModel(BaseModel):
    """Strict by default: an unknown key is a typo the user wants to hear about."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


_SI = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
_DURATION = {"m": 1 / 60, "min": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}


def parse_quantity(value: object) -> object:
    """Accept 7e9, "7e9", "7B", "2T", "1.5M" for counts of parameters, tokens and samples."""
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        m = re.fullmatch(r"([+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMbBgGtT]?)", text)
        if not m:
            raise ValueError(f"'{value}' is not a number (use e.g. 7e9, 7B, 2T, 1.5M)")
        return float(m.group(1)) * _SI.get(m.group(2).lower(), 1.0)
    return value


def parse_hours(value: object) -> object:
    """Accept a number of hours or a duration like "14d", "36h", "2w", "90min"."""
    if isinstance(value, str):
        text = value.strip().lower()
        m = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(min|m|h|d|w)?", text)
        if not m:
            raise ValueError(f"'{value}' is not a duration (use e.g. 36h, 14d, 2w)")
        return float(m.group(1)) * _DURATION[m.group(2) or "h"]
    return value


Quantity = Annotated[float, BeforeValidator(parse_quantity)]
Hours = Annotated[float, BeforeValidator(parse_hours)]
