"""The hand-rolled SVG charts: axis maths, valid SVG, and marks that match the data."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlscope.report import charts, svg

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(doc: str) -> ET.Element:
    root = ET.fromstring(doc)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("s:title", NS) is not None and root.get("role") == "img"
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


@given(st.floats(-1e9, 1e9), st.floats(1e-3, 1e9), st.integers(2, 10))
def test_nice_ticks_cover_the_range_in_even_steps(lo: float, span: float, count: int) -> None:
    hi = lo + span
    ticks = svg.nice_ticks(lo, hi, count)
    assert ticks and all(lo - span * 1e-6 <= t <= hi + span * 1e-6 for t in ticks)
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(ticks) <= 2 * count + 2
    if len(ticks) > 2:
        assert max(steps) - min(steps) <= max(steps) * 1e-6 + 1e-6


@given(st.floats(1e-3, 1e6), st.floats(1.01, 1e5))
def test_log_range_brackets_and_scale_is_monotonic(lo: float, ratio: float) -> None:
    hi = lo * ratio
    a, b = svg.log_range(lo, hi)
    assert a <= lo and b >= hi
    scale = svg.Scale(a, b, 0, 100, log=True)
    assert scale(a) == pytest.approx(0) and scale(b) == pytest.approx(100)
    assert scale(lo) <= scale(hi)


def test_formatters_speak_plainly() -> None:
    assert svg.money(1_234_567) == "$1.23M" and svg.money(12_500) == "$12.5k"
    assert svg.money(0.16) == "$0.16"
    assert svg.duration(2.5) == "2.5 h" and svg.duration(48) == "2 d"
    assert svg.duration(730) == "1 mo" and svg.duration(0.5) == "30 min"
    assert svg.chance(0.004) == "under 1%" and svg.chance(0.0) == "0%"
    assert svg.duration_ticks(5, 2000) == [6, 12, 24, 48, 96, 168, 336, 730]


def _points() -> list[charts.OptionPoint]:
    return [
        charts.OptionPoint("fast <&> costly", (5, 8, 12), (900, 1000, 1300), True, True),
        charts.OptionPoint("balanced", (20, 30, 45), (300, 400, 520), True, True, best=True),
        charts.OptionPoint("slow & cheap", (200, 300, 420), (100, 150, 190), True, False),
        charts.OptionPoint("dominated", (40, 50, 60), (800, 900, 1000), False, True),
    ]


def test_time_vs_cost_joins_the_pareto_front_in_time_order() -> None:
    root = parse(charts.time_vs_cost(_points(), deadline_hours=100, budget_usd=1200))
    fronts = root.findall(".//s:polyline", NS)
    assert len(fronts) == 1
    xs = [float(p.split(",")[0]) for p in (fronts[0].get("points") or "").split()]
    assert len(xs) == 3 and xs == sorted(xs)
    labels = " ".join(texts(root))
    assert "deadline" in labels and "budget $1.2k" in labels and "recommended: balanced" in labels
    tips = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any("fast <&> costly" in t and "meets the deadline" in t for t in tips)
    assert any("slow & cheap" in t and "misses the deadline" in t for t in tips)


def test_a_budget_far_above_the_options_is_not_drawn() -> None:
    labels = " ".join(texts(parse(charts.time_vs_cost(_points(), budget_usd=1e7))))
    assert "budget" not in labels


def test_grouped_bars_label_every_bar_with_its_value() -> None:
    root = parse(charts.grouped_bars(["dev", "prod"], [("always on", svg.GREY, [389.0, 358.0]),
                                                        ("scheduled", svg.GREEN, [136.0, 358.0])],
                                     y_label="USD per month", title="t", budget=500))
    labels = texts(root)
    assert {"$389", "$136", "dev", "prod", "USD per month"} <= set(labels)
    heights = {float(r.get("height") or 0) for r in root.iter("{http://www.w3.org/2000/svg}rect")
               if r.get("rx") == "2" and float(r.get("width") or 0) > 12}
    assert len(heights) == 3  # 389, 358 (twice), 136


def test_overrun_histogram_shows_the_share_over_budget() -> None:
    draws = [float(v) for v in range(100, 200)]  # 100 draws, 25 over 174.5
    root = parse(charts.overrun_histogram(draws, 174.5, x_label="USD"))
    assert "25% of months go over" in texts(root)
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") == svg.RED
            and float(r.get("height") or 0) > 0]
    assert bars


def test_quantile_cdf_passes_through_each_quantile() -> None:
    root = parse(charts.quantile_cdf([(0.1, 100), (0.5, 150), (0.9, 260)], 200, x_label="USD"))
    tips = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert {"P10: $100", "P50: $150", "P90: $260"} <= set(tips)


def test_gantt_has_a_row_per_phase_and_demo_diamonds() -> None:
    bars = [charts.GanttBar("a", "experiment", 0, 12, "demo", True, "a"),
            charts.GanttBar("b", "feature", 14, 0, None, False, "b")]
    root = parse(charts.gantt(bars, origin=dt.date(2027, 1, 4),
                              markers=[("deadline 01 Feb", 28, svg.RED)]))
    labels = texts(root)
    assert "a" in labels and "b" in labels and "no time box" in labels
    assert "04 Jan" in labels and "deadline 01 Feb" in labels
    assert len(root.findall(".//s:polygon", NS)) == 1
    relative = texts(parse(charts.gantt(bars, origin=None)))
    assert "wk 0" in relative


def test_range_bars_order_and_scale() -> None:
    rows = [charts.RangeRow("spot", (1, 2, 3)), charts.RangeRow("on-demand", (2, 4, 8))]
    root = parse(charts.range_bars(rows, x_label="USD", title="t"))
    widths = [float(r.get("width") or 0) for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert len(widths) == 2 and math.isclose(widths[1] / widths[0], 3.0, rel_tol=1e-2)
