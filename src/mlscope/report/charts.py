"""The report's charts, each a function from plain data to a standalone SVG string.

Every chart has axes with units, a legend where colours carry meaning, and a tooltip on each
mark, so a sponsor can read it without an engineer beside them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from mlscope.report import svg
from mlscope.report.svg import Fmt, Scale

W = 760  # every chart shares one width so the page lines up


@dataclass(frozen=True)
class Box:
    """The plot area inside the chart's margins."""

    left: float
    top: float
    right: float
    bottom: float


def _frame(box: Box, xs: Scale | None, ys: Scale, x_label: str, y_label: str,
           xfmt: Fmt = str, yfmt: Fmt = str) -> list[str]:
    out: list[str] = []
    for t in ys.ticks():
        y = ys(t)
        out.append(svg.line(box.left, y, box.right, y, stroke=svg.FAINT, stroke_width=1))
        out.append(svg.text(box.left - 8, y + 4, yfmt(t), text_anchor="end", font_size=11))
    if xs is not None:
        for t in xs.ticks():
            x = xs(t)
            out.append(svg.line(x, box.top, x, box.bottom, stroke=svg.FAINT, stroke_width=1))
            out.append(svg.text(x, box.bottom + 16, xfmt(t), text_anchor="middle", font_size=11))
    out.append(svg.line(box.left, box.bottom, box.right, box.bottom, stroke_width=1))
    out.append(svg.line(box.left, box.top, box.left, box.bottom, stroke_width=1))
    out.append(svg.text((box.left + box.right) / 2, box.bottom + 36, x_label,
                        text_anchor="middle", font_size=12, font_weight="bold"))
    cy = (box.top + box.bottom) / 2
    out.append(svg.text(16, cy, y_label, text_anchor="middle", font_size=12,
                        font_weight="bold", transform=f"rotate(-90 16 {cy:.1f})"))
    return out


def _scale(lo: float, hi: float, p0: float, p1: float) -> Scale:
    """Log scale when values span more than ~30x (e.g. 1 GPU vs 512), else linear from 0."""
    if lo > 0 and hi / lo > 30:
        a, b = svg.log_range(lo, hi)
        return Scale(a, b, p0, p1, log=True)
    a, b = svg.nice_range(lo, hi)
    return Scale(a, b, p0, p1)


def _budget_line(box: Box, ys: Scale, budget: float, label: str) -> list[str]:
    """A dashed horizontal line at the budget, labelled at its right end."""
    y = ys(budget)
    return [svg.line(box.left, y, box.right, y, stroke=svg.PURPLE, stroke_width=1.5,
                     stroke_dasharray="6 4"),
            svg.text(box.right - 4, y - 5, f"{label} {svg.money(budget)}", fill=svg.PURPLE,
                     font_size=11, text_anchor="end")]


def _time_scale(lo: float, hi: float, p0: float, p1: float) -> Scale:
    """Time axes tick at round durations (1 d, 1 wk, 1 mo) rather than powers of ten hours."""
    scale = _scale(lo, hi, p0, p1)
    if not scale.log:
        return scale
    return Scale(lo / 1.3, hi * 1.3, p0, p1, log=True,
                 custom_ticks=tuple(svg.duration_ticks(lo / 1.3, hi * 1.3)))


@dataclass(frozen=True)
class OptionPoint:
    """One training configuration: P10/P50/P90 of wall-clock hours and cost."""

    label: str
    hours: tuple[float, float, float]
    cost: tuple[float, float, float]
    pareto: bool
    meets_deadline: bool | None
    best: bool = False


def time_vs_cost(points: Sequence[OptionPoint], *, deadline_hours: float | None = None,
                 budget_usd: float | None = None) -> str:
    """Scatter of wall-clock vs cost; the Pareto front (nothing both faster and cheaper) joined."""
    h = 420
    box = Box(84, 44, W - 24, h - 58)
    xs_all = [v for p in points for v in p.hours if v > 0]
    ys_all = [v for p in points for v in p.cost if v > 0]
    # A budget far above every option would squash the points: the caption says so instead.
    far_budget = bool(budget_usd) and budget_usd > 1.5 * max(ys_all)  # type: ignore[operator]
    if deadline_hours:
        xs_all.append(deadline_hours)
    if budget_usd and not far_budget:
        ys_all.append(budget_usd)
    xs = _time_scale(min(xs_all), max(xs_all), box.left, box.right)
    ys = _scale(min(ys_all), max(ys_all), box.bottom, box.top)
    out = _frame(box, xs, ys, "Wall-clock time to train (dot: P50; whiskers: P10–P90)",
                 "Training cost, USD", svg.duration, svg.money)
    if deadline_hours:
        x = xs(deadline_hours)
        out.append(svg.line(x, box.top, x, box.bottom, stroke=svg.RED, stroke_width=1.5,
                            stroke_dasharray="6 4"))
        out.append(svg.text(x + 4, box.top + 12, f"deadline {svg.duration(deadline_hours)}",
                            fill=svg.RED, font_size=11))
    if budget_usd and not far_budget:
        out += _budget_line(box, ys, budget_usd, "budget")
    front = sorted((p for p in points if p.pareto), key=lambda p: p.hours[1])
    if len(front) > 1:
        out.append(svg.polyline([(xs(p.hours[1]), ys(p.cost[1])) for p in front],
                                stroke=svg.ORANGE, stroke_width=2))
    # Draw dominated options first so the front sits on top.
    for p in sorted(points, key=lambda p: p.pareto):
        out.append(_option_mark(p, xs, ys, left=xs(p.hours[1]) > (box.left + box.right) / 2))
    out.append(svg.legend(box.left, 24, [(svg.ORANGE, "Pareto front (best trade-offs)"),
                                         (svg.GREY, "other options")], marker="circle"))
    out.append(svg.circle(box.left + 380, 20, 8, fill="none", stroke=svg.INK, stroke_width=2))
    out.append(svg.text(box.left + 394, 24, "recommended"))
    if any(p.meets_deadline is False for p in points):
        out.append(svg.circle(box.left + 506, 20, 5, fill="white", stroke=svg.GREY, stroke_width=2))
        out.append(svg.text(box.left + 518, 24, "misses the deadline"))
    return svg.document(W, h, "Training time versus cost for each instance option", out,
                        "time-vs-cost")


def _option_mark(p: OptionPoint, xs: Scale, ys: Scale, left: bool) -> str:
    colour = svg.ORANGE if p.pareto else svg.GREY
    x, y = xs(p.hours[1]), ys(p.cost[1])
    parts = [
        svg.line(xs(p.hours[0]), y, xs(p.hours[2]), y, stroke=colour, stroke_width=1, opacity=0.6),
        svg.line(x, ys(p.cost[0]), x, ys(p.cost[2]), stroke=colour, stroke_width=1, opacity=0.6),
    ]
    if p.meets_deadline is False:  # hollow: misses the deadline, even if it is on the front
        parts.append(svg.circle(x, y, 5, fill="white", stroke=colour, stroke_width=2))
    else:
        parts.append(svg.circle(x, y, 5, fill=colour, stroke="white", stroke_width=1))
    if p.best:
        parts.append(svg.circle(x, y, 9, fill="none", stroke=svg.INK, stroke_width=2))
        # Label on the side with room, above the point and its whiskers.
        parts.append(svg.text(x - 12 if left else x + 12, y - 14, f"recommended: {p.label}",
                              font_size=11, font_weight="bold",
                              text_anchor="end" if left else "start"))
    deadline = ("" if p.meets_deadline is None
                else "meets the deadline" if p.meets_deadline else "misses the deadline")
    tip = (f"{p.label}: {svg.hours(p.hours[1])} (P10 {svg.hours(p.hours[0])}, P90 "
           f"{svg.hours(p.hours[2])}), {svg.money(p.cost[1])} (P10 {svg.money(p.cost[0])}, "
           f"P90 {svg.money(p.cost[2])}) {deadline}").strip()
    return svg.titled("".join(parts), tip)


@dataclass(frozen=True)
class RangeRow:
    label: str
    values: tuple[float, float, float]  # P10, P50, P90


def range_bars(rows: Sequence[RangeRow], *, x_label: str, title: str,
               fmt: Fmt = svg.money) -> str:
    """One horizontal P10–P90 bar per row with its P50 marked: ranges compared at a glance."""
    row_h, label_w = 34, 200
    h = 60 + row_h * len(rows) + 20
    box = Box(label_w, 20, W - 40, 20 + row_h * len(rows))
    xs = Scale(*svg.nice_range(0.0, max(r.values[2] for r in rows) * 1.05), box.left, box.right)
    out: list[str] = []
    for t in xs.ticks():
        out.append(svg.line(xs(t), box.top, xs(t), box.bottom, stroke=svg.FAINT))
        out.append(svg.text(xs(t), box.bottom + 16, fmt(t), text_anchor="middle", font_size=11))
    out.append(svg.text((box.left + box.right) / 2, box.bottom + 38, x_label,
                        text_anchor="middle", font_weight="bold"))
    for i, r in enumerate(rows):
        y = box.top + i * row_h + row_h / 2
        lo, mid, hi = (xs(v) for v in r.values)
        out.append(svg.text(label_w - 10, y + 4, r.label, text_anchor="end"))
        shape = (svg.rect(lo, y - 7, hi - lo, 14, fill=svg.SKY, rx=3)
                 + svg.circle(mid, y, 6, fill=svg.BLUE, stroke="white", stroke_width=1.5)
                 + svg.text(hi + 6, y + 4, fmt(r.values[1]), font_size=11))
        out.append(svg.titled(shape, f"{r.label}: P50 {fmt(r.values[1])}, P10 "
                                     f"{fmt(r.values[0])} – P90 {fmt(r.values[2])}"))
    return svg.document(W, h, title, out, "ranges")


def grouped_bars(categories: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]],
                 *, y_label: str, title: str, budget: float | None = None) -> str:
    """Bars per category, one per series (name, colour, values), each labelled with its value."""
    h = 340
    box = Box(84, 44, W - 24, h - 58)
    top = max([v for _, _, vals in series for v in vals] + [budget or 0.0, 1e-9])
    ys = Scale(*svg.nice_range(0.0, top * 1.12), box.bottom, box.top)
    out = _frame(box, None, ys, "", y_label, yfmt=svg.money)
    slot = (box.right - box.left) / max(len(categories), 1)
    bar = min(56.0, slot * 0.8 / max(len(series), 1))
    for i, cat in enumerate(categories):
        x0 = box.left + i * slot + (slot - bar * len(series)) / 2
        for j, (name, colour, vals) in enumerate(series):
            v = vals[i]
            # A small but real cost stays visible (2 px) next to a large one.
            x, y = x0 + j * bar, min(ys(v), box.bottom - 2) if v > 0 else box.bottom
            shape = svg.rect(x + 2, y, bar - 4, box.bottom - y, fill=colour, rx=2)
            label = svg.text(x + bar / 2, y - 5, svg.money(v), text_anchor="middle", font_size=11)
            out.append(svg.titled(shape + label, f"{cat}, {name}: {svg.money(v)} per month"))
        out.append(svg.text(box.left + (i + 0.5) * slot, box.bottom + 18, cat,
                            text_anchor="middle", font_size=12, font_weight="bold"))
    if budget:
        out += _budget_line(box, ys, budget, "monthly budget")
    out.append(svg.legend(box.left, 24, [(c, n) for n, c, _ in series]))
    return svg.document(W, h, title, out, "bars")


def overrun_histogram(draws: Sequence[float], budget: float, *, x_label: str,
                      bins: int = 30) -> str:
    """Histogram of simulated monthly costs; the bars past the budget line are the overrun."""
    h = 340
    box = Box(84, 44, W - 24, h - 58)
    lo, hi = min(min(draws), budget), max(max(draws), budget)
    lo, hi = svg.nice_range(lo, hi, zero=False)
    width = (hi - lo) / bins
    counts = [0] * bins
    for d in draws:
        counts[min(int((d - lo) / width), bins - 1)] += 1
    n = len(draws)
    xs = Scale(lo, hi, box.left, box.right)
    ys = Scale(*svg.nice_range(0.0, max(counts) / n * 1.1), box.bottom, box.top)
    out = _frame(box, xs, ys, x_label, "Share of simulated months", svg.money, svg.percent)
    for i, c in enumerate(counts):
        a, b = lo + i * width, lo + (i + 1) * width
        over = a >= budget
        shape = svg.rect(xs(a) + 0.5, ys(c / n), xs(b) - xs(a) - 1, box.bottom - ys(c / n),
                         fill=svg.RED if over else svg.SKY)
        out.append(svg.titled(shape, f"{svg.money(a)}–{svg.money(b)}: {c / n:.1%} of months"))
    p_over = sum(d > budget for d in draws) / n
    x = xs(budget)
    out.append(svg.line(x, box.top, x, box.bottom, stroke=svg.PURPLE, stroke_width=2))
    anchor = "end" if x > (box.left + box.right) / 2 else "start"
    dx = -6 if anchor == "end" else 6
    out.append(svg.text(x + dx, box.top + 14, f"budget {svg.money(budget)}", fill=svg.PURPLE,
                        font_weight="bold", text_anchor=anchor))
    out.append(svg.text(x + dx, box.top + 30, f"{svg.chance(p_over)} of months go over",
                        fill=svg.RED, text_anchor=anchor))
    out.append(svg.legend(box.left, 24, [(svg.SKY, "within budget"), (svg.RED, "over budget")]))
    return svg.document(W, h, "Distribution of monthly cost against the budget", out, "overrun")


def quantile_cdf(quantiles: Sequence[tuple[float, float]], budget: float, *, x_label: str) -> str:
    """Cumulative chance that the cost stays at or below each value, from (probability, value)."""
    h = 340
    box = Box(84, 44, W - 24, h - 58)
    pts = sorted(quantiles, key=lambda q: q[1])
    lo, hi = svg.nice_range(min(pts[0][1], budget), max(pts[-1][1], budget), zero=False)
    xs = Scale(lo, hi, box.left, box.right)
    ys = Scale(0.0, 1.0, box.bottom, box.top)
    out = _frame(box, xs, ys, x_label, "Chance the cost is at most this", svg.money, svg.percent)
    out.append(svg.polyline([(xs(v), ys(p)) for p, v in pts], stroke=svg.BLUE, stroke_width=2.5))
    for p, v in pts:
        dot = svg.circle(xs(v), ys(p), 4, fill=svg.BLUE)
        out.append(svg.titled(dot, f"P{p * 100:.0f}: {svg.money(v)}"))
    x = xs(budget)
    out.append(svg.line(x, box.top, x, box.bottom, stroke=svg.PURPLE, stroke_width=2))
    out.append(svg.text(x + 6, box.top + 14, f"budget {svg.money(budget)}", fill=svg.PURPLE,
                        font_weight="bold"))
    return svg.document(W, h, "Cumulative distribution of monthly cost against the budget", out,
                        "overrun")


@dataclass(frozen=True)
class GanttBar:
    name: str
    kind: str  # experiment | feature
    start_day: float  # days from the plan's start
    days: float
    demo: str | None
    time_boxed: bool
    tooltip: str


def gantt(bars: Sequence[GanttBar], *, origin: dt.date | None,
          markers: Sequence[tuple[str, float, str]] = ()) -> str:
    """One row per phase; diamonds mark demos; `markers` are (label, day, colour) lines.

    With an `origin` date the axis shows calendar dates, otherwise weeks from the start.
    """
    row = 30
    label_w = 240
    h = 70 + row * len(bars) + 40
    box = Box(label_w, 40, W - 24, 40 + row * len(bars))
    span = max([b.start_day + b.days for b in bars] + [m[1] for m in markers] + [7.0])
    weeks = math.ceil(span / 7)
    xs = Scale(0.0, weeks * 7.0, box.left, box.right)
    step = max(1, math.ceil(weeks / 12))
    out: list[str] = []
    for w in range(0, weeks + 1, step):
        x = xs(w * 7.0)
        label = (origin + dt.timedelta(weeks=w)).strftime("%d %b") if origin else f"wk {w}"
        out.append(svg.line(x, box.top, x, box.bottom, stroke=svg.FAINT))
        out.append(svg.text(x, box.bottom + 16, label, text_anchor="middle", font_size=11))
    axis = ("Calendar (week starting)" if origin
            else "Weeks from the start (no start date in the plan)")
    out.append(svg.text((box.left + box.right) / 2, box.bottom + 36, axis, text_anchor="middle",
                        font_weight="bold"))
    for i, b in enumerate(bars):
        y = box.top + i * row
        colour = svg.BLUE if b.kind == "experiment" else svg.GREEN
        fits = int((label_w - 14) / 7)  # about 7 px a character at 12 px
        name = b.name if len(b.name) <= fits else b.name[:fits - 1].rstrip() + "…"
        out.append(svg.text(label_w - 10, y + row / 2 + 4, name, text_anchor="end"))
        x0, x1 = xs(b.start_day), xs(b.start_day + b.days)
        if b.time_boxed:
            shape = svg.rect(x0, y + 6, x1 - x0, row - 12, fill=colour, rx=3)
        else:
            shape = (svg.rect(x0, y + 6, 6, row - 12, fill="none", stroke=svg.RED,
                              stroke_dasharray="3 2") +
                     svg.text(x0 + 10, y + row / 2 + 4, "no time box", fill=svg.RED, font_size=11))
        if b.demo:
            shape += svg.diamond(x1, y + row / 2, 8, fill=svg.ORANGE, stroke="white")
        out.append(svg.titled(shape, b.tooltip))
    for label, day, colour in markers:
        x = xs(day)
        out.append(svg.line(x, box.top - 6, x, box.bottom, stroke=colour, stroke_width=2,
                            stroke_dasharray="6 4"))
        out.append(svg.text(x, box.top - 10, label, fill=colour, font_size=11,
                            text_anchor="end" if x > box.right - 80 else "middle"))
    out.append(svg.legend(12, 20, [(svg.BLUE, "experiment"), (svg.GREEN, "feature"),
                                   (svg.ORANGE, "demo to sponsors")]))
    return svg.document(W, h, "Plan: time-boxed phases and demos", out, "gantt")
