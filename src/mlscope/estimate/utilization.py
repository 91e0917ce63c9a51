"""Model FLOPs utilization (MFU) as a distribution, calibrated on published training runs.

log(MFU) = a[generation] + c · clip(log10(count) - 3) + noise,  noise ~ Normal(0, sigma).

MFU is measured against *model* FLOPs -- 6·N·D plus the attention term 6·L·s·h·D, through the
same `training_flops` the estimator uses -- and with the parallel strategy's modelled time
factor (pipeline bubble, tensor-parallel cost) divided out, so an estimate that multiplies the
strategy back in counts it once. The generation intercepts start from literature priors
(whole-run utilization of tuned dense LLM runs on A100/H100 ~0.30-0.45, V100-era ~0.20;
shared/reference/README) and are pulled toward the runs by a Huber-weighted ridge fit, so one
odd run cannot drag a whole generation.

sigma comes from *grouped* cross-validation: each model family is left out in turn and
predicted by a fit on the others, because runs of one family share an efficiency and leaving
one run out inside a family is optimistic. The P10-P90 range therefore reflects how far a new
family falls from the fit. Runs marked in the `fit` column as not one clean pass (restarts,
long-context stages, distillation) are loaded but never fitted.

The fit runs at build time (`tools/build_catalog.py --fit`) and ships as
`catalog/data/utilization_fit.json`; `default_model()` reads it, and a test checks that
refitting the packaged runs gives the shipped coefficients.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlscope.catalog import data_file, data_text, get_catalog
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
# A run whose accelerator count is not published is taken at this many (scale feature 0).
UNKNOWN_COUNT = 1000
FIT_FILE = "utilization_fit.json"


@dataclass(frozen=True)
class Run:
    name: str
    params: float  # active parameters for MoE
    tokens: float
    accelerator: str
    generation: str
    peak_tflops: float
    count: int | None
    accelerator_hours: float
    source: str
    organization: str = ""
    family: str = ""
    seq_len: int = 2048
    fitted: bool = True
    excluded_why: str = ""
    model_flops: float = 0.0  # 6·N·D + attention, from the estimator's own formula
    strategy_factor: float = 1.0  # the planner's modelled time factor at this run's count

    @property
    def mfu(self) -> float:
        """Utilization against model FLOPs (with the modelled strategy factor divided out)."""
        flops = self.model_flops or 6.0 * self.params * self.tokens
        return flops * self.strategy_factor / (
            self.accelerator_hours * 3600.0 * self.peak_tflops * 1e12)


@dataclass(frozen=True)
class UtilizationModel:
    intercepts: dict[str, float]  # log MFU per generation
    count_slope: float
    sigma: float
    fitted_generations: frozenset[str]
    n_runs: int

    def median(self, generation: str, count: int | None) -> float:
        a = self.intercepts.get(generation, math.log(PRIORS.get(generation, PRIORS["other"])))
        return min(math.exp(a + self.count_slope * _count_feature(count)), 0.75)

    def distribution(self, generation: str, count: int | None) -> tuple[float, float]:
        """(median MFU, sigma of log MFU) for a run on `count` accelerators of a generation."""
        sigma = self.sigma if generation in self.fitted_generations else PRIOR_SIGMA
        return self.median(generation, count), sigma

    def quantiles(self, generation: str, count: int | None) -> dict[str, float]:
        median, sigma = self.distribution(generation, count)
        return {"p10": median * math.exp(-Z90 * sigma), "p50": median,
                "p90": min(0.9, median * math.exp(Z90 * sigma))}

    def to_dict(self) -> dict[str, Any]:
        return {"intercepts": self.intercepts, "count_slope": self.count_slope,
                "sigma": self.sigma, "fitted_generations": sorted(self.fitted_generations),
                "n_runs": self.n_runs}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UtilizationModel:
        return cls({k: float(v) for k, v in d["intercepts"].items()}, float(d["count_slope"]),
                   float(d["sigma"]), frozenset(d["fitted_generations"]), int(d["n_runs"]))


def _count_feature(count: int | None) -> float:
    c = min(max(count or UNKNOWN_COUNT, COUNT_RANGE[0]), COUNT_RANGE[1])
    return math.log10(c) - 3.0


def runs_text() -> str:
    return data_text("published_runs.csv")


def _strategy_factor(params: float, seq_len: int, count: int, capacity_gb: float) -> float:
    """The planner's time factor for a run like this one (1 when no strategy fits)."""
    from mlscope.estimate.memory import Workload, plan
    from mlscope.estimate.shapes import resolve_shape

    found = plan(Workload(resolve_shape(params=params), "bf16", 1, seq_len), capacity_gb,
                 count, 8)
    return found.time_factor if found is not None else 1.0


def load_runs(include_excluded: bool = False) -> list[Run]:
    """The packaged runs (only those fitted, unless `include_excluded`)."""
    from mlscope.estimate.flops import training_flops
    from mlscope.estimate.shapes import resolve_shape

    catalog = get_catalog()
    runs = []
    for r in csv.DictReader(runs_text().splitlines()):
        acc = catalog.accelerator(r["accelerator"])
        fit_flag = (r.get("fit") or "yes").strip()
        if fit_flag != "yes" and not include_excluded:
            continue
        total = float(r["params"])
        active = float(r["active_params"]) if r["active_params"] else None
        tokens = float(r["tokens"])
        seq = int(r.get("seq_len") or 2048)
        count = int(r["count"]) if r["count"] else None
        shape = resolve_shape(params=total, active_params=active)
        flops = training_flops(shape, tokens, seq).model_flops
        runs.append(Run(
            name=r["name"], params=active or total, tokens=tokens, accelerator=acc.name,
            generation=acc.generation, peak_tflops=acc.peak_tflops("bf16"), count=count,
            accelerator_hours=float(r["accelerator_hours"]), source=r["source"],
            organization=r.get("organization", ""), family=r.get("family") or r["name"],
            seq_len=seq, fitted=fit_flag == "yes",
            excluded_why=fit_flag[3:].strip() if fit_flag.startswith("no") else "",
            model_flops=flops,
            strategy_factor=_strategy_factor(active or total, seq, count or UNKNOWN_COUNT,
                                             acc.memory_gb),
        ))
    return runs


def _fit_coefficients(runs: list[Run]) -> tuple[dict[str, float], float]:
    import numpy as np  # only when fitting: estimates read the shipped fit

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
    return {g: round(float(beta[i]), 10) for i, g in enumerate(gens)}, round(float(beta[-1]), 10)


def _predict_log(intercepts: dict[str, float], slope: float, run: Run) -> float:
    a = intercepts.get(run.generation, math.log(PRIORS.get(run.generation, PRIORS["other"])))
    return a + slope * _count_feature(run.count)


def grouped_residuals(runs: list[Run], key: Callable[[Run], str] = lambda r: r.family
                      ) -> list[float]:
    """log(actual MFU) - log(predicted) for each run, fitted without its whole group."""
    out = []
    for group in _groups(runs, key):
        train = [r for r in runs if key(r) != group]
        intercepts, slope = _fit_coefficients(train)
        out += [math.log(r.mfu) - _predict_log(intercepts, slope, r)
                for r in runs if key(r) == group]
    return out


def _groups(runs: Iterable[Run], key: Callable[[Run], str]) -> list[str]:
    return sorted({key(r) for r in runs})


def fit(runs: list[Run]) -> UtilizationModel:
    intercepts, slope = _fit_coefficients(runs)
    resid = grouped_residuals(runs)
    sigma = round(math.sqrt(sum(r * r for r in resid) / len(resid)), 10)
    counts = Counter(r.generation for r in runs)
    # A generation with fewer than MIN_RUNS_FOR_SIGMA runs keeps the wider prior sigma.
    fitted = frozenset(g for g, n in counts.items() if n >= MIN_RUNS_FOR_SIGMA)
    return UtilizationModel(intercepts, slope, sigma, fitted, len(runs))


def runs_digest() -> str:
    """A hash of the packaged runs and accelerators, to tell a stale shipped fit."""
    h = hashlib.sha256(runs_text().encode())
    h.update(data_file("accelerators.csv").read_bytes())
    return h.hexdigest()[:16]


def shipped_fit() -> dict[str, Any]:
    text = data_text(FIT_FILE)
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def default_model() -> UtilizationModel:
    """The shipped fit (computed at build time; refit only if the data changed since)."""
    try:
        data = shipped_fit()
    except FileNotFoundError:
        return fit(load_runs())
    if data.get("runs_digest") != runs_digest():
        return fit(load_runs())
    return UtilizationModel.from_dict(data["model"])


def build_fit_file() -> dict[str, Any]:
    """What tools/build_catalog.py writes to catalog/data/utilization_fit.json."""
    model = fit(load_runs())
    return {"about": "log-MFU fit of catalog/data/published_runs.csv; see "
                     "mlscope.estimate.utilization", "runs_digest": runs_digest(),
            "model": model.to_dict()}
