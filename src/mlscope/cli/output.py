"""Shared output helpers: JSON for machines, rich tables for people."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mlscope.core import fmt

if TYPE_CHECKING:  # rich costs ~0.1 s to import: only when something is printed for people
    from rich.console import Console
    from rich.table import Table as RichTable

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """The `--json` flag every command offers."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print one JSON object (stable schema) instead of a table.")(func)


def _clean(value: Any) -> Any:
    # JSON has no NaN/Infinity: report them as null rather than emit invalid JSON.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def print_json(payload: Any) -> None:
    click.echo(json.dumps(_clean(payload), indent=2, sort_keys=False, default=str))


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def Table(*args: Any, **kwargs: Any) -> RichTable:
    """rich's Table, imported only when a table is drawn (start-up budget of `--help`)."""
    from rich.table import Table as RichTable

    return RichTable(*args, **kwargs)


def escape(text: str) -> str:
    """rich's markup escape, imported only when used."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def fmt_money(value: float | None) -> str:
    return fmt.money(value)


def fmt_hours(value: float | None) -> str:
    return fmt.hours(value)


def fmt_num(value: float | None) -> str:
    return fmt.num(value)
