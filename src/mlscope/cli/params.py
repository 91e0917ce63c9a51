"""Click parameter types shared by commands: sizes like 7B and durations like 14d."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from mlscope.core.quantities import parse_hours, parse_quantity


class PositiveParsed(click.ParamType):
    """A positive number written in a human form, parsed by the spec's own parser."""

    def __init__(self, name: str, parser: Callable[[object], object]) -> None:
        self.name = name
        self.parser = parser

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            out = float(self.parser(value))  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            self.fail(str(exc), param, ctx)
        if not math.isfinite(out):
            self.fail(f"must be a finite number (got {value})", param, ctx)
        if out <= 0:
            self.fail(f"must be positive (got {value})", param, ctx)
        return out


QUANTITY = PositiveParsed("NUMBER", parse_quantity)
DURATION = PositiveParsed("DURATION", parse_hours)
