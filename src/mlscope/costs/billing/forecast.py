"""Month-end (and next-month) forecast of effective cost, with a P10-P90 range.

Daily effective cost of recurring usage (DuckDB sums it per day) is modelled as a level times a
weekday/weekend factor plus a damped robust trend (Theil-Sen); the range comes from a seeded
Monte Carlo of the level, the trend and the day-to-day noise, all estimated robustly (median
absolute deviation) from the history itself. One-off charges (upfront fees, monthly RI fees,
tax, credits) count as posted and are not extrapolated. `benchmarks/billing_forecast.py`
backtests it on held-out days against the naive run-rate.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

HISTORY_DAYS = 42
LEVEL_DAYS = 7
TREND_DAYS = 21
DRAWS = 4000
MAD_TO_SD = 1.4826
# Floors so a perfectly flat history still gets an honest, if narrow, range.
MIN_DAILY_SIGMA = 0.05
TREND_DAMPING = 0.75
# Widening of the level and trend uncertainty, set by the backtest (benchmarks/billing_forecast.py)
# so the P10-P90 range covers the truth about 80% of the time on generated data.
LEVEL_INFLATION = 3.0
SLOPE_INFLATION = 4.0


@dataclass
class Forecast:
    month: str
    through: str | None  # last day with data in the month
    to_date: float
    p10: float
    p50: float
    p90: float
    days_left: int
    next_month: dict[str, Any]
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "through": self.through, "to_date": self.to_date,
                "forecast": {"p10": self.p10, "p50": self.p50, "p90": self.p90},
                "days_left": self.days_left, "next_month": self.next_month,
                "method": self.method}


def _days(month: str) -> list[dt.date]:
    year, mon = int(month[:4]), int(month[5:7])
    return [dt.date(year, mon, d) for d in range(1, calendar.monthrange(year, mon)[1] + 1)]


def _next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def _weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


def _theil_sen(y: np.ndarray) -> float:
    n = len(y)
    if n < 3:
        return 0.0
    i, j = np.triu_indices(n, k=1)
    return float(np.median((y[j] - y[i]) / (j - i)))


@dataclass
class DailyModel:
    level: float
    slope: float
    weekday_factor: float
    weekend_factor: float
    sigma_day: float
    sigma_level: float
    sigma_slope: float
    last_day: dt.date

    def factor(self, day: dt.date) -> float:
        return self.weekend_factor if _weekend(day) else self.weekday_factor

    def simulate(self, days: list[dt.date], rng: np.random.Generator,
                 draws: int = DRAWS) -> np.ndarray:
        """Draws of the summed cost over `days` (draws,)."""
        if not days:
            return np.zeros(draws)
        h = np.array([(d - self.last_day).days for d in days], dtype=float)
        f = np.array([self.factor(d) for d in days])
        level = self.level * np.exp(rng.normal(0.0, self.sigma_level, (draws, 1)))
        slope = rng.normal(self.slope, self.sigma_slope, (draws, 1))
        # The trend is damped and may not take the level below zero.
        mean = np.maximum(level + slope * TREND_DAMPING * np.minimum(h, 28.0), 0.0) * f
        noise = np.exp(rng.normal(0.0, self.sigma_day, (draws, len(days)))
                       - self.sigma_day ** 2 / 2)
        return np.asarray((mean * noise).sum(axis=1))


def fit(history: Mapping[dt.date, float], last_day: dt.date) -> DailyModel | None:
    """The daily model from the days up to `last_day` (missing days count as 0)."""
    first = last_day - dt.timedelta(days=HISTORY_DAYS - 1)
    known = [d for d in history if first <= d <= last_day]
    if not known:
        return None
    start = min(known)
    days = [start + dt.timedelta(days=i) for i in range((last_day - start).days + 1)]
    x = np.array([max(history.get(d, 0.0), 0.0) for d in days])
    weekend = np.array([_weekend(d) for d in days])
    recent = x[-28:]
    recent_weekend = weekend[-28:]
    wd = float(np.median(recent[~recent_weekend])) if (~recent_weekend).any() else 0.0
    we = float(np.median(recent[recent_weekend])) if recent_weekend.sum() >= 2 else wd
    if not recent_weekend.any() or (~recent_weekend).sum() < 2:
        wd = we = float(np.median(recent))
    mean = (5 * wd + 2 * we) / 7
    if mean <= 0:
        return DailyModel(0.0, 0.0, 1.0, 1.0, MIN_DAILY_SIGMA, 0.0, 0.0, last_day)
    fwd, fwe = wd / mean, we / mean
    factor = np.where(weekend, fwe, fwd)
    y = np.where(factor > 0, x / np.where(factor > 0, factor, 1.0), mean)
    trend_y = y[-TREND_DAYS:]
    slope = _theil_sen(trend_y)
    # The level on the last day: recent days carried forward along the trend.
    recent_y = y[-LEVEL_DAYS:]
    level = float(np.median(recent_y + slope * (len(recent_y) - 1 - np.arange(len(recent_y)))))
    fitted = np.maximum(level + slope * (np.arange(len(y)) - (len(y) - 1)), 1e-9) * factor
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(np.where((x > 0) & (fitted > 0), x / fitted, np.nan))
    ratio = ratio[np.isfinite(ratio)][-28:]
    if len(ratio) >= 3:
        sigma_day = max(MAD_TO_SD * float(np.median(np.abs(ratio - np.median(ratio)))),
                        MIN_DAILY_SIGMA)
    else:
        sigma_day = 0.5  # a day or two of history: say so with a wide range
    n_level = min(LEVEL_DAYS, len(y))
    sigma_level = sigma_day / np.sqrt(n_level) * LEVEL_INFLATION if len(y) >= 3 else 0.5
    sigma_slope = (sigma_day * level / max(len(trend_y), 1) ** 1.5 * SLOPE_INFLATION
                   if len(trend_y) >= 3 else abs(level) * 0.02)
    return DailyModel(level, slope, fwd, fwe, sigma_day, sigma_level, sigma_slope, last_day)


def forecast_month(month: str, modelled: Mapping[dt.date, float], to_date: float,
                   seed: int = 0) -> Forecast:
    """Month-end forecast from `modelled` daily cost (recurring usage) and `to_date` (all)."""
    days = _days(month)
    in_month = [d for d in modelled if days[0] <= d <= days[-1]]
    through = max(in_month) if in_month else None
    nxt = _days(_next_month(month))
    if through is None:
        empty = {"p10": 0.0, "p50": 0.0, "p90": 0.0}
        return Forecast(month, None, to_date, to_date, to_date, to_date, len(days), empty,
                        "no data in the month")
    model = fit(modelled, through)
    remaining = [d for d in days if d > through]
    rng = np.random.default_rng(seed)
    if model is None:
        p = to_date
        return Forecast(month, through.isoformat(), to_date, p, p, p, len(remaining),
                        {"p10": 0.0, "p50": 0.0, "p90": 0.0}, "no history")
    draws = to_date + model.simulate(remaining, rng)
    nxt_draws = model.simulate(nxt, rng)
    p10, p50, p90 = (float(v) for v in np.percentile(draws, [10, 50, 90]))
    q = np.percentile(nxt_draws, [10, 50, 90])
    return Forecast(month, through.isoformat(), to_date, p10, p50, p90, len(remaining),
                    {"month": _next_month(month), "p10": float(q[0]), "p50": float(q[1]),
                     "p90": float(q[2])},
                    "weekday/weekend level with damped Theil-Sen trend; seeded Monte Carlo")


def naive_forecast(month: str, modelled: Mapping[dt.date, float], to_date: float) -> float:
    """The run-rate baseline: cost so far / days elapsed × days in the month."""
    days = _days(month)
    in_month = [d for d in modelled if days[0] <= d <= days[-1]]
    if not in_month:
        return to_date
    elapsed = (max(in_month) - days[0]).days + 1
    return to_date / elapsed * len(days)
