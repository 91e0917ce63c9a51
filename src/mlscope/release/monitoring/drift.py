"""Data drift per feature between a reference window and a current window.

The test is chosen per feature as Evidently documents its defaults, so a team can compare:
with at most 1,000 rows in the reference, a two-sample Kolmogorov-Smirnov test for numeric
features and Pearson's chi-squared test for categorical ones (drift at p < 0.05); with more
rows, where tests flag differences too small to matter, distances with a threshold instead —
the Wasserstein distance normed by the reference's standard deviation for numeric features and
the Jensen-Shannon distance for categorical ones (drift at 0.1). The population stability index
(PSI, 10 quantile bins of the reference) is reported beside numeric features as the
credit-risk convention (0.1 moderate, 0.25 significant). scipy computes every statistic.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import spatial, stats

from mlscope.errors import InputError

SMALL_SAMPLE = 1000
P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
MAX_NUMERIC_AS_CATEGORY = 5  # a numeric column with at most this many values is categorical


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    kind: str  # numeric | categorical
    test: str
    statistic: float
    p_value: float | None
    distance: float | None
    threshold: float
    drift: bool
    psi: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "test": self.test,
                               "statistic": self.statistic, "threshold": self.threshold,
                               "drift": self.drift}
        if self.p_value is not None:
            out["p_value"] = self.p_value
        if self.distance is not None:
            out["distance"] = self.distance
        if self.psi is not None:
            out["psi"] = self.psi
        return out


def _as_numeric(values: list[object]) -> np.ndarray | None:
    try:
        arr = np.asarray([float(v) for v in values if v is not None], dtype=np.float64)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if any(isinstance(v, bool) for v in values):
        return None
    return arr


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        return 0.0
    edges[0], edges[-1] = -np.inf, np.inf
    ref = np.histogram(reference, edges)[0] / len(reference)
    cur = np.histogram(current, edges)[0] / len(current)
    ref, cur = np.clip(ref, 1e-4, None), np.clip(cur, 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def feature_drift(name: str, reference: list[object], current: list[object]) -> FeatureDrift:
    if len(reference) < 2 or len(current) < 2:
        raise InputError(f"feature '{name}' has fewer than 2 values in a window",
                         "give windows with at least a few rows each")
    ref_num, cur_num = _as_numeric(reference), _as_numeric(current)
    small = len(reference) <= SMALL_SAMPLE
    numeric = (ref_num is not None and cur_num is not None
               and len(np.unique(ref_num)) > MAX_NUMERIC_AS_CATEGORY)
    if numeric:
        assert ref_num is not None and cur_num is not None
        if not (np.isfinite(ref_num).all() and np.isfinite(cur_num).all()):
            raise InputError(f"feature '{name}' has NaN or infinite values",
                             "drop or impute them before comparing windows")
        index = psi(ref_num, cur_num)
        if small:
            res = stats.ks_2samp(ref_num, cur_num)
            return FeatureDrift(name, "numeric", "ks", float(res.statistic), float(res.pvalue),
                                None, P_THRESHOLD, bool(res.pvalue < P_THRESHOLD), index)
        sd = float(ref_num.std(ddof=1)) or 1.0
        dist = float(stats.wasserstein_distance(ref_num, cur_num)) / sd
        return FeatureDrift(name, "numeric", "wasserstein", dist, None, dist,
                            DISTANCE_THRESHOLD, dist >= DISTANCE_THRESHOLD, index)
    ref_c = Counter(str(v) for v in reference)
    cur_c = Counter(str(v) for v in current)
    cats = sorted(set(ref_c) | set(cur_c))
    r = np.asarray([ref_c[c] for c in cats], dtype=np.float64)
    c = np.asarray([cur_c[k] for k in cats], dtype=np.float64)
    if small:
        if len(cats) < 2:
            return FeatureDrift(name, "categorical", "chi2", 0.0, 1.0, None, P_THRESHOLD, False)
        chi = stats.chi2_contingency(np.vstack([r, c]))
        return FeatureDrift(name, "categorical", "chi2", float(chi.statistic),
                            float(chi.pvalue), None, P_THRESHOLD, bool(chi.pvalue < P_THRESHOLD))
    dist = float(spatial.distance.jensenshannon(r / r.sum(), c / c.sum(), base=2))
    dist = 0.0 if math.isnan(dist) else dist
    return FeatureDrift(name, "categorical", "jensen-shannon", dist, None, dist,
                        DISTANCE_THRESHOLD, dist >= DISTANCE_THRESHOLD)


def dataset_drift(reference: dict[str, list[object]],
                  current: dict[str, list[object]]) -> list[FeatureDrift]:
    return [feature_drift(n, reference[n], current[n]) for n in reference]
