"""Runs, the fit of time and memory, and per-instance estimates: one calibration result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mlscope.estimate.empirical.fit import FitResult, fit_and_predict
from mlscope.estimate.empirical.plan import available_cpus
from mlscope.estimate.empirical.targets import (
    InstanceEstimate,
    Parallelism,
    amdahl_fraction,
    estimate_instance,
    machine_description,
)


@dataclass
class Run:
    """One measured run of the training job at one data fraction."""

    fraction: float
    repeat: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int = 0
    threads: int | None = None  # None = all CPUs (default); 1 = the serial run
    warmup: bool = False  # warm-up runs fill caches and are left out of the fit
    gpu_s: float | None = None
    peak_gpu_mb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class CalibrationResult:
    command: list[str]
    target_fraction: float
    epochs: float
    runs: list[Run]
    seconds: FitResult
    memory: FitResult
    parallel: Parallelism
    instances: list[InstanceEstimate]
    machine: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    state_file: str | None = None

    @property
    def predicted_seconds(self) -> dict[str, float]:
        return self.seconds.prediction.to_dict()

    @property
    def predicted_peak_rss_mb(self) -> float:
        return self.memory.prediction.p50

    def to_dict(self) -> dict[str, Any]:
        """The `--json` contract: predictions at the target here, fit, runs, instances."""
        seconds = self.seconds.prediction
        return {
            "command": self.command,
            "target_fraction": self.target_fraction,
            "epochs": self.epochs,
            "predicted_seconds": seconds.to_dict(),
            "predicted_hours": seconds.scaled(1 / 3600).to_dict(),
            "predicted_peak_rss_mb": self.memory.prediction.p50,
            "predicted_peak_rss_mb_range": self.memory.prediction.to_dict(),
            "extrapolation_ratio": self.seconds.extrapolation_ratio,
            "fit": {**self.seconds.to_dict(), "memory": self.memory.to_dict()},
            "parallelism": self.parallel.to_dict(),
            "runs": [r.to_dict() for r in self.runs],
            "instances": [i.to_dict() for i in self.instances],
            "machine": self.machine,
            "warnings": self.warnings,
            "assumptions": self.assumptions,
            "state_file": self.state_file,
        }


def _median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def measure_parallelism(runs: Sequence[Run]) -> Parallelism:
    """Amdahl's parallel fraction from a serial run, else from CPU time over wall time."""
    cpus = available_cpus()
    fit_runs = [r for r in runs if not r.warmup]
    top = max(r.fraction for r in fit_runs)
    parallel = [r.wall_s for r in fit_runs if r.fraction == top and r.threads is None]
    serial = [r.wall_s for r in fit_runs if r.fraction == top and r.threads == 1]
    t_par, t_ser = _median(parallel), _median(serial)
    if cpus <= 1:
        return Parallelism(0.0, cpus, "assumed",
                           "one CPU here: parallel speed-up cannot be measured; assumed serial")
    if t_par and t_ser:
        return Parallelism(amdahl_fraction(t_ser, t_par, cpus), cpus, "serial-run",
                           f"fraction {top:g}: {t_ser:.2f} s on 1 thread, {t_par:.2f} s on "
                           f"{cpus} CPUs")
    usage = _median([r.cpu_s / r.wall_s for r in fit_runs
                     if r.fraction == top and r.threads is None and r.wall_s > 0])
    if usage is None:
        return Parallelism(0.0, cpus, "assumed", "no runs to measure it on; assumed serial")
    speedup = min(max(usage, 1.0), float(cpus))
    fraction = amdahl_fraction(speedup, 1.0, cpus)
    return Parallelism(fraction, cpus, "cpu-time",
                       f"CPU time / wall time = {usage:.2f} at fraction {top:g} (an upper bound "
                       "when threads spin; run with the serial check to measure it)")


def analyze(command: list[str], runs: Sequence[Run], target_fraction: float = 1.0,
            epochs: float = 1.0, instances: Sequence[str] = (), region: str | None = None,
            speed_overrides: dict[str, float] | None = None, seed: int = 0) -> CalibrationResult:
    """Fit the measured runs and predict the target fraction here and on each instance."""
    fit_runs = [r for r in runs if not r.warmup and r.threads is None and r.exit_code == 0]
    x = [r.fraction for r in fit_runs]
    seconds = fit_and_predict(x, [r.wall_s for r in fit_runs], target_fraction, "seconds",
                              scale_data_part=epochs, seed=seed)
    # Memory is held per epoch, not accumulated: epochs do not scale it.
    memory = fit_and_predict(x, [r.peak_rss_mb for r in fit_runs], target_fraction,
                             "peak_rss_mb", seed=seed + 1)
    parallel = measure_parallelism(runs)
    gpu_runs = [r for r in fit_runs if r.gpu_s is not None]
    gpu_share = float(np.median([min(1.0, (r.gpu_s or 0) / r.wall_s) for r in gpu_runs])
                      ) if gpu_runs else 0.0
    estimates = [estimate_instance(name, region, seconds.samples, memory.prediction.p90,
                                   parallel, speed_overrides or {}, gpu_share)
                 for name in instances]
    assumptions = [
        "time and memory follow the fitted curve up to the target fraction",
        f"runs on this machine were timed while it did other work; the range includes the "
        f"run-to-run scatter seen ({seconds.noise:.0%} log-SD between repeats)",
    ]
    if epochs != 1:
        assumptions.append(f"the measured runs are one epoch; {epochs:g} epochs multiply the "
                           "data-dependent part, the start-up cost is paid once")
    if estimates:
        assumptions.append("instance speed: one vCPU = the family's speed factor x one CPU here "
                           "(see speed_basis); parallel speed-up follows Amdahl's law with the "
                           "fraction measured here, which is uncertain beyond the CPUs measured")
        assumptions.append("dollars = hours x the catalog's hourly price; no start-up, storage "
                           "or data-transfer costs")
    return CalibrationResult(
        command=list(command), target_fraction=target_fraction, epochs=epochs, runs=list(runs),
        seconds=seconds, memory=memory, parallel=parallel, instances=estimates,
        machine=machine_description(), warnings=seconds.warnings + memory.warnings,
        assumptions=assumptions)
