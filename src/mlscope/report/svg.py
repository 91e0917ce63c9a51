"""A few SVG primitives and axis maths for the report's hand-rolled charts.

Hand-rolled rather than a plotting library: the page must work offline, stay small, and need no
JavaScript; a chart here is a few kilobytes of plain SVG that prints crisply to PDF.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from mlscope.core import fmt

# Colour-blind-safe palette (Okabe-Ito), named by what it means in the charts.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
RED = "#D55E00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
GREY = "#8a8f98"
INK = "#1f2328"
FAINT = "#d0d7de"

Fmt = Callable[[float], str]


def attrs(**kw: object) -> str:
    """Attributes in SVG spelling (stroke_width -> stroke-width); None values are left out."""
    parts = []
    for key, value in kw.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        parts.append(f"{name}={quoteattr(str(value))}")
    return " ".join(parts)


def text(x: float, y: float, content: str, **kw: object) -> str:
    kw.setdefault("font_size", 12)
    kw.setdefault("fill", INK)
    return f"<text {attrs(x=x, y=y, **kw)}>{escape(content)}</text>"


def line(x1: float, y1: float, x2: float, y2: float, **kw: object) -> str:
    kw.setdefault("stroke", INK)
    return f"<line {attrs(x1=x1, y1=y1, x2=x2, y2=y2, **kw)}/>"


def rect(x: float, y: float, w: float, h: float, **kw: object) -> str:
    return f"<rect {attrs(x=x, y=y, width=max(w, 0.0), height=max(h, 0.0), **kw)}/>"


def circle(cx: float, cy: float, r: float, **kw: object) -> str:
    return f"<circle {attrs(cx=cx, cy=cy, r=r, **kw)}/>"


def polyline(points: Sequence[tuple[float, float]], **kw: object) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    kw.setdefault("fill", "none")
    return f"<polyline {attrs(points=path, **kw)}/>"


def diamond(cx: float, cy: float, r: float, **kw: object) -> str:
    corners = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)
    return f"<polygon {attrs(points=path, **kw)}/>"


def titled(shape: str, tooltip: str) -> str:
    """Wrap a shape so hovering it shows `tooltip` (SVG's native tooltip, no script)."""
    return f"<g><title>{escape(tooltip)}</title>{shape}</g>"


def document(width: int, height: int, title: str, body: Sequence[str], css_class: str) -> str:
    """A standalone, accessible SVG that scales to its container's width."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" {attrs(viewBox=f"0 0 {width} {height}")} '
            f'role="img" {attrs(aria_label=title, class_=f"chart {css_class}")} '
            'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">')
    return head + f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"


def legend(x: float, y: float, items: Sequence[tuple[str, str]], *, marker: str = "rect") -> str:
    """One row of (colour, label) entries starting at (x, y)."""
    out, cx = [], x
    for colour, label in items:
        if marker == "circle":
            out.append(f"<circle {attrs(cx=cx + 6, cy=y - 4, r=5, fill=colour)}/>")
        else:
            out.append(rect(cx, y - 10, 12, 12, fill=colour, rx=2))
        out.append(text(cx + 18, y, label))
        cx += 18 + 7.0 * len(label) + 22
    return "".join(out)


@dataclass(frozen=True)
class Scale:
    """Maps data values in [lo, hi] to pixels in [p0, p1] (linear or log10)."""

    lo: float
    hi: float
    p0: float
    p1: float
    log: bool = False
    custom_ticks: tuple[float, ...] = ()

    def __call__(self, value: float) -> float:
        if self.log:
            lo, hi, v = math.log10(self.lo), math.log10(self.hi), math.log10(max(value, self.lo))
        else:
            lo, hi, v = self.lo, self.hi, value
        frac = 0.5 if hi == lo else (v - lo) / (hi - lo)
        return self.p0 + frac * (self.p1 - self.p0)

    def ticks(self, count: int = 5) -> list[float]:
        if self.custom_ticks:
            return list(self.custom_ticks)
        if self.log:
            return log_ticks(self.lo, self.hi)
        return nice_ticks(self.lo, self.hi, count)


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    step = _nice_step(hi - lo, count)
    start = math.floor(lo / step + 1e-9) * step
    ticks, v = [], start
    while v <= hi + step * 1e-6:
        if v >= lo - step * 1e-6:
            ticks.append(round(v, 10))
        v += step
    return ticks


def nice_range(lo: float, hi: float, count: int = 5, *, zero: bool = True) -> tuple[float, float]:
    """Round a data range outward to tick boundaries (starting at 0 when `zero`)."""
    if zero:
        lo = min(lo, 0.0)
    if hi <= lo:
        hi = lo + (abs(hi) or 1.0)
    step = _nice_step(hi - lo, count)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks per decade; only powers of ten when the range spans many decades."""
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    mults = (1, 2, 5) if last - first <= 3 else (1,)
    out = [m * 10.0 ** e for e in range(first, last + 1) for m in mults]
    return [t for t in out if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]


def log_range(lo: float, hi: float) -> tuple[float, float]:
    """Widen to whole 1-2-5 steps so the first and last ticks sit on the frame."""
    steps = [m * 10.0 ** e for e in range(math.floor(math.log10(lo)) - 1,
                                          math.ceil(math.log10(hi)) + 1) for m in (1, 2, 5)]
    low = max(s for s in steps if s <= lo)
    high = min(s for s in steps if s >= hi)
    return low, high


# Durations people think in, in hours: 1 h ... 1 year.
_DURATIONS = [1 / 6, 0.5, 1, 2, 6, 12, 24, 48, 96, 168, 336, 730, 2190, 4380, 8760, 17520]


def duration_ticks(lo: float, hi: float, most: int = 8) -> list[float]:
    """Ticks on a log time axis at round durations (1 h, 1 d, 1 week, 1 month...)."""
    inside = [d for d in _DURATIONS if lo * (1 - 1e-9) <= d <= hi * (1 + 1e-9)]
    step = max(1, math.ceil(len(inside) / most))
    return inside[::step] or [lo, hi]


def duration(v: float) -> str:
    return fmt.duration(v)


def money(v: float) -> str:
    return fmt.money(v, compact=True)


def hours(v: float) -> str:
    return fmt.hours(v, compact=True)


def chance(p: float) -> str:
    return fmt.chance(p)


def percent(v: float) -> str:
    return fmt.percent(v)
