"""How a measured cost (seconds, MB) grows with the data fraction, and how sure we are.

Candidate models, all with non-negative parameters, fitted on relative (log-scale) error so a
1 s run and a 60 s run weigh the same:

    constant      y = a
    linear        y = a + b*x            (a = fixed start-up cost)
    power         y = a + b*x**c         (0.3 <= c <= 2.5; sub- or super-linear algorithms)

Models are scored by leave-one-fraction-out error (all repeats of a fraction left out together,
so leaving out the largest fraction is a real extrapolation test) and averaged with weights
that fall off with that error. The range comes from residual bootstraps of each model (in
proportion to its weight), plus run-to-run noise, plus the leave-one-out error scaled by how
far the target lies beyond the measured fractions, plus a stated prior per decade of
extrapolation; far extrapolation, poor fits and runs that are mostly start-up widen it more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlscope.errors import InputError

POWER_GRID = np.round(np.arange(0.30, 2.501, 0.02), 2)
# Leave-one-out errors below this (2 %) are timing noise; they do not make one model certain.
LOO_ERROR_FLOOR = 0.02
POWER_LOO_PENALTY = 2.0
BOOTSTRAP_DRAWS = 400
EXTRAPOLATION_SD_PER_DECADE = 0.15  # a prior: see _extrapolation_sd
MIN_LOG_SD = 0.01  # no timing repeats better than about 1 %, however smooth the runs look
FAR_EXTRAPOLATION = 20.0  # target / largest measured fraction beyond which we warn and widen
POOR_FIT_LOG_ERROR = 0.20  # leave-one-out RMS of log(pred/actual) above which the fit is poor
# Below this share of data-dependent cost at the largest fraction, growth is a small signal.
SMALL_SIGNAL_SHARE = 0.5
NOISY_SPREAD = 2.0  # slowest / fastest run at one fraction above which timings are unreliable
MODEL_FORMULAS = {"constant": "a", "linear": "a + b*x", "power": "a + b*x**c"}
MODEL_ORDER = ("constant", "linear", "power")


@dataclass(frozen=True)
class Curve:
    model: str
    a: float
    b: float = 0.0
    c: float = 1.0

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        xs = np.asarray(x, dtype=float)
        if self.model == "constant":
            return np.full_like(xs, self.a)
        return self.a + self.b * np.power(xs, self.c)

    def parameters(self) -> dict[str, float]:
        names = {"constant": ("a",), "linear": ("a", "b"), "power": ("a", "b", "c")}[self.model]
        return {n: float(getattr(self, n)) for n in names}


@dataclass
class Range:
    p10: float
    p50: float
    p90: float

    def scaled(self, factor: float) -> Range:
        return Range(self.p10 * factor, self.p50 * factor, self.p90 * factor)

    def to_dict(self) -> dict[str, float]:
        return {"p10": self.p10, "p50": self.p50, "p90": self.p90}


@dataclass
class FitResult:
    quantity: str  # "seconds" or "peak_rss_mb"
    curve: Curve
    loo_error: float  # RMS of log(predicted / mean measured) over left-out fractions
    in_sample_error: float  # RMS of log residuals of the chosen model on all runs
    noise: float  # log-scale SD of repeats around their fraction mean
    loo_by_fraction: dict[float, float]
    candidates: list[dict[str, Any]]
    prediction: Range
    samples: np.ndarray = field(repr=False)  # predictive draws at the target (for costs)
    extrapolation_ratio: float = 1.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity, "model": self.curve.model,
            "formula": MODEL_FORMULAS[self.curve.model] + "  (x = data fraction)",
            "parameters": self.curve.parameters(),
            "error": {"loo_rms_log": self.loo_error, "in_sample_rms_log": self.in_sample_error,
                      "repeat_noise_log_sd": self.noise,
                      "loo_by_fraction": {str(k): v for k, v in self.loo_by_fraction.items()}},
            "candidates": self.candidates, "prediction": self.prediction.to_dict(),
        }


# -- least squares on relative error ----------------------------------------------------------
def _fit_ab(basis: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best a, b >= 0 for y ~ a + b*basis, weights 1/y, for each row of `basis` (G x n) at once.

    Returns arrays (a, b, weighted SSE) of length G. Where the unconstrained solution has a
    negative parameter, the better of the two one-parameter fits (a = 0 or b = 0) is used.
    """
    w = 1.0 / y
    col = basis * w  # G x n
    s11 = float(w @ w)
    s12, s22 = col @ w, np.einsum("gn,gn->g", col, col)
    t1, t2 = float(w.sum()), col.sum(axis=1)
    det = s11 * s22 - s12 * s12
    safe = np.where(np.abs(det) > 1e-12 * s11 * np.maximum(s22, 1e-300), det, np.nan)
    a_free, b_free = (t1 * s22 - t2 * s12) / safe, (t2 * s11 - t1 * s12) / safe

    def sse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.sum((a[:, None] * w + b[:, None] * col - 1.0) ** 2, axis=1)

    g = basis.shape[0]
    a_only = np.full(g, t1 / s11)
    b_only = np.where(s22 > 0, np.maximum(t2 / np.maximum(s22, 1e-300), 0.0), 0.0)
    options = [
        (np.where(np.isfinite(a_free), a_free, 0.0), np.where(np.isfinite(b_free), b_free, 0.0)),
        (a_only, np.zeros(g)), (np.zeros(g), b_only),
    ]
    errors = [sse(a, b) for a, b in options]
    valid_free = np.isfinite(a_free) & (a_free >= 0) & (b_free >= 0)
    errors[0] = np.where(valid_free, errors[0], np.inf)
    pick = np.argmin(np.vstack(errors), axis=0)
    a = np.choose(pick, [o[0] for o in options])
    b = np.choose(pick, [o[1] for o in options])
    return a, b, np.choose(pick, errors)


def fit_curve(model: str, x: np.ndarray, y: np.ndarray) -> Curve:
    if model == "constant":
        return Curve("constant", float(np.exp(np.mean(np.log(y)))))
    grid = np.array([1.0]) if model == "linear" else POWER_GRID
    a, b, sse = _fit_ab(np.power(x[None, :], grid[:, None]), y)
    i = int(np.argmin(sse))
    if model == "power":  # refine the exponent around the best grid point
        fine = np.clip(grid[i] + np.arange(-0.02, 0.0201, 0.001), POWER_GRID[0], POWER_GRID[-1])
        a, b, sse = _fit_ab(np.power(x[None, :], fine[:, None]), y)
        i = int(np.argmin(sse))
        grid = fine
    return Curve(model, float(a[i]), float(b[i]), float(grid[i]))


def _log_rms(values: Sequence[float] | np.ndarray) -> float:
    arr = np.asarray(values, dtype=float)
    return float(np.sqrt(np.mean(arr ** 2))) if arr.size else 0.0


def leave_one_fraction_out(model: str, x: np.ndarray, y: np.ndarray) -> dict[float, float]:
    """log(predicted / mean measured) at each fraction when its runs are left out of the fit."""
    errors: dict[float, float] = {}
    for level in np.unique(x):
        held = x == level
        if np.unique(x[~held]).size < 2:
            continue
        curve = fit_curve(model, x[~held], y[~held])
        predicted = float(curve(level))
        actual = float(np.exp(np.mean(np.log(y[held]))))
        errors[float(level)] = math.log(max(predicted, 1e-12) / actual)
    return errors


def repeat_noise(x: np.ndarray, y: np.ndarray) -> float:
    """Log-scale SD of runs around their fraction's mean (pooled; 0 with single runs)."""
    dev, dof = 0.0, 0
    for level in np.unique(x):
        logs = np.log(y[x == level])
        dev += float(np.sum((logs - logs.mean()) ** 2))
        dof += logs.size - 1
    return math.sqrt(dev / dof) if dof else 0.0


def score_models(x: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    """Each usable candidate with its leave-one-out errors and its weight in the average.

    Weights fall off with a model's leave-one-out error relative to the best one (a Gaussian
    on the error ratio), so models that extrapolate about equally well share the prediction
    and their disagreement widens the range instead of being hidden by a hard choice.
    """
    distinct = np.unique(x).size
    usable = [m for m, need in zip(MODEL_ORDER, (1, 3, 4), strict=True) if distinct >= need]
    scored: list[dict[str, Any]] = []
    for model in usable:
        loo = leave_one_fraction_out(model, x, y)
        scored.append({"model": model, "loo_rms_log": _log_rms(list(loo.values())),
                       "loo_by_fraction": loo,
                       "parameters": fit_curve(model, x, y).parameters()})
    # Leaving one out of few fractions leaves the 3-parameter power law fitted exactly to the
    # rest, which flatters it: its error counts for more until there are enough fractions.
    penalties = [POWER_LOO_PENALTY if c["model"] == "power" and distinct < 6 else 1.0
                 for c in scored]
    errors = [c["loo_rms_log"] * pen for c, pen in zip(scored, penalties, strict=True)]
    scale = max(min(errors), LOO_ERROR_FLOOR)
    weights = np.array([math.exp(-0.5 * (e / scale) ** 2) for e in errors])
    for cand, weight in zip(scored, weights / weights.sum(), strict=True):
        cand["weight"] = float(weight)
    return scored


def envelope(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct fractions, the fastest run at each, and each run's log excess over it."""
    levels, where = np.unique(x, return_inverse=True)
    lows = np.array([y[where == i].min() for i in range(levels.size)])
    return levels, lows, np.log(y / lows[where])


def fit_and_predict(x_values: Sequence[float], y_values: Sequence[float], target: float,
                    quantity: str, scale_data_part: float = 1.0, seed: int = 0) -> FitResult:
    """Fit the runs and predict `target` (x) with a P10/P50/P90 range.

    Other work on the machine only ever adds time, so the curve goes through the fastest run
    at each fraction (as `timeit` advises) and how much slower the other runs were is kept, as
    measured, for the scatter of a new run: P50 is a typical run under the same conditions.
    `scale_data_part` multiplies the data-dependent part (b*x**c) only, e.g. for more epochs
    than were measured: the start-up cost `a` is paid once.
    """
    x = np.asarray(x_values, dtype=float)
    y = np.maximum(np.asarray(y_values, dtype=float), 1e-6)
    if x.size == 0 or np.unique(x).size < 2:
        raise InputError("a fit needs runs at two or more fractions",
                         "give at least two fractions, e.g. --fractions 0.02,0.05,0.1")
    levels, lows, excess = envelope(x, y)
    scored = score_models(levels, lows)
    chosen = max(scored, key=lambda c: c["weight"])
    curve = fit_curve(chosen["model"], levels, lows)
    residuals = np.log(lows / np.maximum(curve(levels), 1e-12))
    loo_error = chosen["loo_rms_log"]
    ratio = target / float(levels.max())
    extra_sd = _extrapolation_sd(levels, ratio, chosen["loo_by_fraction"], loo_error)
    widen = 1.0
    warnings: list[str] = []
    if ratio > FAR_EXTRAPOLATION:
        warnings.append(f"{quantity}: the target is {ratio:.0f}x the largest measured fraction "
                        f"(over {FAR_EXTRAPOLATION:.0f}x); the range is widened by 1.5x, measure "
                        "a larger fraction to narrow it")
        widen *= 1.5
    spread = float(np.exp(excess.max()))
    if spread > NOISY_SPREAD:
        warnings.append(f"{quantity}: repeats at one fraction differ by up to {spread:.1f}x: the "
                        "machine is busy (or a multi-threaded job shares its cores), so the range "
                        "is very wide; calibrate on a quiet machine, with fewer threads (e.g. "
                        "OMP_NUM_THREADS=1) or with more repeats")
    share = _data_share(curve, float(levels[-1]))
    if share < SMALL_SIGNAL_SHARE and ratio > 1:
        warnings.append(f"{quantity}: at the largest fraction only {share:.0%} of it grows "
                        "with the data (the rest is fixed: start-up time or baseline memory), so "
                        "growth is measured on a small signal; the range is widened by 1.5x; "
                        "measure larger fractions")
        widen *= 1.5
    if loo_error > POOR_FIT_LOG_ERROR:
        warnings.append(f"{quantity}: poor fit (leave-one-out error {math.expm1(loo_error):.0%}); "
                        "the range is widened by 1.5x; add repeats or larger fractions")
        widen *= 1.5
    rng = np.random.default_rng(seed)
    draws = []
    for cand in scored:
        count = round(BOOTSTRAP_DRAWS * cand["weight"])
        if count == 0:
            continue
        boot, fit_sd = _bootstrap(cand["model"], x, y, target, rng, scale_data_part)
        sd = math.hypot(max(fit_sd, MIN_LOG_SD), extra_sd)
        scatter = rng.choice(excess, count) + rng.normal(0.0, sd, count)
        draws.append(rng.choice(boot, count) * np.exp(scatter))
    samples = np.concatenate(draws)
    median = float(np.median(samples))
    # Widening stretches the draws away from the median on a log scale.
    samples = median * np.exp(widen * np.log(samples / median))
    p10, p90 = (float(v) for v in np.quantile(samples, [0.1, 0.9]))
    return FitResult(quantity, curve, loo_error, _log_rms(residuals), repeat_noise(x, y),
                     chosen["loo_by_fraction"], [_public(c) for c in scored],
                     Range(p10, median, p90), samples, ratio, warnings)


def _data_share(curve: Curve, x: float) -> float:
    """Share of the fitted cost at x that grows with the data (not the fixed start-up)."""
    total = float(curve(x))
    if curve.model == "constant" or total <= 0:
        return 0.0
    return (total - curve.a) / total


def _extrapolation_sd(levels: np.ndarray, ratio: float, loo: dict[float, float],
                      loo_error: float) -> float:
    """Log-SD of the curve's own error at the target, beyond the measured fractions.

    Leaving out the largest fraction tests an extrapolation from the next one down; the target
    lies further out, so that error grows with the ratio of the two (log) distances. Growth
    laws also change beyond what small runs show (caches, saturating counts of distinct users
    or items, deeper trees), which no fit can see: a stated prior adds
    EXTRAPOLATION_SD_PER_DECADE for each tenfold step past the largest fraction.
    """
    if ratio <= 1:
        return 0.0
    top, below = float(levels[-1]), float(levels[-2])
    reach = math.log(ratio) / math.log(top / below)
    measured = abs(loo.get(top, loo_error)) * reach
    return math.hypot(measured, EXTRAPOLATION_SD_PER_DECADE * math.log10(ratio))


def _public(cand: dict[str, Any]) -> dict[str, Any]:
    return {"model": cand["model"], "formula": MODEL_FORMULAS[cand["model"]],
            "loo_rms_log": cand["loo_rms_log"], "weight": cand["weight"],
            "parameters": cand["parameters"]}


def _predict(curve: Curve, target: float, scale_data_part: float) -> float:
    base = float(curve(target))
    if curve.model == "constant":
        return base
    return curve.a + (base - curve.a) * scale_data_part


def _bootstrap(model: str, x: np.ndarray, y: np.ndarray, target: float,
               rng: np.random.Generator, scale_data_part: float) -> tuple[np.ndarray, float]:
    """Predictions at the target from refits on resampled runs; and the fit's log-SD.

    Runs are resampled within each fraction (so a lucky fastest run may be missing), and the
    fastest of each is jittered by the curve's own residual scatter, inflated for the
    parameters it used, before refitting.
    """
    levels, lows, _ = envelope(x, y)
    curve = fit_curve(model, levels, lows)
    residuals = np.log(lows / np.maximum(curve(levels), 1e-12))
    n, k = levels.size, len(curve.parameters())
    fit_sd = float(np.sqrt(np.sum(residuals ** 2) / max(n - k, 1)))
    groups = [y[x == level] for level in levels]
    draws = np.empty(BOOTSTRAP_DRAWS)
    for i in range(BOOTSTRAP_DRAWS):
        low_star = np.array([rng.choice(g, g.size).min() for g in groups])
        low_star = low_star * np.exp(rng.normal(0.0, fit_sd, n))
        draws[i] = _predict(fit_curve(model, levels, low_star), target, scale_data_part)
    return np.maximum(draws, 1e-9), fit_sd
