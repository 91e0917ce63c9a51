"""Parsers for numbers people write: 7B parameters, 2T tokens, 14d deadlines.

They live here, not in the spec package, so the CLI can parse flags without loading pydantic
(start-up budget) and the spec's validators and the CLI's parameter types share one grammar.
"""

from __future__ import annotations

import math
import re

_SI = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
_DURATION = {"m": 1 / 60, "min": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}


def parse_quantity(value: object) -> object:
    """Accept 7e9, "7e9", "7B", "2T", "1.5M" for counts of parameters, tokens and samples."""
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        m = re.fullmatch(r"([+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMbBgGtT]?)", text)
        if not m:
            raise ValueError(f"'{value}' is not a number (use e.g. 7e9, 7B, 2T, 1.5M)")
        value = float(m.group(1)) * _SI.get(m.group(2).lower(), 1.0)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"'{value}' is not a finite number")
    return value


def parse_hours(value: object) -> object:
    """Accept a number of hours or a duration like "14d", "36h", "2w", "90min"."""
    if isinstance(value, str):
        text = value.strip().lower()
        m = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(min|m|h|d|w)?", text)
        if not m:
            raise ValueError(f"'{value}' is not a duration (use e.g. 36h, 14d, 2w)")
        value = float(m.group(1)) * _DURATION[m.group(2) or "h"]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"'{value}' is not a finite duration")
    return value
