"""Model FLOPs utilization (MFU) as a distribution, calibrated on published training runs.

log(MFU) = a[generation] + e · [software stack from 2023 on] + noise,
noise ~ Normal(0, sigma[software era]).

MFU is measured against *model* FLOPs as PaLM defines them (6·N·D plus the attention term
12·L·s·h·D; Chowdhery et al. 2022, appendix B), through the same `training_flops` the
estimator uses, and with the parallel strategy's modelled time factor (pipeline bubble,
tensor-parallel cost) divided out, so an estimate that multiplies the strategy back in counts
it once. The generation intercepts start from literature priors (whole-run utilization of tuned
dense LLM runs on A100/H100 ~0.30-0.45, V100-era ~0.20; shared/reference/README) and are pulled
toward the runs by a Huber-weighted ridge fit, so one odd run cannot drag a whole generation.

The software term: runs that finished in 2023 or later reached ~1.3x the utilization of
earlier runs on the same hardware (fused and flash attention kernels, bf16 and FSDP/ZeRO as the
default, PyTorch 2). A run planned today is on that stack (`software_era="modern"`); older runs
are priced with `"pre-2023"`. The step was chosen after looking at these runs; the accuracy
benchmark prints the fit without it beside the fit with it. An earlier scale term (log of the
accelerator count) was dropped: it made leave-one-family-out error worse.

sigma comes from *grouped* cross-validation: each model family is left out in turn and
predicted by a fit on the others, because runs of one family share an efficiency and leaving
one run out inside a family is optimistic. The P10-P90 range therefore reflects how far a new
family falls from the fit. It depends on the accelerator count and the software era:

    sigma(count, era) = level[era] · (count / 1000) ** -count_exponent,

count clamped to the counts the runs span. Runs on a few nodes (one-node llm.c and nanoGPT
runs, phi-1.5 on 32 GPUs, TinyLlama on 16) land anywhere from 0.4x to 1.6x the fit -- tuned
hobby code beside first attempts -- while runs of hundreds to thousands of accelerators, by
teams with tuned stacks, mostly sit within ~20 % of it; one band for both was too wide for the large
runs and too narrow for the small ones. The exponent is chosen by the held-out residuals'
Gaussian likelihood on a grid (0-0.5), the level per era so that the P10-P90 band holds 80 %
of them. Modern runs keep their own level because they scatter more than the pre-2023 runs,
which were all large, tuned projects. Runs marked in the `fit` column as not one clean pass
(restarts, long-context stages, distillation) are loaded but never fitted.

The fit runs at build time (`tools/build_catalog.py --fit`) and ships as
`catalog/data/utilization_fit.json`; `default_model()` reads it, and a test checks that
refitting the packaged runs gives the shipped coefficients.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlscope.catalog import data_file, data_text, get_catalog
from mlscope.core.ranges import Z90
from mlscope.errors import InputError

PRIORS = {
    "ampere": 0.40, "hopper": 0.33, "blackwell": 0.30, "volta": 0.20, "turing": 0.22,
    "ada": 0.30, "tpu": 0.33, "trainium": 0.30, "inferentia": 0.25, "gaudi": 0.30,
    "cdna3": 0.28, "cdna2": 0.25, "kepler": 0.10, "apple": 0.20, "cpu": 0.15, "other": 0.25,
}
PRIOR_SIGMA = 0.35  # for generations with no calibration run
RIDGE = 1.0
HUBER = 0.3
MIN_RUNS_FOR_SIGMA = 3
MIN_RUNS_FOR_ERA_SIGMA = 8
# A run whose accelerator count is not published is planned at this many; the sigma levels
# are stated at the same count.
UNKNOWN_COUNT = 1000
REF_COUNT = UNKNOWN_COUNT
# The count exponents tried for the band (0 = one band for every count).
COUNT_EXPONENTS = tuple(i / 50 for i in range(26))
# Software stacks: runs that finished in MODERN_FROM or later are "modern".
SOFTWARE_ERAS = ("modern", "pre-2023")
MODERN_FROM = 2023
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
    year: int = MODERN_FROM
    fitted: bool = True
    excluded_why: str = ""
    model_flops: float = 0.0  # 6·N·D + attention, from the estimator's own formula
    strategy_factor: float = 1.0  # the planner's modelled time factor at this run's count

    @property
    def software_era(self) -> str:
        return "modern" if self.year >= MODERN_FROM else "pre-2023"

    @property
    def mfu(self) -> float:
        """Utilization against model FLOPs (with the modelled strategy factor divided out)."""
        flops = self.model_flops or 6.0 * self.params * self.tokens
        return flops * self.strategy_factor / (
            self.accelerator_hours * 3600.0 * self.peak_tflops * 1e12)


@dataclass(frozen=True)
class UtilizationModel:
    intercepts: dict[str, float]  # log MFU per generation, pre-2023 software
    modern_step: float  # log MFU gained by a software stack from 2023 on
    sigma: dict[str, float]  # of log MFU, per software era, at REF_COUNT accelerators
    fitted_generations: frozenset[str]
    n_runs: int
    count_exponent: float = 0.0  # sigma ~ count ** -count_exponent
    count_range: tuple[int, int] = (REF_COUNT, REF_COUNT)  # the counts the runs span

    def median(self, generation: str, software_era: str = "modern") -> float:
        a = self.intercepts.get(generation, math.log(PRIORS.get(generation, PRIORS["other"])))
        return min(math.exp(a + self.modern_step * _era_feature(software_era)), 0.75)

    def sigma_at(self, software_era: str = "modern", count: int | None = None) -> float:
        """The band's sigma of log MFU for a run on `count` accelerators (None: unknown)."""
        return self.sigma[check_software_era(software_era)] * _count_scale(
            count, self.count_exponent, self.count_range)

    def distribution(self, generation: str, software_era: str = "modern",
                     count: int | None = None) -> tuple[float, float]:
        """(median MFU, sigma of log MFU) for a run on `count` accelerators of a generation."""
        fitted_sigma = self.sigma_at(software_era, count)
        sigma = fitted_sigma if generation in self.fitted_generations else max(PRIOR_SIGMA,
                                                                               fitted_sigma)
        return self.median(generation, software_era), sigma

    def quantiles(self, generation: str, software_era: str = "modern",
                  count: int | None = None) -> dict[str, float]:
        median, sigma = self.distribution(generation, software_era, count)
        return {"p10": median * math.exp(-Z90 * sigma), "p50": median,
                "p90": min(0.9, median * math.exp(Z90 * sigma))}

    def to_dict(self) -> dict[str, Any]:
        return {"intercepts": self.intercepts, "modern_step": self.modern_step,
                "sigma": self.sigma, "count_exponent": self.count_exponent,
                "count_range": list(self.count_range),
                "fitted_generations": sorted(self.fitted_generations), "n_runs": self.n_runs}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UtilizationModel:
        lo, hi = d.get("count_range", (REF_COUNT, REF_COUNT))
        return cls({k: float(v) for k, v in d["intercepts"].items()}, float(d["modern_step"]),
                   {k: float(v) for k, v in d["sigma"].items()},
                   frozenset(d["fitted_generations"]), int(d["n_runs"]),
                   float(d.get("count_exponent", 0.0)), (int(lo), int(hi)))


def _count_scale(count: int | None, exponent: float, span: tuple[int, int]) -> float:
    """How much wider the band is at `count` than at REF_COUNT (never extrapolated)."""
    n = min(max(count or REF_COUNT, span[0]), span[1])
    return float((n / REF_COUNT) ** -exponent)


def check_software_era(software_era: str) -> str:
    if software_era not in SOFTWARE_ERAS:
        raise InputError(f"unknown software era '{software_era}'",
                         f"use one of {', '.join(SOFTWARE_ERAS)}")
    return software_era


def _era_feature(software_era: str) -> float:
    return 1.0 if check_software_era(software_era) == "modern" else 0.0


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
            seq_len=seq, year=int(r.get("year") or MODERN_FROM), fitted=fit_flag == "yes",
            excluded_why=fit_flag[3:].strip() if fit_flag.startswith("no") else "",
            model_flops=flops,
            strategy_factor=_strategy_factor(active or total, seq, count or UNKNOWN_COUNT,
                                             acc.memory_gb),
        ))
    return runs


def _fit_coefficients(runs: list[Run], software: bool = True) -> tuple[dict[str, float], float]:
    """Generation intercepts and the software step (0 and not fitted when `software` is off)."""
    import numpy as np  # only when fitting: estimates read the shipped fit

    gens = sorted({r.generation for r in runs})
    step = (lambda r: _era_feature(r.software_era)) if software else (lambda r: 0.0)
    x = np.array([[1.0 if r.generation == g else 0.0 for g in gens] + [step(r)]
                  for r in runs])
    y = np.log([r.mfu for r in runs])
    prior = np.array([math.log(PRIORS.get(g, PRIORS["other"])) for g in gens] + [0.0])
    reg = np.eye(len(gens) + 1) * RIDGE
    reg[-1, -1] = RIDGE * 0.01  # the software step is barely shrunk
    w = np.ones(len(runs))
    beta = prior
    for _ in range(50):  # iteratively reweighted least squares with Huber weights
        xw = x.T * w
        beta = np.linalg.solve(xw @ x + reg, xw @ y + reg @ prior)
        resid = np.abs(y - x @ beta)
        w = np.where(resid <= HUBER, 1.0, HUBER / np.maximum(resid, 1e-12))
    return {g: round(float(beta[i]), 10) for i, g in enumerate(gens)}, round(float(beta[-1]), 10)


def _predict_log(intercepts: dict[str, float], step: float, run: Run) -> float:
    a = intercepts.get(run.generation, math.log(PRIORS.get(run.generation, PRIORS["other"])))
    return a + step * _era_feature(run.software_era)


def held_out_residuals(runs: list[Run], key: Callable[[Run], str] = lambda r: r.family,
                       software: bool = True) -> list[tuple[Run, float]]:
    """(run, log(actual MFU) - log(predicted)) for each run, fitted without its whole group."""
    out = []
    for group in _groups(runs, key):
        train = [r for r in runs if key(r) != group]
        intercepts, step = _fit_coefficients(train, software)
        out += [(r, math.log(r.mfu) - _predict_log(intercepts, step, r))
                for r in runs if key(r) == group]
    return out


def grouped_residuals(runs: list[Run], key: Callable[[Run], str] = lambda r: r.family,
                      software: bool = True) -> list[float]:
    """The held-out residuals alone."""
    return [e for _, e in held_out_residuals(runs, key, software)]


def _groups(runs: Iterable[Run], key: Callable[[Run], str]) -> list[str]:
    return sorted({key(r) for r in runs})


def fit(runs: list[Run], software: bool = True, count_band: bool = True) -> UtilizationModel:
    """The model fitted on `runs`; for ablation, `software=False` drops the software step and
    `count_band=False` gives every count the same band."""
    intercepts, step = _fit_coefficients(runs, software)
    resid = held_out_residuals(runs, software=software)
    known = [r.count or UNKNOWN_COUNT for r in runs]
    span = (min(known), max(known))
    exponents = COUNT_EXPONENTS if count_band else (0.0,)
    exponent, sigma = max(((k, _era_levels(resid, k, span)) for k in exponents),
                          key=lambda ks: _log_likelihood(resid, ks[0], ks[1], span))
    counts = Counter(r.generation for r in runs)
    # A generation with fewer than MIN_RUNS_FOR_SIGMA runs keeps the wider prior sigma.
    fitted = frozenset(g for g, n in counts.items() if n >= MIN_RUNS_FOR_SIGMA)
    return UtilizationModel(intercepts, step, sigma, fitted, len(runs), exponent, span)


def _era_levels(resid: list[tuple[Run, float]], exponent: float, span: tuple[int, int]
                ) -> dict[str, float]:
    """Per-era sigma at REF_COUNT so the band holds 80 % of that era's held-out residuals."""
    scaled = [(r, abs(e) / _count_scale(r.count, exponent, span)) for r, e in resid]
    pooled = _coverage_sigma([z for _, z in scaled])
    levels = {}
    for era in SOFTWARE_ERAS:
        mine = [z for r, z in scaled if r.software_era == era]
        # An era with too few held-out runs to set its own band keeps the pooled one.
        levels[era] = round(_coverage_sigma(mine) if len(mine) >= MIN_RUNS_FOR_ERA_SIGMA
                            else pooled, 10)
    return levels


def _log_likelihood(resid: list[tuple[Run, float]], exponent: float,
                    levels: dict[str, float], span: tuple[int, int]) -> float:
    """Gaussian log-likelihood of the held-out residuals under the band (constants dropped)."""
    total = 0.0
    for r, e in resid:
        s = levels[r.software_era] * _count_scale(r.count, exponent, span)
        total -= math.log(s) + 0.5 * (e / s) ** 2
    return total


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


def _coverage_sigma(resid: list[float]) -> float:
    """The sigma whose P10-P90 band holds 80 % of the held-out residuals.

    Chosen on coverage rather than as the RMS because the residuals are heavy-tailed (a few
    runs, e.g. phi-1.5 and phi-2, sit far out): the RMS would widen every range for them and
    still miss them, while the band users read is the P10-P90 one.
    """
    # The 80th percentile of |residual|, interpolated linearly between order statistics.
    return statistics.quantiles([abs(r) for r in resid], n=10, method="inclusive")[7] / Z90
