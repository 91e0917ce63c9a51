"""Daily cost anomalies that do not cry wolf: spikes, new services (and, with a spec, schedules).

Per series (one value of the dimension), the expected cost of a day is the median of the same
kind of day (weekday or weekend) over the previous four weeks; the scale is the median absolute
deviation, floored so flat series do not alert on cents. A spike must beat both a robust z-score
and a minimum cost impact (so low-volume noise is ignored). A spike that persists is a level
shift: it is reported once, and after SHIFT_DAYS days the baseline restarts at the new level
instead of re-alerting for weeks. Precision and recall are measured by
`benchmarks/billing_anomalies.py` on generated data with injected anomalies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

WINDOW_DAYS = 28
MIN_HISTORY = 7
Z = 5.0
REL_FLOOR = 0.10  # a day's scale is at least 10% of its expected cost
SHIFT_DAYS = 3
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Settings:
    min_impact_usd: float = 10.0
    # ... and at least this share of the median daily total of all series together.
    min_impact_share: float = 0.01
    z: float = Z


def _weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


def _expected(history: list[tuple[dt.date, float]], day: dt.date) -> tuple[float, float] | None:
    """(expected, scale) of `day` from the same kind of day in `history`, or None if too short."""
    if len(history) < MIN_HISTORY:
        return None
    same = [v for d, v in history if _weekend(d) == _weekend(day)]
    values = np.array(same if len(same) >= 3 else [v for _, v in history])
    expected = float(np.median(values))
    mad = float(np.median(np.abs(values - expected))) * MAD_TO_SD
    return expected, max(mad, REL_FLOOR * abs(expected))


def detect_series(days: list[dt.date], values: np.ndarray, floor: float,
                  settings: Settings) -> list[dict[str, Any]]:
    """Spikes in one daily series (days consecutive, missing days already filled with 0)."""
    out: list[dict[str, Any]] = []
    history: list[tuple[dt.date, float]] = []
    # Anomalous days of a possible level shift: (day, value, expected), and normal days since.
    pending: list[tuple[dt.date, float, float]] = []
    gap = 0
    unseen: set[bool] = set()  # day kinds (weekend?) not yet seen since the last level shift
    for day, value in zip(days, values, strict=True):
        ref = _expected(history[-WINDOW_DAYS:], day)
        if ref is None:
            history.append((day, float(value)))
            continue
        expected, scale = ref
        impact = float(value) - expected
        anomalous = impact > settings.z * scale and impact >= floor
        kind = _weekend(day)
        if kind in unseen:
            unseen.discard(kind)
            if anomalous and expected > 0:
                # The first weekend (or weekday) after a shift: the shift may be additive, so
                # this kind of day moves by its own ratio; absorb it rather than re-alert.
                ratio = float(value) / expected
                history = [(d, v * ratio if _weekend(d) == kind else v) for d, v in history]
                history.append((day, float(value)))
                continue
        if anomalous:
            if not pending:
                out.append({"date": day.isoformat(), "actual": float(value),
                            "expected": expected, "impact": impact, "kind": "spike"})
            pending.append((day, float(value), expected))
            gap = 0
            if len(pending) >= SHIFT_DAYS:
                # A level shift: rescale the history to the new level so the baseline absorbs
                # it instead of alerting every day. Each kind of day (weekday, weekend) moves by
                # its own ratio, since shifts may be additive; a kind not seen yet is absorbed
                # on its first day below.
                ratios = {k: float(np.median([v / e for d, v, e in pending
                                              if _weekend(d) == k and e > 0] or [np.nan]))
                          for k in (False, True)}
                seen = {k for k, r in ratios.items() if np.isfinite(r)}
                history = [(d, v * ratios[_weekend(d)] if _weekend(d) in seen else v)
                           for d, v in history] + [(d, v) for d, v, _ in pending]
                unseen = {False, True} - seen
                pending = []
            continue
        history.append((day, float(value)))
        if pending:
            gap += 1
            if gap >= 2:
                pending = []  # a transient spike: it stays out of the baseline
    return out


def detect(rows: Iterable[tuple[dt.date, Any, float]], dimension: str,
           settings: Settings | None = None) -> list[dict[str, Any]]:
    """Spikes and new values of `dimension` in daily (day, key, cost) rows, by cost impact."""
    settings = settings or Settings()
    series: dict[Any, dict[dt.date, float]] = {}
    totals: dict[dt.date, float] = {}
    for day, key, cost in rows:
        series.setdefault(key, {})[day] = series.get(key, {}).get(day, 0.0) + cost
        totals[day] = totals.get(day, 0.0) + cost
    if not totals:
        return []
    first, last = min(totals), max(totals)
    all_days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    floor = max(settings.min_impact_usd,
                settings.min_impact_share * float(np.median([totals.get(d, 0.0)
                                                             for d in all_days])))
    out: list[dict[str, Any]] = []
    for key, by_day in series.items():
        start = min(d for d, v in by_day.items() if v != 0) if any(by_day.values()) else None
        if start is None:
            continue
        if start > first + dt.timedelta(days=1) and by_day[start] >= floor:
            out.append({"date": start.isoformat(), "actual": by_day[start], "expected": 0.0,
                        "impact": by_day[start], "kind": "new"})
            out[-1].update(dimension=dimension, key=key)
        days = [d for d in all_days if d >= start]
        values = np.array([by_day.get(d, 0.0) for d in days])
        for a in detect_series(days, values, floor, settings):
            a.update(dimension=dimension, key=key)
            out.append(a)
    out.sort(key=lambda a: (-a["impact"], a["date"]))
    return [{"date": a["date"], "dimension": a["dimension"], "key": a["key"],
             "actual": a["actual"], "expected": a["expected"], "kind": a["kind"],
             "impact": a["impact"]} for a in out]
