"""The statistics of an A/B test, one function per formula, each with its source.

- Sample ratio mismatch: Pearson's chi-squared goodness of fit of the unit counts against the
  configured weights (scipy.stats.chisquare); alert below p = 0.001, the industry default.
- Relative lift (treatment / control - 1) by the delta method, with a Welch-Satterthwaite t
  interval — the frequentist engine GrowthBook documents.
- Always-valid inference: the asymptotic confidence sequence of Waudby-Smith et al. (2023,
  "Time-uniform central limit theory", eq. 9, with rho from eq. 161), whose tuning parameter is
  the sample size at which the sequence is tightest (default: the planned total).
- Chance to win: P(lift > 0) under the normal approximation of the lift with a flat prior.
- CUPED (Deng et al. 2013): y - theta (x - mean x), theta = cov(y, x) / var(x), pooled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Summary:
    name: str
    n: int
    mean: float
    variance: float  # sample variance (ddof = 1)


def summarize(name: str, values: npt.ArrayLike) -> Summary:
    arr = np.asarray(values, dtype=np.float64)
    var = float(arr.var(ddof=1)) if len(arr) > 1 else 0.0
    return Summary(name, len(arr), float(arr.mean()) if len(arr) else math.nan, var)


@dataclass(frozen=True)
class SrmResult:
    statistic: float
    p_value: float
    mismatch: bool


def sample_ratio_mismatch(counts: list[int], weights: list[float],
                          alpha: float = SRM_ALPHA) -> SrmResult:
    total = sum(counts)
    expected = [total * w / sum(weights) for w in weights]
    stat, p = stats.chisquare(counts, expected)
    return SrmResult(float(stat), float(p), bool(p < alpha))


@dataclass(frozen=True)
class Lift:
    estimate: float  # relative: treatment mean / control mean - 1
    se: float
    dof: float
    ci_low: float
    ci_high: float
    p_value: float
    chance_to_win: float


def _relative_se(control: Summary, treatment: Summary) -> tuple[float, float]:
    """Delta-method SE of mean_t / mean_c - 1 and its Welch-Satterthwaite degrees of freedom."""
    mc, mt = control.mean, treatment.mean
    vt = treatment.variance / treatment.n / mc**2
    vc = mt**2 * control.variance / control.n / mc**4
    se = math.sqrt(vt + vc)
    num = (treatment.variance / treatment.n + control.variance / control.n) ** 2
    den = ((treatment.variance / treatment.n) ** 2 / max(treatment.n - 1, 1)
           + (control.variance / control.n) ** 2 / max(control.n - 1, 1))
    dof = num / den if den > 0 else math.inf
    return se, dof


def relative_lift(control: Summary, treatment: Summary, alpha: float = 0.05) -> Lift:
    """Fixed-horizon Welch t inference on the relative lift."""
    est = treatment.mean / control.mean - 1
    se, dof = _relative_se(control, treatment)
    if se == 0:
        return Lift(est, 0.0, dof, est, est, 1.0 if est == 0 else 0.0,
                    0.5 if est == 0 else float(est > 0))
    t = stats.t(df=min(dof, 1e7))
    half = float(t.ppf(1 - alpha / 2)) * se
    p = float(2 * t.sf(abs(est) / se))
    return Lift(est, se, dof, est - half, est + half, p, float(stats.norm.cdf(est / se)))


def _rho(alpha: float, tuning: float) -> float:
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def cs_halfwidth(se: float, n: int, tuning: float, alpha: float) -> float:
    """Half-width of the asymptotic confidence sequence at n total units (two-sided)."""
    s2 = se**2 * n  # per-unit variance of the estimator
    rho2 = _rho(alpha, tuning) ** 2
    width = 2 * (n * rho2 + 1) / (n**2 * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha)
    return math.sqrt(s2 * width)


def sequential_lift(control: Summary, treatment: Summary, tuning: float,
                    alpha: float = 0.05) -> Lift:
    """Always-valid interval and p-value for the relative lift (peek as often as you like)."""
    fixed = relative_lift(control, treatment, alpha)
    n = control.n + treatment.n
    if fixed.se == 0:
        return fixed
    half = cs_halfwidth(fixed.se, n, tuning, alpha)
    # The always-valid p-value is the smallest alpha whose sequence excludes zero.
    def excess(a: float) -> float:
        return cs_halfwidth(fixed.se, n, tuning, a) - abs(fixed.estimate)
    if excess(1 - 1e-12) > 0:
        p = 1.0
    elif excess(1e-300) < 0:
        p = 0.0
    else:
        p = float(optimize.brentq(lambda la: excess(math.exp(la)), math.log(1e-300),
                                  math.log(1 - 1e-12), xtol=1e-10))
        p = math.exp(p)
    return Lift(fixed.estimate, fixed.se, fixed.dof, fixed.estimate - half,
                fixed.estimate + half, min(1.0, p), fixed.chance_to_win)


def cuped(y: npt.ArrayLike, x: npt.ArrayLike) -> np.ndarray:
    """CUPED-adjusted metric; same mean, lower variance when x predicts y."""
    ya = np.asarray(y, dtype=np.float64)
    xa = np.asarray(x, dtype=np.float64)
    vx = xa.var(ddof=1)
    if vx == 0:
        return ya
    theta = np.cov(ya, xa, ddof=1)[0, 1] / vx
    return ya - theta * (xa - xa.mean())
