"""How a measured cost (seconds, MB) grows with the size x, and how sure we are.

The model is a fixed part plus a growing part, all parameters non-negative:

    power   y = F + b * x**k          (0.3 <= k <= 3.5: sub- to super-linear algorithms)
    nlogn   y = F + b * x * ln(x*N)/ln(N)   (sorting, tree building; N = the rows at x = 1)

x is the data fraction (or iterations / target iterations, or a declared size driver).
F is pinned by a run at a vanishing size (the fixed-cost run, e.g. x = 0.001): start-up,
imports, loading or generating the whole dataset. Without such a run, F comes from the fit.

Why not "pick the best model": small runs rarely pin the exponent. Instead every exponent on a
grid (and every N of the n log n family) is fitted for F and b by weighted least squares on
relative error, and weighted by its likelihood (Gaussian on log error, noise measured from
repeats and residuals, with a floor). The prediction draws an exponent from that posterior,
so an exponent the runs cannot determine gives a wide range rather than a flat guess.
Largest sizes weigh most (they are closest to the target); the fixed-cost run weighs as
much as the largest, because it alone separates F from the growth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlscope.errors import InputError

POWER_GRID = np.round(np.arange(0.30, 3.5001, 0.01), 2)
NLOGN_GRID = 10.0 ** np.arange(2.0, 9.01, 0.25)  # N, rows of the full job
# No timing on a shared machine repeats better than this (log-SD), however smooth it looks.
NOISE_FLOOR = 0.02
# A stated prior on the timing noise (log-SD), worth NOISE_PRIOR_RUNS runs: what CPU time
# scatters on a shared machine (SMT siblings, caches), and wall time on a quiet one.
NOISE_PRIOR = 0.03
NOISE_PRIOR_RUNS = 2.0
# A stated prior on the growth exponent: most training is linear in its size or worse.
EXPONENT_PRIOR_CENTRE = 1.0
EXPONENT_PRIOR_SD = 1.0
# On the iterations axis every iteration repeats the same work over the full data: growth is
# linear in iterations unless the runs show otherwise (e.g. trees that deepen, early
# stopping checks). A narrow stated prior, so that 2-3 iteration counts, which cannot pin an
# intercept and an exponent at once, give F and the per-iteration cost (with SD 0.15 the
# benchmark's ALS fits drifted to k = 1.04-1.10 and over-predicted 60 iterations by 5-34 %).
ITERATIONS_PRIOR_SD = 0.05
ROWS_LAWS = ("power", "nlogn")
# ... and only power laws there: n log n is a law of rows (sorting, tree building), its N the
# rows of the full job, meaningless in iterations. Allowed on that axis, it was the most likely
# law for 4 of the benchmark's 14 saved ALS calibrations, 5-12 % above the straight line
# through the same runs; without it 13 of 14 predictions were within +-25 % instead of 11
# (benchmarks/calibrate_prior.py, 2026-12-02).
ITERATIONS_LAWS = ("power",)


@dataclass(frozen=True)
class GrowthPrior:
    """What is believed of the growth law before the runs: the exponent's spread around
    linear growth, and which families of laws are candidates."""

    exponent_sd: float
    laws: tuple[str, ...]


ROWS_PRIOR = GrowthPrior(EXPONENT_PRIOR_SD, ROWS_LAWS)
ITERATIONS_PRIOR = GrowthPrior(ITERATIONS_PRIOR_SD, ITERATIONS_LAWS)
DRAWS = 4000
# A prior: growth laws change beyond what small runs show (caches and TLBs the data outgrows,
# solvers that need more iterations, distinct users or items that saturate). Log-SD added
# per tenfold extrapolation. Measured (benchmarks/calibrate_accuracy.py, 2026-12-01): from
# 5-15 % of the data the numpy MLP's per-row cost rose 1.7x by the full job, the forest's and
# HistGradientBoosting's 1.2-1.5x; 0.10 left those ranges far too narrow. Chosen by
# leave-one-workload-out (benchmarks/calibrate_prior.py): the smallest value on a 0.05 grid
# whose range holds >= 85 % of the other workloads' full jobs. On the 76 saved rows of
# 2026-12-02 that was 0.25 for each of the six held out; on the 139 rows saved by session 7 it
# is 0.30 for five of six (0.25 for SVC), and at 0.25 all rows' ranges held only 116/139
# (83 %), at 0.30 123/139 (88 %, median P90/P10 2.30; held out 121/139). Session 8's 18 new
# rows, run at 0.30, held 15/18; on all 157 the choice stays 0.30 (held out 136/157, 87 %).
# Re-decided on all 175 rows (session 8's run B added; session 9): 0.25 holds 146/175 (83 %),
# 0.30 153/175 (87 %, median P90/P10 2.28), so the rule keeps 0.30; held out 151/175 (86 %).
EXTRAPOLATION_SD_PER_DECADE = 0.30
FAR_EXTRAPOLATION = 20.0  # target / largest measured size beyond which we warn and widen
POOR_FIT_LOG_ERROR = 0.20  # leave-one-out RMS of log(pred/actual) above which the fit is poor
SMALL_SIGNAL_SHARE = 0.5  # below this share of growth at the largest size, warn
NOISY_SPREAD = 2.0  # slowest / fastest run at one size above which timings are unreliable
# Above this exponent at the target, warn that the law may steepen past the measured sizes.
# Why: a superlinear job's cost per unit of data rises with the data, and where it rises
# because a cache is outgrown (the CPU's, a solver's kernel cache) the rise is abrupt and sits
# where the machine puts it. Measured (benchmarks/calibrate_accuracy.py rows): the SVC (RBF,
# 100k rows) fitted k = 1.4-2.7 on runs up to 33-79 % of its rows, then grew with k = 2.4-3.6
# (8.2 once) from there to the full job (15 rows of sessions 6-8 on three VMs; P50 18-80 %
# low in 14 of them); on session 9's VM its CPU time per SMO iteration rose 3.9x from 20k to
# 44k rows and 2.8x more to 60k (scikit-learn's n_iter_). This threshold flags 27 of the 29
# saved SVC rows, 6 of the 8 session-4 LogisticRegression rows (whose time grew with the VM's
# page faults, see ALLOCATOR_VARS in the benchmark) and none of the other 146 (k 0.6-1.37).
# Not widened, nor its P50 raised: three more superlinear jobs (session 10: KernelRidge, a
# brute-force kNN, Ward clustering; fitted k 2.0-2.6) split, the kernel ridge's n^2 + n^3 law
# steepening (-28 and -40 % of 3) and the other two not (all 6 within 14 %); raising the
# exponent past the largest run by c * (k - 1.5) for flagged laws, c chosen by leaving each
# workload out, chose c = 0 for all nine (a re-fit of the 192 rows in
# benchmarks/data/calibrate_rows).
SUPERLINEAR_EXPONENT = 1.5
MIN_TOP_WEIGHT = 0.25  # weight of the smallest growing size relative to the largest
SIZE_WEIGHT_POWER = 0.5  # a size weighs (size / largest size) ** this, at least MIN_TOP_WEIGHT
MODEL_FORMULAS = {"power": "F + b*x**k", "nlogn": "F + b*x*ln(x*N)/ln(N)"}


@dataclass(frozen=True)
class Curve:
    model: str  # "power" or "nlogn"
    a: float  # F, the fixed part
    b: float = 0.0
    c: float = 1.0  # k for power, N for nlogn

    def growth(self, x: np.ndarray | float) -> np.ndarray:
        return _basis(self.model, self.c, np.asarray(x, dtype=float))

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        return self.a + self.b * self.growth(x)

    def parameters(self) -> dict[str, float]:
        third = "k" if self.model == "power" else "N"
        return {"F": float(self.a), "b": float(self.b), third: float(self.c)}

    def local_exponent(self, x: float) -> float:
        """d ln(growth) / d ln x at x: k for a power law, 1 + 1/ln(xN) for n log n."""
        if self.model == "power":
            return self.c
        return 1.0 + 1.0 / max(math.log(x * self.c), 1e-9)


@dataclass
class Quantiles:
    p10: float
    p50: float
    p90: float

    def scaled(self, factor: float) -> Quantiles:
        return Quantiles(self.p10 * factor, self.p50 * factor, self.p90 * factor)

    def to_dict(self) -> dict[str, float]:
        return {"p10": self.p10, "p50": self.p50, "p90": self.p90}

    @classmethod
    def of(cls, values: np.ndarray) -> Quantiles:
        p10, p50, p90 = (float(v) for v in np.quantile(values, [0.1, 0.5, 0.9]))
        return cls(p10, p50, p90)


@dataclass
class FitResult:
    quantity: str  # "seconds", "peak_rss_mb" or "peak_gpu_mb"
    curve: Curve  # the most likely curve
    loo_error: float  # RMS of log(predicted / measured) over left-out sizes
    in_sample_error: float  # weighted RMS of log residuals of the most likely curve
    noise: float  # log-SD used for the likelihood (repeats, residuals, floor)
    loo_by_fraction: dict[float, float]
    candidates: list[dict[str, Any]]
    prediction: Quantiles
    exponent: Quantiles  # posterior of the local exponent at the target
    samples: np.ndarray = field(repr=False)  # predictive draws at the target (for costs)
    extrapolation_ratio: float = 1.0
    fixed_measured: bool = False
    warnings: list[str] = field(default_factory=list)
    basis: str = "wall"  # what was fitted: wall seconds, or CPU seconds converted to wall
    wall_per_cpu: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity, "model": self.curve.model, "basis": self.basis,
            "wall_per_cpu": self.wall_per_cpu,
            "formula": MODEL_FORMULAS[self.curve.model] + "  (x = size / target size)",
            "parameters": self.curve.parameters(),
            "fixed_part": {"value": self.curve.a,
                           "measured": self.fixed_measured},
            "exponent_at_target": self.exponent.to_dict(),
            "error": {"loo_rms_log": self.loo_error, "in_sample_rms_log": self.in_sample_error,
                      "noise_log_sd": self.noise,
                      "loo_by_fraction": {str(k): v for k, v in self.loo_by_fraction.items()}},
            "candidates": self.candidates, "prediction": self.prediction.to_dict(),
        }


# -- the grid of growth laws and their weighted least-squares fits ----------------------------
def _basis(model: str, param: float, x: np.ndarray) -> np.ndarray:
    if model == "power":
        return np.power(x, param)
    return x * np.maximum(np.log(x * param), 0.0) / math.log(param)


def _grid(x: np.ndarray, prior: GrowthPrior = ROWS_PRIOR
          ) -> tuple[list[tuple[str, float]], np.ndarray, np.ndarray]:
    """Every (family, parameter), its growth basis at x (G x n) and its log prior weight.

    The prior on the exponent (the local one at x = 1 for n log n, whose points cover about
    1.05-1.3 as densely as the power grid does) is a broad Gaussian around linear growth,
    EXPONENT_PRIOR_SD wide: it decides only when the runs cannot (a single growing size), and
    moves a well-measured exponent by a few hundredths.
    """
    items = [("power", float(k)) for k in POWER_GRID]
    if "nlogn" in prior.laws:  # only where x*N > e at every measured size (else meaningless)
        items += [("nlogn", float(n)) for n in NLOGN_GRID if n * float(x.min()) > math.e]
    basis = np.vstack([_basis(m, p, x) for m, p in items])
    exps = np.array([k if m == "power" else 1.0 + 1.0 / math.log(k) for m, k in items])
    logp = -0.5 * ((exps - EXPONENT_PRIOR_CENTRE) / prior.exponent_sd) ** 2
    return items, basis, logp - np.logaddexp.reduce(logp)


def _fit_fb(basis: np.ndarray, y: np.ndarray, w: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best F, b >= 0 for y ~ F + b*basis on weighted relative error, for each row (G x n).

    Returns F, b, the weighted sum of squared log residuals, and the variance factor of the
    prediction (for the F/b uncertainty, see `_prediction_sd`) as the inverse normal matrix
    entries (G x 3: s_FF, s_Fb, s_bb).
    """
    sw = np.sqrt(w)
    u = sw / y  # column of F
    q = basis * u  # column of b, G x n
    r = sw  # target: (F + b g)/y = 1
    s11 = float(u @ u)
    s12, s22 = q @ u, np.einsum("gn,gn->g", q, q)
    t1, t2 = float(u @ r), q @ r
    det = s11 * s22 - s12 * s12
    ok = det > 1e-12 * s11 * np.maximum(s22, 1e-300)
    safe = np.where(ok, det, 1.0)
    f_free, b_free = (t1 * s22 - t2 * s12) / safe, (t2 * s11 - t1 * s12) / safe
    f_only = np.full(basis.shape[0], t1 / s11)
    b_only = np.where(s22 > 0, t2 / np.maximum(s22, 1e-300), 0.0)
    free_valid = ok & (f_free >= 0) & (b_free >= 0)
    f = np.where(free_valid, f_free, 0.0)
    b = np.where(free_valid, b_free, 0.0)
    # Where the free solution has a negative part, take the better of F = 0 or b = 0.
    fitted = f[:, None] + b[:, None] * basis
    sse = _sse(fitted, y, w)
    sse_f = _sse(np.broadcast_to(f_only[:, None], basis.shape), y, w)
    sse_b = _sse(b_only[:, None] * basis, y, w)
    use_f = ~free_valid & (sse_f <= sse_b)
    use_b = ~free_valid & ~use_f
    f = np.where(use_f, f_only, np.where(use_b, 0.0, f))
    b = np.where(use_b, b_only, np.where(use_f, 0.0, b))
    sse = np.where(use_f, sse_f, np.where(use_b, sse_b, sse))
    inv = np.stack([s22 / safe, -s12 / safe, np.full_like(s22, s11) / safe], axis=1)
    inv[~ok] = 0.0
    return f, b, sse, inv


def _sse(fitted: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    resid = np.log(np.maximum(fitted, 1e-12) / y)
    return np.sum(w * resid ** 2, axis=-1)


def size_weights(levels: np.ndarray, fixed_level: float | None) -> np.ndarray:
    """Largest sizes weigh most; the fixed-cost run weighs as much as the largest."""
    top = float(levels.max())
    w = np.clip((levels / top) ** SIZE_WEIGHT_POWER, MIN_TOP_WEIGHT, 1.0)
    if fixed_level is not None:
        w[np.isclose(levels, fixed_level)] = 1.0
    return w * levels.size / w.sum()


@dataclass
class _Posterior:
    items: list[tuple[str, float]]
    f: np.ndarray
    b: np.ndarray
    sse: np.ndarray
    inv: np.ndarray
    logp: np.ndarray  # normalised log posterior
    sigma: float

    @property
    def best(self) -> int:
        return int(np.argmax(self.logp))

    def curve(self, i: int) -> Curve:
        model, param = self.items[i]
        return Curve(model, float(self.f[i]), float(self.b[i]), param)


def _posterior(levels: np.ndarray, lows: np.ndarray, w: np.ndarray,
               repeat_sd: float, growth: GrowthPrior = ROWS_PRIOR,
               censored: Sequence[tuple[float, float]] = ()) -> _Posterior:
    items, basis, prior = _grid(levels, growth)
    f, b, sse, inv = _fit_fb(basis, lows, w)
    n = levels.size
    # Noise: repeats at one size, what the best curve leaves unexplained (3 parameters), floor.
    # The residual variance over few degrees of freedom is itself noisy (3 sizes leave none):
    # shrink it towards a stated prior, NOISE_PRIOR with the weight of NOISE_PRIOR_RUNS runs.
    resid_var = (float(sse.min()) + NOISE_PRIOR_RUNS * NOISE_PRIOR ** 2) / (
        max(n - 3, 0) + NOISE_PRIOR_RUNS)
    sigma = max(NOISE_FLOOR, repeat_sd, math.sqrt(resid_var))
    logp = prior - sse / (2 * sigma ** 2) + _censored_loglik(items, f, b, censored, sigma)
    logp -= np.logaddexp.reduce(logp)
    return _Posterior(items, f, b, sse, inv, logp, sigma)


def _censored_loglik(items: list[tuple[str, float]], f: np.ndarray, b: np.ndarray,
                     censored: Sequence[tuple[float, float]], sigma: float) -> np.ndarray:
    """Log-likelihood of runs stopped unfinished: each says only "at size x it takes longer
    than the `lower` seconds it ran". A law predicting less than that is unlikely by how many
    noise SDs it falls short (log of the normal survival function); one predicting more is
    not penalised. Dropping such a run would keep exactly the flat laws it rules out.

    F and b stay those fitted on the finished runs (an approximation: the grid of exponents
    carries the likelihood, and a law whose finished-run fit cannot reach the bound is the
    one to down-weight).
    """
    total = np.zeros(len(items))
    for x, lower in censored:
        g = np.array([_basis(m, p, np.array([x]))[0] for m, p in items])
        z = (np.log(np.maximum(f + b * g, 1e-12)) - math.log(max(lower, 1e-12))) / sigma
        total += _log_norm_cdf(z)
    return total


def _log_norm_cdf(z: np.ndarray) -> np.ndarray:
    """log Phi(z), stable in the far left tail (no scipy needed for one function)."""
    from math import erfc, log, pi, sqrt

    out = np.empty_like(z)
    for i, v in enumerate(z):
        if v > -30:
            out[i] = log(max(0.5 * erfc(-v / sqrt(2)), 1e-300))
        else:  # asymptotic: Phi(z) ~ phi(z) / |z|
            out[i] = -0.5 * v * v - log(-v) - 0.5 * log(2 * pi)
    return out


def fit_curve(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray,
              fixed_level: float | None = None) -> Curve:
    """The most likely curve through the fastest run at each size."""
    levels, lows, _ = envelope(np.asarray(x, float), np.asarray(y, float))
    post = _posterior(levels, lows, size_weights(levels, fixed_level), 0.0)
    return post.curve(post.best)


def _log_rms(values: Sequence[float] | np.ndarray) -> float:
    arr = np.asarray(values, dtype=float)
    return float(np.sqrt(np.mean(arr ** 2))) if arr.size else 0.0


def leave_one_out(levels: np.ndarray, lows: np.ndarray, fixed_level: float | None,
                  prior: GrowthPrior = ROWS_PRIOR) -> dict[float, float]:
    """log(predicted / measured) at each growing size when it is left out of the fit, beyond
    what the left-out fit's own uncertainty there explains (0 when within 2 SD).

    Leaving out the largest is a real extrapolation test. The fixed-cost run is never left
    out (without it the rest cannot separate F from the growth), and a fit needs three sizes.
    A fit of fewer sizes is loose: its prediction at the left-out size spreads as its
    posterior does (the exponents the remaining sizes allow), and a miss inside that spread
    says the remaining runs could not pin the law, not that the law bends.
    """
    errors: dict[float, float] = {}
    for i, level in enumerate(levels):
        if fixed_level is not None and math.isclose(level, fixed_level):
            continue
        keep = np.arange(levels.size) != i
        if keep.sum() < 3:
            continue
        post = _posterior(levels[keep], lows[keep], size_weights(levels[keep], fixed_level),
                          0.0, prior)
        g = np.array([_basis(m, p, np.array([level]))[0] for m, p in post.items])
        logs = np.log(np.maximum(post.f + post.b * g, 1e-12))
        weights = np.exp(post.logp)
        centre = float(weights @ logs)
        spread = math.hypot(math.sqrt(float(weights @ (logs - centre) ** 2)), post.sigma)
        error = centre - math.log(float(lows[i]))
        errors[float(level)] = math.copysign(max(0.0, abs(error) - 2 * spread), error)
    return errors


def repeat_noise(x: np.ndarray, y: np.ndarray) -> float:
    """Log-SD of runs around their size's mean (pooled; 0 with single runs)."""
    dev, dof = 0.0, 0
    for level in np.unique(x):
        logs = np.log(y[x == level])
        dev += float(np.sum((logs - logs.mean()) ** 2))
        dof += logs.size - 1
    return math.sqrt(dev / dof) if dof else 0.0


def envelope(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct sizes, the fastest run at each, and each run's log excess over it.

    The cost does not fall as the size grows, so a size's fastest run is no slower than the
    fastest run at any larger size: where it was (a slowed fixed-cost run, measured
    2026-12-01: 2.23 s at x = 0.001 against 2.22 s at x = 0.01), the larger run's time is
    the better bound on it. Left as measured, one slowed run there hid the growth of the
    small sizes under an over-stated fixed cost.
    """
    levels, where = np.unique(x, return_inverse=True)
    lows = np.array([y[where == i].min() for i in range(levels.size)])
    lows = np.minimum.accumulate(lows[::-1])[::-1]
    return levels, lows, np.log(y / lows[where])


def fit_and_predict(x_values: Sequence[float], y_values: Sequence[float], target: float,
                    quantity: str, scale_data_part: float = 1.0, seed: int = 0,
                    fixed_level: float | None = None,
                    prior: GrowthPrior = ROWS_PRIOR,
                    censored: Sequence[tuple[float, float]] = ()) -> FitResult:
    """Fit the runs and predict `target` (x) with a P10/P50/P90 range.

    Other work on the machine only ever adds time, so the curve goes through the fastest run
    at each size (as `timeit` advises) and how much slower the other runs were is kept, as
    measured, for the scatter of a new run: P50 is a typical run under the same conditions.
    `scale_data_part` multiplies the growing part only (e.g. more epochs than were measured).
    `fixed_level` is the size of the fixed-cost run, when one was made. `censored` holds
    (x, value) of runs stopped before they finished (the budget's end): each is a lower bound.
    """
    x = np.asarray(x_values, dtype=float)
    y = np.maximum(np.asarray(y_values, dtype=float), 1e-6)
    if x.size == 0 or np.unique(x).size < 2:
        raise InputError("a fit needs runs at two or more sizes",
                         "give at least two fractions, e.g. --fractions 0.02,0.05,0.1")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0)):
        raise InputError("measured sizes and values must be positive finite numbers",
                         "check the runs (a NaN or a zero size cannot be fitted)")
    levels, lows, excess = envelope(x, y)
    if fixed_level is not None and not np.any(np.isclose(levels, fixed_level)):
        fixed_level = None
    w = size_weights(levels, fixed_level)
    noise = repeat_noise(x, y)
    # Repeats scatter upwards on a busy machine: only a share of it is the curve's noise.
    censored = [(float(cx), float(cy)) for cx, cy in censored
                if math.isfinite(cx) and math.isfinite(cy) and cx > 0 and cy > 0]
    post = _posterior(levels, lows, w, min(noise, 0.5) / 2, prior, censored)
    best = post.curve(post.best)
    loo = leave_one_out(levels, lows, fixed_level, prior)
    loo_error = _log_rms(list(loo.values()))
    ratio = target / float(levels.max())  # a stopped run bounds the law, it does not measure it
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(post.items), DRAWS, p=np.exp(post.logp))
    g_t = np.array([_basis(m, p, np.array([target]))[0] for m, p in post.items])[pick]
    f, b = post.f[pick], post.b[pick]
    mean = f + b * g_t * scale_data_part
    # F and b given the law: their linearised sampling error, relative to the prediction.
    inv = post.inv[pick]
    g_s = g_t * scale_data_part
    var = (inv[:, 0] + 2 * g_s * inv[:, 1] + g_s ** 2 * inv[:, 2]) * post.sigma ** 2
    fit_sd = np.sqrt(np.maximum(var, 0.0)) / np.maximum(mean, 1e-12)
    extra_sd = _extrapolation_sd(levels, ratio, loo, post.sigma)
    widen = 1.0
    warnings: list[str] = []
    if ratio > FAR_EXTRAPOLATION:
        warnings.append(f"{quantity}: the target is {ratio:.0f}x the largest measured size "
                        f"(over {FAR_EXTRAPOLATION:.0f}x); the range is widened by 1.5x, measure "
                        "a larger size (a larger --budget) to narrow it")
        widen *= 1.5
    spread = float(np.exp(excess.max()))
    if spread > NOISY_SPREAD:
        warnings.append(f"{quantity}: repeats at one size differ by up to {spread:.1f}x: the "
                        "machine is busy (or a multi-threaded job shares its cores), so the range "
                        "is very wide; calibrate on a quiet machine, with fewer threads (e.g. "
                        "OMP_NUM_THREADS=1) or with more repeats")
    share = _data_share(best, float(levels[-1]))
    if share < SMALL_SIGNAL_SHARE and ratio > 1:
        warnings.append(f"{quantity}: at the largest size only {share:.0%} of it grows "
                        "with the size (the rest is fixed: start-up time or baseline memory), so "
                        "growth is measured on a small signal; measure larger sizes")
    growing = levels.size - (1 if fixed_level is not None else 0)
    if growing < 2 and ratio > 1:
        warnings.append(f"{quantity}: only one growing size was measured, so the growth "
                        "exponent is not measured (the range is the stated prior's, around "
                        "linear growth): give a larger --budget for two or more sizes")
    if loo_error > POOR_FIT_LOG_ERROR:
        warnings.append(f"{quantity}: poor fit (leave-one-out error {math.expm1(loo_error):.0%}); "
                        "the range is widened by 1.5x; add repeats or larger sizes")
        widen *= 1.5
    # A new run scatters like the measured repeats did (busy-machine slow-downs), plus noise.
    scatter = rng.choice(excess, DRAWS) + rng.normal(0.0, 1.0, DRAWS) * np.sqrt(
        fit_sd ** 2 + extra_sd ** 2 + post.sigma ** 2)
    # Work in logs and clip: an exponent the runs cannot pin may put draws beyond any scale.
    logs = np.log(np.maximum(mean, 1e-9)) + scatter
    centre = float(np.median(logs))
    samples = np.exp(np.clip(centre + widen * (logs - centre), -50.0, 50.0))
    if fixed_level is not None and target > fixed_level:
        # The job costs at least what its fixed-cost run did (less the noise): widening a
        # loose fit must not predict less than the start-up alone.
        floor = float(lows[np.isclose(levels, fixed_level)][0]) * math.exp(-2 * post.sigma)
        samples = np.maximum(samples, floor)
    exps = np.array([Curve(m, 0.0, 1.0, p).local_exponent(target) for m, p in post.items])
    exponent = Quantiles.of(exps[pick])
    if exponent.p50 > SUPERLINEAR_EXPONENT and ratio > 1 and growing >= 2:
        warnings.append(f"{quantity}: grows superlinearly (exponent {exponent.p50:.1f}): such a "
                        "law often steepens past the measured sizes once the job outgrows a "
                        "cache (the CPU's, a solver's kernel cache), which smaller runs cannot "
                        "show, and the range assumes it does not (in mlscope's benchmark a "
                        "kernel SVM took 1.2-5x its P50 and a kernel ridge 1.4-1.7x, while a "
                        "brute-force kNN and a Ward clustering held theirs); plan on P90 or "
                        "more, or measure a larger size (a larger --budget)")
    residuals = np.log(np.maximum(best(levels), 1e-12) / lows)
    return FitResult(
        quantity, best, loo_error, float(np.sqrt(np.sum(w * residuals ** 2) / w.sum())),
        post.sigma, loo, _candidates(post), Quantiles.of(samples),
        exponent, samples, ratio, fixed_level is not None, warnings)


def _candidates(post: _Posterior) -> list[dict[str, Any]]:
    """Per family: its posterior weight and most likely parameters."""
    out = []
    for family in MODEL_FORMULAS:
        idx = [i for i, (m, _) in enumerate(post.items) if m == family]
        if not idx:
            continue
        best = max(idx, key=lambda i: post.logp[i])
        out.append({"model": family, "formula": MODEL_FORMULAS[family],
                    "weight": float(np.exp(np.logaddexp.reduce(post.logp[idx]))),
                    "parameters": post.curve(best).parameters()})
    return out


def _data_share(curve: Curve, x: float) -> float:
    """Share of the fitted cost at x that grows with the size (not the fixed part)."""
    total = float(curve(x))
    return 0.0 if total <= 0 else (total - curve.a) / total


def _extrapolation_sd(levels: np.ndarray, ratio: float, loo: dict[float, float],
                      sigma: float) -> float:
    """Log-SD of the curve's own error at the target, beyond the measured sizes.

    A stated prior adds EXTRAPOLATION_SD_PER_DECADE per tenfold step past the largest size.
    When leaving out the largest size misses by more than the noise explains, the law is
    bending in a way the grid does not capture; that excess grows with how much further out
    the target is than the largest size was from the next one down.
    """
    if ratio <= 1:
        return 0.0
    prior = EXTRAPOLATION_SD_PER_DECADE * math.log10(ratio)
    top = float(levels[-1])
    if top not in loo or levels.size < 2:
        return prior
    below = float(levels[-2])
    reach = math.log(ratio) / math.log(top / below)
    misfit = abs(loo[top]) * reach  # the miss beyond what the left-out fit's spread explains
    return math.hypot(prior, misfit)
