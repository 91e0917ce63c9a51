"""Paired bootstrap confidence interval for "is the candidate better than the champion?".

Both versions answer the same requests, so the statistic is the mean of per-request
differences; resampling requests (not versions) keeps the pairing. A gate passes only when the
interval's lower bound clears the required improvement, so noise does not promote a model.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlscope.errors import EngineMissingError, InputError


@dataclass(frozen=True)
class BootstrapResult:
    mean_difference: float  # candidate - champion
    low: float
    high: float
    confidence: float
    n: int
    method: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_bootstrap(candidate: npt.ArrayLike, champion: npt.ArrayLike,
                     confidence: float = 0.95, resamples: int = 2000,
                     seed: int = 0) -> BootstrapResult:
    """CI of mean(candidate - champion) over paired per-request values (BCa, seeded)."""
    cand = np.asarray(candidate, dtype=np.float64)
    champ = np.asarray(champion, dtype=np.float64)
    if cand.shape != champ.shape or cand.ndim != 1:
        raise InputError("paired values must be two 1-D arrays of the same length")
    if len(cand) < 2:
        raise InputError(f"a bootstrap needs at least 2 paired requests, got {len(cand)}")
    if not (0.5 < confidence < 1.0):
        raise InputError(f"confidence must be between 0.5 and 1, got {confidence}")
    if not np.all(np.isfinite(cand)) or not np.all(np.isfinite(champ)):
        raise InputError("per-request metric values contain NaN or infinity")
    diff = cand - champ
    mean = float(diff.mean())
    if np.allclose(diff, diff[0]):
        # No spread: every resample has the same mean, and BCa is undefined.
        return BootstrapResult(mean, mean, mean, confidence, len(diff), "degenerate")
    try:
        from scipy import stats
    except ImportError as exc:  # pragma: no cover - scipy ships with the recommender extra
        raise EngineMissingError("the bootstrap needs scipy", "pip install scipy") from exc
    rng = np.random.default_rng(seed)
    method = "BCa"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap((diff,), np.mean, confidence_level=confidence,
                              n_resamples=resamples, method="BCa", random_state=rng,
                              vectorized=True)
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if not (np.isfinite(low) and np.isfinite(high)):
            method = "percentile"
            res = stats.bootstrap((diff,), np.mean, confidence_level=confidence,
                                  n_resamples=resamples, method="percentile",
                                  random_state=np.random.default_rng(seed), vectorized=True)
            low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return BootstrapResult(mean, low, high, confidence, len(diff), method)
