"""Efficiencies fitted on published measurements (data/measurements.csv), by device class.

Decode is memory-bound, with a second term for what is not: time per token =
  runtime_factor x (a x bytes/bandwidth + b x overhead),
where overhead is the layer count on GPUs (kernel launches and synchronisation, about 0.2 ms a
layer on Apple GPUs at batch 1) and the matrix-vector work over the int8 dot-product peak on
CPUs (a Pi 4's Cortex-A72 has no SDOT and is compute-bound where a Pi 5 is not). `1/a` is the
bandwidth efficiency. Prefill is compute-bound: tokens/s = e x peak / (2 x params).

Each class is fitted by non-negative least squares on relative error (a >= 1: nothing streams
faster than its theoretical bandwidth; on CPUs a is fixed at 1, see CPU_BANDWIDTH_A); a class
with too few rows borrows the bandwidth efficiency (or everything) from the pooled fit of its
kind, with a wider spread. Runtime factors (Ollama, MLC) are medians of log-ratios to the class
fits, alternated with them. A class's spread is the larger of its residual log-errors widened
by `SPREAD_WIDENING` and the error when each of its families is refitted without (a new device
is such a family); a fit resting on one family gets at least `ONE_FAMILY_SIGMA`. Only rows of
quality "measured" are fitted. `fit()` takes a row filter so the benchmark can refit with one
device family left out.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from mlscope.catalog.devices import CPU_CLASSES, Device, device
from mlscope.estimate.inference.models import LlmModel, resolve_model
from mlscope.estimate.inference.quant import quant

SPREAD_WIDENING = 1.5  # predictive spread / in-sample spread (one global choice, see the note)
MIN_SIGMA = 0.12
# A fit that rests on one device family cannot show how far another family strays: assume a
# wide spread (P90/P50 = 1.9) rather than the family's own small scatter.
ONE_FAMILY_SIGMA = 0.5
# CPUs: the bandwidth and compute terms both scale with model size, so two Pi generations
# cannot separate them; the fits on all rows put the bandwidth coefficient at its bound (full
# theoretical bandwidth), so it is fixed there and only the compute coefficient is fitted.
CPU_BANDWIDTH_A = 1.0
DECODE_POSITION = 64  # llama-bench tg128 starts from an empty cache: mean position 64
RUNTIMES = ("llama.cpp", "ollama", "mlc")
FITTED_RUNTIMES = ("ollama", "mlc")  # time-per-token factors relative to llama.cpp
GPU_KIND = "gpu"
CPU_KIND = "cpu"


def kind_of(device_class: str) -> str:
    return CPU_KIND if device_class in CPU_CLASSES else GPU_KIND


@dataclass(frozen=True)
class Measurement:
    device: str
    model: str
    quant: str
    runtime: str
    metric: str  # decode_tps | prefill_tps
    value: float
    test: str
    source: str
    quality: str = "measured"  # "approximate": a quoted range or "about"; kept out of the fit

    def dev(self) -> Device:
        return device(self.device)

    def llm(self) -> LlmModel:
        return resolve_model(self.model)


@lru_cache(maxsize=1)
def measurements() -> tuple[Measurement, ...]:
    text = (resources.files("mlscope.estimate.inference") / "data" / "measurements.csv").read_text()
    return tuple(Measurement(r["device"], r["model"], r["quant"], r["runtime"], r["metric"],
                             float(r["value"]), r["test"], r["source"], r["quality"])
                 for r in csv.DictReader(text.splitlines()))


def decode_features(dev: Device, model: LlmModel, bits_per_weight: float,
                    position: float = DECODE_POSITION) -> tuple[float, float]:
    """(seconds per token at full bandwidth, overhead feature) for one decode step."""
    if not dev.bandwidth_gbs:
        raise ValueError(f"{dev.id} has no bandwidth figure")
    read = model.params_read_per_token * bits_per_weight / 8 + model.kv_bytes_per_token() * position
    x1 = read / (dev.bandwidth_gbs * 1e9)
    if kind_of(dev.device_class) == CPU_KIND:
        if not dev.compute_tflops:
            raise ValueError(f"{dev.id} has no compute figure")
        x2 = 2 * model.flops_params / (dev.compute_tflops * 1e12)
    else:
        x2 = float(model.layers) * 1e-3  # in ms-per-layer units, so b reads as ms a layer
    return x1, x2


@dataclass
class DecodeFit:
    a: float  # 1 / bandwidth efficiency
    b: float  # overhead coefficient
    sigma: float
    rows: int
    families: tuple[str, ...]
    borrowed: str = ""  # what came from the pooled fit of the kind ("" = nothing)


@dataclass
class PrefillFit:
    efficiency: float
    sigma: float
    rows: int
    families: tuple[str, ...]
    borrowed: bool = False


@dataclass
class Fits:
    decode: dict[str, DecodeFit]  # by class, plus "kind:gpu" / "kind:cpu" pooled
    prefill: dict[str, PrefillFit]
    runtime_factor: dict[str, tuple[float, float]]  # runtime -> (time multiplier, extra sigma)
    n_decode: int
    n_prefill: int
    runtime_basis: dict[str, str] = field(default_factory=dict)  # runtime -> where it was fitted

    def decode_for(self, device_class: str) -> DecodeFit:
        return self.decode.get(device_class) or self.decode[f"kind:{kind_of(device_class)}"]

    def prefill_for(self, device_class: str) -> PrefillFit:
        return self.prefill.get(device_class) or self.prefill[f"kind:{kind_of(device_class)}"]


def _nnls2(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least squares y ~ x @ [a, b] with a, b >= 0 (two unknowns: try the faces)."""
    best: tuple[float, float, float] | None = None
    sol, *_ = np.linalg.lstsq(x, y, rcond=None)
    candidates = []
    if sol[0] >= 0 and sol[1] >= 0:
        candidates.append((float(sol[0]), float(sol[1])))
    for j in (0, 1):
        col = x[:, j]
        denom = float(col @ col)
        if denom > 0:
            coef = max(0.0, float(col @ y) / denom)
            candidates.append((coef, 0.0) if j == 0 else (0.0, coef))
    for a, b in candidates:
        err = float(np.sum((x @ np.array([a, b]) - y) ** 2))
        if best is None or err < best[2]:
            best = (a, b, err)
    assert best is not None
    return best[0], best[1]


def _spread(log_errors: list[float], params: int) -> float:
    n = len(log_errors)
    if n == 0:
        return 0.5
    rms = math.sqrt(sum(e * e for e in log_errors) / n)
    dof = math.sqrt(n / (n - params)) if n > params else 2.0
    return max(MIN_SIGMA, rms * dof * SPREAD_WIDENING)


def _fit_decode_rows(rows: list[tuple[float, float, float, str]],
                     fixed_a: float | None = None) -> tuple[float, float, list[float]]:
    """rows: (x1, x2, measured seconds per token / runtime factor, family).

    a >= 1: no device streams faster than its theoretical bandwidth; b >= 0. With `fixed_a`
    (a class with too few rows) only the overhead coefficient is fitted.
    """
    x = np.array([[r[0] / r[2], r[1] / r[2]] for r in rows])
    if fixed_a is not None:
        a = fixed_a
        col, rest = x[:, 1], 1.0 - x[:, 0] * a
        denom = float(col @ col)
        b = max(0.0, float(col @ rest) / denom) if denom > 0 else 0.0
    else:
        extra, b = _nnls2(x, 1.0 - x[:, 0])  # fit a - 1 >= 0 and b >= 0
        a = 1.0 + extra
    errs = [math.log((a * r[0] + b * r[1]) / r[2]) for r in rows]
    return a, b, errs


def _cross_family_spread(rows: list[tuple[float, float, float, str]], pooled_a: float) -> float:
    """How far a family the class fit has not seen strays: refit without each family in turn
    (training rows only) and take the RMS log-error on it. A new device is such a family."""
    errs: list[float] = []
    cpu = pooled_a == CPU_BANDWIDTH_A
    for fam in sorted({r[3] for r in rows}):
        train = [r for r in rows if r[3] != fam]
        held = [r for r in rows if r[3] == fam]
        if not train:
            continue
        if not cpu and len(train) >= 4 and len({r[3] for r in train}) >= 2:
            a, b, _ = _fit_decode_rows(train)
        else:
            a, b, _ = _fit_decode_rows(train, fixed_a=pooled_a)
        errs += [math.log((a * r[0] + b * r[1]) / r[2]) for r in held]
    if not errs:
        return MIN_SIGMA
    return max(MIN_SIGMA, math.sqrt(sum(e * e for e in errs) / len(errs)))


def fit(keep: Callable[[Measurement], bool] | None = None,
        rows: Iterable[Measurement] | None = None) -> Fits:
    """Fit every class on the measurements `keep` accepts (all by default)."""
    data = [m for m in (rows if rows is not None else measurements())
            if m.quality == "measured" and (keep is None or keep(m))]
    dec = [m for m in data if m.metric == "decode_tps"]
    pre = [m for m in data if m.metric == "prefill_tps"]
    feats = []
    for m in dec:
        d = m.dev()
        x1, x2 = decode_features(d, m.llm(), quant(m.quant).bits_per_weight)
        feats.append((m, d, x1, x2, 1.0 / m.value))
    factors = {r: 1.0 for r in RUNTIMES}
    decode: dict[str, DecodeFit] = {}
    for _ in range(4):  # alternate: device-class coefficients, then runtime factors
        decode = _fit_decode_classes(feats, factors)
        for runtime in FITTED_RUNTIMES:
            ratios = [math.log(t / _pred(decode, d, x1, x2)) for m, d, x1, x2, t in feats
                      if m.runtime == runtime]
            if len(ratios) >= 3:  # the median: one odd source must not move every class
                factors[runtime] = math.exp(statistics.median(ratios))
    # Ollama and MLC rows come from other people's machines, versions and settings: their
    # scatter beyond the class fit is the runtime's own spread (added in quadrature).
    runtime_factor: dict[str, tuple[float, float]] = {"llama.cpp": (1.0, 0.0)}
    basis: dict[str, str] = {}
    for runtime in FITTED_RUNTIMES:
        classes = sorted({d.device_class for m, d, *_ in feats if m.runtime == runtime})
        n = sum(1 for m, *_ in feats if m.runtime == runtime)
        basis[runtime] = (f"fitted on {n} {runtime} runs ({', '.join(classes)})" if n >= 3
                          else f"no {runtime} runs gathered: the llama.cpp fit, wider range")
        residuals = [math.log(t / (factors[runtime] * _pred(decode, d, x1, x2)))
                     for m, d, x1, x2, t in feats if m.runtime == runtime]
        if len(residuals) >= 3:
            rms = math.sqrt(sum(r * r for r in residuals) / len(residuals))
            runtime_factor[runtime] = (factors[runtime], max(0.05, rms * SPREAD_WIDENING))
        else:  # no measurements: the llama.cpp fit with a wider spread
            runtime_factor[runtime] = (1.0, 0.30)
    prefill = _fit_prefill(pre)
    return Fits(decode, prefill, runtime_factor, len(dec), len(pre), basis)


def _pred(decode: dict[str, DecodeFit], d: Device, x1: float, x2: float) -> float:
    f = decode.get(d.device_class) or decode[f"kind:{kind_of(d.device_class)}"]
    return f.a * x1 + f.b * x2


def _fit_decode_classes(feats: list[tuple[Measurement, Device, float, float, float]],
                        factors: dict[str, float]) -> dict[str, DecodeFit]:
    out: dict[str, DecodeFit] = {}
    by_kind: dict[str, list[tuple[float, float, float, str]]] = {}
    by_class: dict[str, list[tuple[float, float, float, str]]] = {}
    for m, d, x1, x2, t in feats:
        row = (x1, x2, t / factors.get(m.runtime, 1.0), d.family)
        by_kind.setdefault(kind_of(d.device_class), []).append(row)
        by_class.setdefault(d.device_class, []).append(row)
    for kind in (GPU_KIND, CPU_KIND):
        rows = by_kind.get(kind, [])
        if rows:
            a, b, errs = _fit_decode_rows(rows, fixed_a=CPU_BANDWIDTH_A if kind == CPU_KIND
                                          else None)
            fams = tuple(sorted({r[3] for r in rows}))
            sigma = _spread(errs, 2) * 1.5
            if len(fams) < 2:
                sigma = max(sigma, ONE_FAMILY_SIGMA)
            out[f"kind:{kind}"] = DecodeFit(a, b, sigma, len(rows), fams, "all")
        else:
            out[f"kind:{kind}"] = DecodeFit(2.0, 0.0, 0.6, 0, (), "all")
    for cls, rows in by_class.items():
        pooled = out[f"kind:{kind_of(cls)}"]
        families = tuple(sorted({r[3] for r in rows}))
        if kind_of(cls) == CPU_KIND:
            a, b, errs = _fit_decode_rows(rows, fixed_a=CPU_BANDWIDTH_A)
            sigma = max(_spread(errs, 1), _cross_family_spread(rows, CPU_BANDWIDTH_A))
            if len(families) < 2:
                sigma = max(sigma, ONE_FAMILY_SIGMA)
            out[cls] = DecodeFit(a, b, sigma, len(rows), families)
        elif len(rows) >= 4 and len(families) >= 2:
            a, b, errs = _fit_decode_rows(rows)
            sigma = max(_spread(errs, 2), _cross_family_spread(rows, pooled.a))
            out[cls] = DecodeFit(a, b, sigma, len(rows), families)
        else:
            a, b, errs = _fit_decode_rows(rows, fixed_a=pooled.a)
            sigma = max(_spread(errs, 1), pooled.sigma)
            if len(families) < 2:
                sigma = max(sigma, ONE_FAMILY_SIGMA)
            out[cls] = DecodeFit(a, b, sigma, len(rows), families, "bandwidth efficiency")
    return out


def prefill_efficiency(d: Device, model: LlmModel, tokens_per_s: float) -> float:
    if not d.compute_tflops:
        raise ValueError(f"{d.id} has no compute figure")
    return tokens_per_s * 2 * model.flops_params / (d.compute_tflops * 1e12)


def _fit_prefill(pre: list[Measurement]) -> dict[str, PrefillFit]:
    logs_by_class: dict[str, list[tuple[float, str]]] = {}
    for m in pre:
        d = m.dev()
        e = prefill_efficiency(d, m.llm(), m.value)
        logs_by_class.setdefault(d.device_class, []).append((math.log(e), d.family))
    out: dict[str, PrefillFit] = {}
    for kind in (GPU_KIND, CPU_KIND):
        vals = [v for cls, rows in logs_by_class.items() if kind_of(cls) == kind for v in rows]
        if vals:
            mu = sum(v for v, _ in vals) / len(vals)
            errs = [v - mu for v, _ in vals]
            out[f"kind:{kind}"] = PrefillFit(math.exp(mu), _spread(errs, 1) * 1.5, len(vals),
                                             tuple(sorted({f for _, f in vals})), True)
        else:
            out[f"kind:{kind}"] = PrefillFit(0.3, 0.8, 0, (), True)
    for cls, vals in logs_by_class.items():
        mu = sum(v for v, _ in vals) / len(vals)
        errs = [v - mu for v, _ in vals]
        families = tuple(sorted({f for _, f in vals}))
        sigma = _spread(errs, 1)
        if len(families) < 2:
            sigma = max(sigma, out[f"kind:{kind_of(cls)}"].sigma, ONE_FAMILY_SIGMA)
        out[cls] = PrefillFit(math.exp(mu), sigma, len(vals), families)
    return out


@lru_cache(maxsize=1)
def default_fits() -> Fits:
    """The fit on every measurement, made once per process (a few milliseconds)."""
    return fit()
