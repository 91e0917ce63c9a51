"""Model FLOPs utilization (MFU) as a distribution, calibrated on published training runs.

log(MFU) = a[generation] + c · clip(log10(count) - 3) + noise,  noise ~ Normal(0, sigma).

The generation intercepts start from literature priors (whole-run utilization of tuned dense
LLM runs on A100/H100 ~0.30-0.45, V100-era ~0.20; shared/reference/README) and are pulled
toward the published runs by a Huber-weighted ridge fit, so one odd run cannot drag a whole
generation. Model size was tried as a feature and did not lower the leave-one-out error.
sigma comes from leave-one-out residuals, so the P10-P90 range reflects how far a new run
falls from the fit, not how well the fit memorises its own data. Generations without
published runs keep their prior and a wider sigma.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from mlscope.catalog import get_catalog
from mlscope.core.ranges import Z90

PRIORS = {
    "ampere": 0.40, "hopper": 0.33, "blackwell": 0.30, "volta": 0.20, "turing": 0.22,
    "ada": 0.30, "tpu": 0.33, "trainium": 0.30, "inferentia": 0.25, "gaudi": 0.30,
    "cdna3": 0.28, "kepler": 0.10, "apple": 0.20, "cpu": 0.15, "other": 0.25,
}
PRIOR_SIGMA = 0.35  # for generations with no calibration run
RIDGE = 1.0
HUBER = 0.3
COUNT_RANGE = (8, 16384)  # counts seen in the calibration runs; the scale term is clipped to it
MIN_RUNS_FOR_SIGMA = 3


@dataclass(frozen=True)
class Run:
    name: str
    params: float
    tokens: float
    accelerator: str
    generation: str
    peak_tflops: float
    count: int | None
    accelerator_hours: float
    source: str

    @property
    def mfu(self) -> float:
        return 6.0 * self.params * self.tokens / (
            self.accelerator_hours * 3600.0 * self.peak_tflops * 1e12)


@dataclass(frozen=True)
class UtilizationModel:
    intercepts: dict[str, float]  # log MFU per generation
    count_slope: float
    sigma: float
    fitted_generations: frozenset[str]
    n_runs: int

    def distribution(self, generation: str, count: int | None) -> tuple[float, float]:
        """(median MFU, sigma of log MFU) for a run on `count` accelerators of a generation."""
        a = self.intercepts.get(generation, math.log(PRIORS.get(generation, PRIORS["other"])))
        median = math.exp(a + self.count_slope * _count_feature(count))
        sigma = self.sigma if generation in self.fitted_generations else PRIOR_SIGMA
        return min(median, 0.75), sigma

    def quantiles(self, generation: str, count: int | None) -> dict[str, float]:
        median, sigma = self.distribution(generation, count)
        return {"p10": median * math.exp(-Z90 * sigma), "p50": median,
                "p90": min(0.9, median * math.exp(Z90 * sigma))}


def _count_feature(count: int | None) -> float:
    if not count:
        return 0.0
    c = min(max(count, COUNT_RANGE[0]), COUNT_RANGE[1])
    return math.log10(c) - 3.0


def load_runs() -> list[Run]:
    text = (resources.files("mlscope.catalog") / "data" / "published_runs.csv").read_text()
    catalog = get_catalog()
    runs = []
    for r in csv.DictReader(text.splitlines()):
        acc = catalog.accelerator(r["accelerator"])
        runs.append(Run(
            name=r["name"], params=float(r["active_params"] or r["params"]),
            tokens=float(r["tokens"]), accelerator=acc.name, generation=acc.generation,
            peak_tflops=acc.peak_tflops("bf16"), count=int(r["count"]) if r["count"] else None,
            accelerator_hours=float(r["accelerator_hours"]), source=r["source"],
        ))
    return runs


def _fit_coefficients(runs: list[Run]) -> tuple[dict[str, float], float]:
    gens = sorted({r.generation for r in runs})
    x = np.array([[1.0 if r.generation == g else 0.0 for g in gens] + [_count_feature(r.count)]
                  for r in runs])
    y = np.log([r.mfu for r in runs])
    prior = np.array([math.log(PRIORS.get(g, PRIORS["other"])) for g in gens] + [0.0])
    reg = np.eye(len(gens) + 1) * RIDGE
    reg[-1, -1] = RIDGE * 0.01  # the scale slope is barely shrunk
    w = np.ones(len(runs))
    beta = prior
    for _ in range(50):  # iteratively reweighted least squares with Huber weights
        xw = x.T * w
        beta = np.linalg.solve(xw @ x + reg, xw @ y + reg @ prior)
        resid = np.abs(y - x @ beta)
        w = np.where(resid <= HUBER, 1.0, HUBER / np.maximum(resid, 1e-12))
    return {g: float(beta[i]) for i, g in enumerate(gens)}, float(beta[-1])


def leave_one_out_residuals(runs: list[Run]) -> list[float]:
    """log(actual MFU) - log(predicted MFU) for each run, fitted without it."""
    out = []
    for i, run in enumerate(runs):
        intercepts, slope = _fit_coefficients(runs[:i] + runs[i + 1:])
        a = intercepts.get(run.generation, math.log(PRIORS.get(run.generation, 0.25)))
        out.append(math.log(run.mfu) - (a + slope * _count_feature(run.count)))
    return out


def fit(runs: list[Run]) -> UtilizationModel:
    intercepts, slope = _fit_coefficients(runs)
    resid = np.array(leave_one_out_residuals(runs))
    sigma = float(np.sqrt(np.mean(resid**2)))
    counts = Counter(r.generation for r in runs)
    # A generation with fewer than MIN_RUNS_FOR_SIGMA runs keeps the wider prior sigma.
    fitted = frozenset(g for g, n in counts.items() if n >= MIN_RUNS_FOR_SIGMA)
    return UtilizationModel(intercepts, slope, sigma, fitted, len(runs))


@lru_cache(maxsize=1)
def default_model() -> UtilizationModel:
    return fit(load_runs())
