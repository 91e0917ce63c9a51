"""Convert what was measured here into hours and dollars on AWS instances.

CPU work scales by Amdahl's law with the parallel fraction measured here (a serial run against
a run on all CPUs), by the instance's vCPUs, and by a per-family speed factor: the speed of one
vCPU of that family relative to one CPU of this machine. The factors are stated assumptions
(rough, from the families' processors and clock speeds), shown in the output and overridable.
GPU work scales by relative peak FP32 FLOPs and memory bandwidth when a GPU was measured here.
"""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlscope.errors import InputError, require

# vCPU speed relative to one CPU of the machine that measured (assumed a recent server core,
# e.g. AMD EPYC Zen 4/5 at ~3.5+ GHz). Processor per family from AWS's instance type pages.
FAMILY_SPEED: dict[str, tuple[float, str]] = {
    "c5": (0.75, "Intel Xeon Platinum 8124M/8275CL (Skylake/Cascade Lake), up to 3.6 GHz"),
    "m5": (0.70, "Intel Xeon Platinum 8175M/8259CL (Skylake/Cascade Lake), 3.1 GHz"),
    "r5": (0.70, "Intel Xeon Platinum 8175M/8259CL (Skylake/Cascade Lake), 3.1 GHz"),
    "t3": (0.70, "Intel Xeon Skylake/Cascade Lake 3.1 GHz, burstable: sustained speed is the "
                 "baseline share (20-40 %) unless unlimited mode or credits cover the run"),
    "c6i": (0.85, "Intel Xeon 8375C (Ice Lake), 3.5 GHz"),
    "m6i": (0.85, "Intel Xeon 8375C (Ice Lake), 3.5 GHz"),
    "r6i": (0.85, "Intel Xeon 8375C (Ice Lake), 3.5 GHz"),
    "g4dn": (0.65, "Intel Xeon Cascade Lake, 2.5 GHz"),
    "g5": (0.70, "AMD EPYC 7R32 (Zen 2), 3.3 GHz"),
    "g6": (0.80, "AMD EPYC 7R13 (Zen 3)"),
    "g6e": (0.80, "AMD EPYC 7R13 (Zen 3)"),
    "g6f": (0.80, "AMD EPYC 7R13 (Zen 3)"),
    "p3": (0.55, "Intel Xeon E5-2686 v4 (Broadwell), 2.3 GHz"),
    "p3dn": (0.70, "Intel Xeon Platinum 8175M (Skylake), 2.5 GHz"),
    "p4d": (0.70, "Intel Xeon Platinum 8275CL (Cascade Lake), 3.0 GHz"),
    "p4de": (0.70, "Intel Xeon Platinum 8275CL (Cascade Lake), 3.0 GHz"),
    "p5": (0.80, "AMD EPYC 7R13 (Zen 3)"),
    "p5en": (0.85, "Intel Xeon Sapphire Rapids"),
}
DEFAULT_SPEED = (0.70, "family not in mlscope's table: a generic older server core")
# Share of an instance's memory a job can use (the OS, page cache and agents keep the rest).
USABLE_MEMORY_SHARE = 0.9


def family_of(instance_type: str) -> str:
    return instance_type.removeprefix("ml.").split(".")[0].lower()


def parse_speed_factors(items: tuple[str, ...] | list[str]) -> dict[str, float]:
    """['c6i=0.9', 'm5=0.6'] -> {'c6i': 0.9, 'm5': 0.6}."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            factor = float(value)
        except ValueError:
            factor = math.nan
        if not sep or not name.strip() or not (factor > 0 and math.isfinite(factor)):
            raise InputError(f"bad speed factor '{item}'",
                             "write FAMILY=FACTOR with a positive factor, e.g. c6i=0.9")
        out[name.strip().lower()] = factor
    return out


def catalog_accelerator(nvml_name: str) -> str | None:
    """'NVIDIA H100 80GB HBM3' -> 'H100-SXM5-80GB': the catalog's name for an NVML device name.

    Vendor words are dropped and the rest tried as a catalog name or alias, longest first.
    """
    from mlscope.catalog import get_catalog

    words = [w for w in nvml_name.replace("_", " ").split()
             if w.lower() not in ("nvidia", "tesla", "geforce")]
    cat = get_catalog()
    for end in range(len(words), 0, -1):
        found = cat.find_accelerator("-".join(words[:end]))
        if found is not None:
            return found.name
    return None


def machine_description() -> dict[str, Any]:
    psutil = require("psutil", "calibrate")

    from mlscope.estimate.empirical.plan import available_cpus

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu_model": model, "cpus": available_cpus(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)}


@dataclass
class Parallelism:
    """Amdahl's parallel fraction p: time(n) = time(1) * ((1 - p) + p / n)."""

    fraction: float
    cpus_here: int
    method: str  # "serial-run" (measured), "cpu-time" (from CPU/wall), "assumed"
    detail: str = ""

    def speedup(self, n: float) -> float:
        return 1.0 / ((1.0 - self.fraction) + self.fraction / max(n, 1.0))

    def to_dict(self) -> dict[str, Any]:
        return {"parallel_fraction": self.fraction, "cpus_here": self.cpus_here,
                "method": self.method, "detail": self.detail}


def amdahl_fraction(t_serial: float, t_parallel: float, n: int) -> float:
    if n <= 1 or t_serial <= 0:
        return 0.0
    return float(np.clip((1.0 - t_parallel / t_serial) / (1.0 - 1.0 / n), 0.0, 1.0))


@dataclass
class InstanceEstimate:
    instance_type: str
    region: str
    vcpus: int
    memory_gib: float
    accelerator: str | None
    speed_factor: float
    speed_basis: str
    hours: dict[str, float]
    usd_on_demand: dict[str, float] | None
    usd_spot: dict[str, float] | None  # with spot interruptions (mlscope.pricing's model)
    fits_memory: bool
    price_source: str
    notes: list[str] = field(default_factory=list)
    usd_savings_1y: dict[str, float] | None = None
    usd_savings_3y: dict[str, float] | None = None
    spot_wall_clock_hours: dict[str, float] | None = None
    price_assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _quantiles(values: np.ndarray) -> dict[str, float]:
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90)}


def estimate_instance(instance_type: str, region: str | None, seconds_here: np.ndarray,
                      peak_rss_mb_p90: float | None, parallel: Parallelism,
                      speed_overrides: dict[str, float], gpu_share: float = 0.0,
                      gpu_here: str | None = None,
                      peak_gpu_mb_p90: float | None = None,
                      measured_on: str | None = None) -> InstanceEstimate:
    """Hours and dollars on one instance, from the predictive draws of seconds here."""
    from mlscope.catalog import get_catalog

    cat = get_catalog()
    inst = cat.instance(instance_type, region)
    family = family_of(inst.instance_type)
    if family in speed_overrides:
        speed, basis = speed_overrides[family], "given with --speed-factor"
    else:
        speed, basis = FAMILY_SPEED.get(family, DEFAULT_SPEED)
    notes: list[str] = []
    # Time on one CPU here, then on the instance's vCPUs at the family's speed.
    cpu_scale = parallel.speedup(parallel.cpus_here) / parallel.speedup(inst.vcpus) / speed
    gpu_scale = 1.0
    if gpu_share > 0 and gpu_here and inst.accelerator:
        gpu_scale = _gpu_ratio(gpu_here, inst.accelerator, inst.accelerator_count)
        notes.append(f"GPU part scaled by peak FP32 and bandwidth, {gpu_here} -> "
                     f"{inst.accelerator_count:g}x {inst.accelerator} (assumes the job uses all "
                     "of them)")
    elif gpu_share > 0 and inst.accelerator:
        notes.append("the GPU here is not in mlscope's catalog: the GPU part is not scaled")
    elif gpu_share > 0:
        notes.append("the job used a GPU here but this instance has none: the GPU part is "
                     "counted at CPU speed, which is optimistic")
    elif inst.accelerator:
        notes.append("measured without a GPU: assumes the job stays on the CPUs")
    if measured_on is not None and measured_on.lower() == inst.instance_type.lower():
        # Measured on this very instance type: no conversion of speed or CPUs.
        cpu_scale, gpu_scale, speed = 1.0, 1.0, 1.0
        basis = "measured on this instance type (--on sagemaker)"
        notes = [n for n in notes if not n.startswith("GPU part scaled")]
    if family == "t3":
        notes.append("burstable: a long run may be throttled to the baseline CPU share")
    seconds = seconds_here * ((1.0 - gpu_share) * cpu_scale + gpu_share * gpu_scale)
    hours = seconds / 3600.0
    usable_mb = inst.memory_gib * 1024 * USABLE_MEMORY_SHARE
    fits = peak_rss_mb_p90 is None or peak_rss_mb_p90 <= usable_mb
    if peak_rss_mb_p90 is None:
        notes.append("peak memory was not measured (SageMaker's API reports none): not checked")
    elif not fits:
        notes.append(f"predicted peak memory (P90 {peak_rss_mb_p90:,.0f} MB) exceeds "
                     f"{USABLE_MEMORY_SHARE:.0%} of {inst.memory_gib:g} GiB")
    if peak_gpu_mb_p90 is not None and peak_gpu_mb_p90 > 0:
        acc = cat.find_accelerator(inst.accelerator) if inst.accelerator else None
        if acc is None:
            fits = False
            notes.append(f"the job needs GPU memory (P90 {peak_gpu_mb_p90:,.0f} MB) and this "
                         "instance has no GPU mlscope knows")
        elif peak_gpu_mb_p90 > acc.memory_gb * 1e9 / 2**20 * USABLE_MEMORY_SHARE:
            # One device's memory: a job that does not shard its model needs it on each GPU.
            fits = False
            notes.append(f"predicted GPU memory (P90 {peak_gpu_mb_p90:,.0f} MB) exceeds "
                         f"{USABLE_MEMORY_SHARE:.0%} of one {acc.name} ({acc.memory_gb:g} GB)")
    return InstanceEstimate(
        instance_type=inst.instance_type, region=inst.region, vcpus=inst.vcpus,
        memory_gib=inst.memory_gib, accelerator=inst.accelerator, speed_factor=speed,
        speed_basis=basis, hours=_quantiles(hours), fits_memory=fits,
        price_source=f"{inst.price_quality}, {inst.date}", notes=notes, **_dollars(inst, hours))


def _dollars(inst: Any, hours: np.ndarray) -> dict[str, Any]:
    """Dollars by purchase option through `mlscope.pricing`, the one home for prices.

    The predicted hours become a lognormal range (median and the P10-P90 spread of the
    draws) so that pricing's own ranges (spot price uplift, interruptions, savings plan
    rates) combine with them the same way as in the analytic estimator and the cost engine.
    """
    from mlscope.core.ranges import Z90, Range
    from mlscope.pricing import run_price

    p10, p50, p90 = (float(v) for v in np.quantile(hours, [0.1, 0.5, 0.9]))
    wall = Range(p50, math.log(max(p90, 1e-12) / max(p10, 1e-12)) / (2 * Z90))
    out: dict[str, Any] = {"price_assumptions": []}
    for purchase, key in (("on-demand", "usd_on_demand"), ("spot", "usd_spot"),
                          ("savings-1y", "usd_savings_1y"), ("savings-3y", "usd_savings_3y")):
        priced = run_price(inst, purchase, 1, wall)
        out[key] = priced.cost_usd.to_dict() if priced else None
        if priced is None:
            continue
        if purchase == "spot":
            out["spot_wall_clock_hours"] = priced.wall_clock_hours.to_dict()
        out["price_assumptions"] += [a for a in priced.assumptions
                                     if a not in out["price_assumptions"]]
    return out


def _gpu_ratio(here: str, there: str, count: float) -> float:
    """Time there / time here for GPU-bound work: geometric mean of FLOPs and bandwidth ratios."""
    from mlscope.catalog import get_catalog

    cat = get_catalog()
    a, b = cat.accelerator(here), cat.accelerator(there)
    ratios = [a.peak_tflops("fp32") / b.peak_tflops("fp32")]
    if a.bandwidth_gbs and b.bandwidth_gbs:
        ratios.append(a.bandwidth_gbs / b.bandwidth_gbs)
    return float(np.exp(np.mean(np.log(ratios)))) / max(count, 1.0)
