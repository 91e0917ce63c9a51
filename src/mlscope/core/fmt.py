"""The one formatter for money, durations, sizes and chances, used by the CLI and the report.

`compact` is for chart labels, where width matters more than the last dollar ("$1.54k");
tables and prose use the full form ("$1,540").
"""

from __future__ import annotations

import math

from mlscope.core.units import GB, GIB


def money(value: float | None, compact: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    a = abs(value)
    if compact:
        if a >= 1e6:
            return f"${value / 1e6:,.3g}M"
        if a >= 1e3:
            return f"${value / 1e3:,.3g}k"
        if a >= 10 or a == 0:
            return f"${value:,.0f}"
        return f"${value:,.2f}"
    if a >= 1e6:
        return f"${value / 1e6:,.2f}M"
    if a >= 1e3:
        return f"${value:,.0f}"
    return f"${value:,.2f}"


def hours(value: float | None, compact: bool = False) -> str:
    """Hours as min / h / d; days from 48 h on."""
    if value is None or not math.isfinite(value):
        return "n/a"
    spec = ",.3g" if compact else ",.1f"
    if value >= 48:
        return f"{value / 24:{spec}} d"
    if value >= 1:
        return f"{value:{spec}} h"
    return f"{value * 60:,.0f} min"


def duration(value: float) -> str:
    """A round duration in the unit a sponsor would use (730 h months)."""
    for limit, unit, size in ((8760, "y", 8760), (730, "mo", 730), (168, "wk", 168),
                              (24, "d", 24), (1, "h", 1)):
        if value >= limit:
            return f"{value / size:,.3g} {unit}"
    return f"{value * 60:,.0f} min"


def num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if value != 0 and (abs(value) >= 1e9 or abs(value) < 1e-2):
        return f"{value:.3g}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def size(num_bytes: float, unit: str = "GB") -> str:
    """Bytes in GB (1e9, as vendors quote capacity) or GiB (2**30), the unit named."""
    div = GB if unit == "GB" else GIB
    return f"{num_bytes / div:,.1f} {unit}"


def chance(p: float) -> str:
    """A probability for people: never '0%' for a small but real chance."""
    if 0 < p < 0.01:
        return "under 1%"
    if 0.99 < p < 1:
        return "over 99%"
    return f"{p:.0%}"


def percent(v: float) -> str:
    return f"{v * 100:.3g}%"
