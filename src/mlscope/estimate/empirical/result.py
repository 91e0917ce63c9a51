"""Runs, the fit of time and memory, and per-instance estimates: one calibration result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mlscope.errors import InputError
from mlscope.estimate.empirical.fit import (
    ITERATIONS_PRIOR,
    ROWS_PRIOR,
    FitResult,
    fit_and_predict,
)
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
    fixed: bool = False  # the vanishing-size run that measures the fixed cost
    size: float | None = None  # x of a declared size driver (--size-by), else the fraction
    iterations: int | None = None  # on the iterations axis
    over_budget: bool = False  # stopped at the end of the time budget: a lower bound in the fit
    gpu_name: str | None = None
    wait_s: float | None = None  # waiting for a CPU (run queue); None where not reported
    system_s: float | None = None  # the part of cpu_s spent in the kernel; None if not reported

    @property
    def x(self) -> float:
        return self.size if self.size is not None else self.fraction

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
    gpu_memory: FitResult | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    target_iterations: int | None = None

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
            "predicted_peak_gpu_mb_range": (self.gpu_memory.prediction.to_dict()
                                            if self.gpu_memory else None),
            "extrapolation_ratio": self.seconds.extrapolation_ratio,
            "axis": self.plan.get("axis", "fraction"),
            "target_iterations": self.target_iterations,
            "plan": self.plan,
            "fit": {**self.seconds.to_dict(), "memory": self.memory.to_dict(),
                    "gpu_memory": self.gpu_memory.to_dict() if self.gpu_memory else None},
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
    fit_runs = [r for r in runs if not (r.warmup or r.fixed or r.over_budget)]
    serial_sizes = {r.fraction for r in fit_runs if r.threads == 1}
    # The largest size with a serial run (the budget may put it below the largest size).
    top = max(serial_sizes) if serial_sizes else max(r.fraction for r in fit_runs)
    parallel = [r.wall_s for r in fit_runs if r.fraction == top and r.threads is None]
    serial = [r.wall_s for r in fit_runs if r.fraction == top and r.threads == 1]
    t_par, t_ser = _median(parallel), _median(serial)
    if cpus <= 1:
        return Parallelism(0.0, cpus, "assumed",
                           "one CPU here: parallel speed-up cannot be measured; assumed serial")
    if t_par and t_ser:
        return Parallelism(amdahl_fraction(t_ser, t_par, cpus), cpus, "serial-run",
                           f"size {top:g}: {t_ser:.2f} s on 1 thread, {t_par:.2f} s on "
                           f"{cpus} CPUs")
    usage = _median([r.cpu_s / r.wall_s for r in fit_runs
                     if r.fraction == top and r.threads is None and r.wall_s > 0])
    if usage is None:
        return Parallelism(0.0, cpus, "assumed", "no runs to measure it on; assumed serial")
    speedup = min(max(usage, 1.0), float(cpus))
    fraction = amdahl_fraction(speedup, 1.0, cpus)
    return Parallelism(fraction, cpus, "cpu-time",
                       f"CPU time / wall time = {usage:.2f} at size {top:g} (an upper bound "
                       "when threads spin; run with the serial check to measure it)")


def _gpu_here(runs: Sequence[Run]) -> str | None:
    """The catalog name of the GPU the runs used, from NVML's device name."""
    names = [r.gpu_name for r in runs if r.gpu_name]
    if not names:
        return None
    from mlscope.estimate.empirical.targets import catalog_accelerator

    return catalog_accelerator(names[0])


# A job is CPU-bound when it was running or waiting for a CPU (not sleeping, not on I/O or a
# GPU) for at least this share of its wall time, summed over its threads: on a loaded machine
# a CPU-bound job gets a small share of a core, but it still wants one all the time.
CPU_BOUND_SHARE = 0.8
# Where the kernel reports no run-queue wait: CPU time over wall time on some run.
CPU_SHARE_WITHOUT_WAIT = 0.5
MIN_CONTENTION_SD = 0.03
RATIO_SPAN = 2.5  # the wall/CPU ratio is taken on runs within this factor of the largest size


def runnable_share(run: Run) -> float:
    """(CPU + run-queue wait) / wall: how much of the time the job wanted a CPU."""
    if run.wall_s <= 0:
        return 0.0
    return (run.cpu_s + (run.wait_s or 0.0)) / run.wall_s


def choose_basis(runs: Sequence[Run]) -> str:
    """'cpu' when the growing runs are CPU-bound relative to what they were granted, else 'wall'.

    Fitting CPU time keeps other processes' load out of the growth law: on a shared machine
    a run's wall time depends on what its neighbours did at that moment, and noise in the
    growth exponent is multiplied by the extrapolation, while a single-threaded CPU-bound
    job's CPU seconds barely depend on them. The load comes back in once, as the measured
    wall/CPU ratio of the largest runs (`cpu_to_wall`). CPU-bound is judged by the kernel's
    run-queue wait: wall = CPU + waiting for a CPU + blocked, so a job slowed by neighbours
    is told from one that sleeps, reads a disk or waits on a GPU, whatever the load.
    """
    grown = [r for r in runs if not r.fixed and r.wall_s > 0]
    if not grown:
        return "wall"
    if all(r.wait_s is not None for r in grown):
        total = sum(r.wall_s for r in grown)
        share = sum(runnable_share(r) * r.wall_s for r in grown) / total
        return "cpu" if share >= CPU_BOUND_SHARE else "wall"
    best = max(r.cpu_s / r.wall_s for r in grown)
    return "cpu" if best >= CPU_SHARE_WITHOUT_WAIT else "wall"


def largest_runs(runs: Sequence[Run]) -> list[Run]:
    """The runs within RATIO_SPAN of the largest size: the ones most like the full job."""
    top = max((r.x for r in runs), default=0.0)
    return [r for r in runs if r.x >= top / RATIO_SPAN]


def cpu_to_wall(cpu: FitResult, runs: Sequence[Run], seed: int) -> FitResult:
    """Predicted CPU seconds x the wall/CPU ratio of the largest runs (load, threads, waiting).

    The ratio is the log-mean over the growing runs within RATIO_SPAN of the largest size,
    weighted by their wall time (a long run averages the load as the full job will; the
    growing part is most of the full job), with its weighted spread as the range it adds.
    """
    import dataclasses
    import math

    from mlscope.estimate.empirical.fit import Quantiles

    near = largest_runs([r for r in runs if not r.fixed and r.wall_s > 0]) or [
        r for r in runs if r.wall_s > 0]
    logs = np.array([math.log(r.wall_s / max(r.cpu_s, 1e-6)) for r in near])
    weights = np.array([r.wall_s for r in near])
    weights = weights / weights.sum()
    mean = float(weights @ logs)
    sd = max(float(np.sqrt(weights @ (logs - mean) ** 2)), MIN_CONTENTION_SD)
    rng = np.random.default_rng(seed + 17)
    samples = cpu.samples * np.exp(rng.normal(mean, sd, cpu.samples.size))
    return dataclasses.replace(
        cpu, samples=samples, prediction=Quantiles.of(samples), basis="cpu",
        wall_per_cpu={"log_mean": mean, "log_sd": sd, "ratio": math.exp(mean),
                      "runs": len(near)})


# Above this share of CPU time in the kernel at the largest sizes, the timings say more about
# the machine's memory than about the job. Measured 2026-12-02 on this project's VM
# (benchmarks/calibrate_accuracy.py, ALLOCATOR_VARS): a LogisticRegression job spent 74 of its
# 120 s in the kernel, because the VM's balloon hands freed guest pages back to the host and
# each is faulted in again on reuse; its small runs reused pages still held and looked cheap.
KERNEL_SHARE_WARN = 0.3


def kernel_time_warnings(runs: Sequence[Run]) -> list[str]:
    """A warning when the largest growing runs spent most of their CPU time in the kernel.

    Page faults and memory allocation depend on what the machine did before a run (pages
    freed by the previous run and still mapped are cheap, fresh ones are not), so their
    growth with the size is not the job's own. No widening is applied: nothing measured here
    says by how much; the warning says what to change instead.
    """
    near = largest_runs([r for r in runs if not r.fixed and r.system_s is not None
                         and r.cpu_s > 0])
    if not near:
        return []
    share = sum(r.system_s or 0.0 for r in near) / sum(r.cpu_s for r in near)
    if share <= KERNEL_SHARE_WARN:
        return []
    return [f"seconds: the largest runs spent {share:.0%} of their CPU time in the kernel (page "
            "faults, memory allocation, I/O): that cost depends on the machine's memory state "
            "and on what ran before, so the fitted growth may not be the job's (on a VM that "
            "returns freed memory to its host it can double a job); calibrate where the job "
            "will run, or keep freed memory in the process (e.g. MALLOC_MMAP_MAX_=0 "
            "MALLOC_TRIM_THRESHOLD_=100000000000 for glibc) for the runs and the job alike"]


def _cpu_bounds(stopped: Sequence[Run], finished: Sequence[Run]) -> list[tuple[float, float]]:
    """CPU seconds a stopped run had used when it was stopped (a lower bound on its CPU time).

    Where none was recorded (runs saved before the CPU of a stopped run was read): its wall
    time times the lowest CPU/wall ratio of the finished runs, a bound that errs low.
    """
    ratio = min((r.cpu_s / r.wall_s for r in finished if r.wall_s > 0 and r.cpu_s > 0),
                default=0.0)
    bounds = [(r.x, r.cpu_s if r.cpu_s > 0 else r.wall_s * ratio) for r in stopped]
    return [(x, y) for x, y in bounds if y > 0]


def analyze(command: list[str], runs: Sequence[Run], target_fraction: float = 1.0,
            epochs: float = 1.0, instances: Sequence[str] = (), region: str | None = None,
            speed_overrides: dict[str, float] | None = None, seed: int = 0,
            fixed_level: float | None = None, target_iterations: int | None = None,
            basis: str = "auto", measured_on: str | None = None) -> CalibrationResult:
    """Fit the measured runs and predict the target size here and on each instance."""
    fit_runs = [r for r in runs if not r.warmup and r.threads is None and r.exit_code == 0
                and not r.over_budget]
    if len({r.x for r in fit_runs}) < 2:
        raise InputError("the runs measured fewer than two sizes, so nothing can be fitted",
                         "give a larger --budget (or more --fractions)")
    x = [r.x for r in fit_runs]
    fixed_x = next((r.x for r in fit_runs if r.fixed), None) if fixed_level is not None else None
    chosen_basis = choose_basis(fit_runs) if basis == "auto" else basis
    prior = ITERATIONS_PRIOR if target_iterations else ROWS_PRIOR
    # Runs stopped at the budget's end: lower bounds at their size (see fit._censored_loglik).
    stopped = [r for r in runs if r.over_budget and not r.warmup and r.threads is None]
    if chosen_basis == "cpu":
        cpu = fit_and_predict(x, [max(r.cpu_s, 1e-3) for r in fit_runs], target_fraction,
                              "seconds", scale_data_part=epochs, seed=seed, fixed_level=fixed_x,
                              prior=prior, censored=_cpu_bounds(stopped, fit_runs))
        seconds = cpu_to_wall(cpu, fit_runs, seed)
    else:
        seconds = fit_and_predict(x, [r.wall_s for r in fit_runs], target_fraction, "seconds",
                                  scale_data_part=epochs, seed=seed, fixed_level=fixed_x,
                                  prior=prior, censored=[(r.x, r.wall_s) for r in stopped])
    # Memory is held per epoch, not accumulated: epochs do not scale it.
    memory = fit_and_predict(x, [r.peak_rss_mb for r in fit_runs], target_fraction,
                             "peak_rss_mb", seed=seed + 1, fixed_level=fixed_x,
                             censored=[(r.x, r.peak_rss_mb) for r in stopped
                                       if r.peak_rss_mb > 0])
    gpu_fit = [r for r in fit_runs if r.peak_gpu_mb is not None and r.peak_gpu_mb > 0]
    gpu_memory = None
    if len({r.x for r in gpu_fit}) >= 2:
        gpu_memory = fit_and_predict([r.x for r in gpu_fit], [r.peak_gpu_mb or 0.0
                                                              for r in gpu_fit],
                                     target_fraction, "peak_gpu_mb", seed=seed + 2,
                                     fixed_level=fixed_x)
    parallel = measure_parallelism(runs)
    gpu_runs = [r for r in fit_runs if r.gpu_s is not None]
    gpu_share = float(np.median([min(1.0, (r.gpu_s or 0) / r.wall_s) for r in gpu_runs])
                      ) if gpu_runs else 0.0
    gpu_here = _gpu_here(fit_runs)
    memory_measured = any(r.peak_rss_mb > 0 for r in fit_runs)
    estimates = [estimate_instance(name, region, seconds.samples,
                                   memory.prediction.p90 if memory_measured else None,
                                   parallel, speed_overrides or {}, gpu_share, gpu_here,
                                   gpu_memory.prediction.p90 if gpu_memory else None,
                                   measured_on)
                 for name in instances]
    assumptions = [
        "time and memory follow the fitted curve up to the target size",
        f"runs on this machine were timed while it did other work; the range includes the "
        f"run-to-run scatter seen ({seconds.noise:.0%} log-SD noise)",
    ]
    ratio = seconds.wall_per_cpu
    if ratio is not None:
        assumptions.append(
            f"the growth was fitted on CPU seconds (the runs were CPU-bound: runnable "
            f"{_median([runnable_share(r) for r in fit_runs if not r.fixed]) or 0:.0%} of their "
            f"wall time) and converted to wall time by the wall/CPU ratio of the largest runs, "
            f"{ratio['ratio']:.2f} (log-SD {ratio['log_sd']:.2f}): the full job is assumed to "
            "run under the same load and threads as they did")
    else:
        assumptions.append("the growth was fitted on wall seconds (the runs were not CPU-bound, "
                           "or --basis wall): other load on this machine is part of the fit")
    if measured_on:
        assumptions.append(f"runs were SageMaker training jobs on {measured_on}: their training "
                           "time (no provisioning or image download) is what was fitted; CPU "
                           "time and memory are not reported by the API")
    if not seconds.fixed_measured:
        assumptions.append("the fixed cost (start-up, loading) was fitted, not measured by a "
                           "vanishing-size run")
    if epochs != 1:
        assumptions.append(f"the measured runs are one epoch; {epochs:g} epochs multiply the "
                           "data-dependent part, the start-up cost is paid once")
    if gpu_runs:
        assumptions.append("GPU measurement through NVML; the GPU path is tested with a fake "
                           "NVML module only, not validated on a real GPU")
    if estimates:
        assumptions.append("instance speed: one vCPU = the family's speed factor x one CPU here "
                           "(see speed_basis); parallel speed-up follows Amdahl's law with the "
                           "fraction measured here, which is uncertain beyond the CPUs measured")
        assumptions.append("dollars = hours x the catalog's hourly price; no start-up, storage "
                           "or data-transfer costs")
    return CalibrationResult(
        command=list(command), target_fraction=target_fraction, epochs=epochs, runs=list(runs),
        seconds=seconds, memory=memory, parallel=parallel, instances=estimates,
        machine=machine_description(),
        warnings=seconds.warnings + kernel_time_warnings(fit_runs) + memory.warnings,
        assumptions=assumptions, gpu_memory=gpu_memory, target_iterations=target_iterations)
