"""Seeded, vectorised draws of uncertain inputs.

A range `(low, high)` is read as the input's P10 and P90: lognormal when low > 0 (costs, hours
and counts are positive and right-skewed), otherwise uniform stretched so that low/high stay its
P10/P90, clipped at zero. A triangular draw serves autoscaled instance counts (min, typical, max).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mlscope.core.ranges import Z90


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
        return rng.lognormal(math.log(median_of(value)), sigma, shape)
    pad = (high - low) * 0.1 / 0.8  # uniform with P10 = low, P90 = high
    return np.clip(rng.uniform(low - pad, high + pad, shape), 0.0, None)


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
    return rng.triangular(low, min(max(mode, low), high), high, shape)


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
