"""Click parameter types shared by commands: sizes like 7B and durations like 14d."""

from __future__ import annotations

from typing import Any

import click

from mlscope.spec.base import parse_hours, parse_quantity


class QuantityType(click.ParamType):
    name = "NUMBER"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            out = float(parse_quantity(value))  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            self.fail(str(exc), param, ctx)
        if out <= 0:
            self.fail(f"must be positive (got {value})", param, ctx)
        return out


class DurationType(click.ParamType):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            out = float(parse_hours(value))  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            self.fail(str(exc), param, ctx)
        if out <= 0:
            self.fail(f"must be positive (got {value})", param, ctx)
        return out


QUANTITY = QuantityType()
DURATION = DurationType()
