"""Seeded, vectorised draws of uncertain inputs.

A range `(low, high)` is read as the input's P10 and P90: lognormal when low > 0 (costs, hours
and counts are positive and right-skewed), otherwise uniform stretched so that low/high stay its
P10/P90, clipped at zero. A triangular draw serves autoscaled instance counts (min, typical, max).

Months are not independent: a traffic level, a data volume or a pace of training that is high
this month is likely high the next. Each draw over months (shape draws × months) is a level
shared by all months plus month-to-month noise, mixed in normal scores with correlation
`PERSISTENCE` between any two months (a Gaussian copula), so each month keeps exactly the
distribution its range says while "at least one month over budget" and "over budget for the
whole period" mean what they say.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mlscope.core.ranges import Z90

# Correlation of the normal scores of any two months of one input (an assumption, stated in the
# output): 0 would be independent months, 1 one level for the whole period.
PERSISTENCE = 0.7


def normal_scores(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws; over (draws, months), a shared level plus month noise."""
    if len(shape) == 2 and shape[1] > 1:
        level = rng.standard_normal((shape[0], 1))
        noise = rng.standard_normal(shape)
        return np.sqrt(PERSISTENCE) * level + np.sqrt(1 - PERSISTENCE) * noise
    return rng.standard_normal(shape)


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf and scipy is optional.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                         + t * 1.061405429))))
    return np.asarray(sign * (1.0 - poly * np.exp(-x * x)))


def uniform_scores(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform(0, 1) draws with the same month-to-month persistence."""
    return np.clip(0.5 * (1.0 + _erf(normal_scores(rng, shape) / np.sqrt(2.0))), 0.0, 1.0)


def median_of(value: tuple[float, float]) -> float:
    low, high = value
    return math.sqrt(low * high) if low > 0 else (low + high) / 2


def draw_range(rng: np.random.Generator, value: tuple[float, float],
               shape: tuple[int, ...]) -> np.ndarray:
    low, high = value
    if high == low:
        return np.full(shape, float(low))
    if low > 0:
        sigma = math.log(high / low) / (2 * Z90)
        return np.asarray(median_of(value) * np.exp(sigma * normal_scores(rng, shape)))
    pad = (high - low) * 0.1 / 0.8  # uniform with P10 = low, P90 = high
    u = uniform_scores(rng, shape)
    return np.clip(low - pad + u * (high - low + 2 * pad), 0.0, None)


def draw_quantiles(rng: np.random.Generator, p10: float, p50: float, p90: float,
                   shape: tuple[int, ...]) -> np.ndarray:
    """Lognormal through P50 with the spread of P10..P90 (an estimator's range)."""
    if p90 <= p10 or p10 <= 0:
        return np.full(shape, float(p50))
    sigma = math.log(p90 / p10) / (2 * Z90)
    return rng.lognormal(math.log(p50), sigma, shape)


def draw_triangular(rng: np.random.Generator, low: float, mode: float, high: float,
                    shape: tuple[int, ...]) -> np.ndarray:
    if high <= low:
        return np.full(shape, float(low))
    c = min(max(mode, low), high)
    u = uniform_scores(rng, shape)
    # The triangular distribution's inverse CDF, applied to persistent uniform scores.
    cut = (c - low) / (high - low)
    left = low + np.sqrt(u * (high - low) * (c - low))
    right = high - np.sqrt((1 - u) * (high - low) * (high - c))
    return np.where(u < cut, left, right)


def draw_counts(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Integer counts with the given (fractional) mean: floor plus a Bernoulli for the rest.

    4.3 runs a month is four or five weekly runs, not a Poisson count that could be zero.
    """
    base = np.floor(mean)
    return (base + (rng.random(mean.shape) < (mean - base))).astype(np.int64)


def sum_of_draws(counts: np.ndarray,
                 unit_draw: Callable[[tuple[int, ...]], np.ndarray]) -> np.ndarray:
    """Σ over counts[i] independent unit draws, per cell: one flat draw, summed by cell."""
    flat = counts.ravel()
    total = int(flat.sum())
    if total == 0:
        return np.zeros(counts.shape)
    units = unit_draw((total,))
    cell = np.repeat(np.arange(flat.size), flat)
    return np.bincount(cell, weights=units, minlength=flat.size).reshape(counts.shape)


def quantiles(values: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    p10, p50, p90 = np.percentile(values, [10, 50, 90], axis=axis)
    return {"p10": p10, "p50": p50, "p90": p90}
