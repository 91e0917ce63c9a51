"""Calibrate a training command: plan the runs, run them, keep state for `--resume`.

Two ways to choose the runs:

- a **time budget** (`budget_s`, the default): sizes grow geometrically while the budget
  allows (see `budget.Ladder`); the plan and why it stopped are part of the result;
- a **list of fractions** (`fractions`): each run `repeats` times, plus extra repeats where
  runs disagree.

Both measure the fixed cost directly, by a run at a vanishing size (`fixed`, default 0.001),
unless turned off. Sizes are data fractions, or on the iterations axis iterations / target
iterations at full data.

State is one JSON file per calibration under `$MLSCOPE_HOME/calibrate/` (default
`~/.mlscope/calibrate/`), named by a digest of the command, the options that change what is
measured, and the working directory. It is rewritten after every finished run, so Ctrl-C loses
at most the run in progress, and `--resume` with the same command and options continues (the
budget ladder replays its decisions from the saved runs).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.catalog.core import mlscope_home
from mlscope.errors import InputError, MlscopeError
from mlscope.estimate.empirical.budget import (
    FIXED_FRACTION,
    START_FRACTION,
    Ladder,
    Measured,
    startup_warning,
)
from mlscope.estimate.empirical.measure import (
    TIMEOUT_EXIT_CODE,
    ProcessMeasurement,
    measure_command,
)
from mlscope.estimate.empirical.plan import (
    PlannedRun,
    available_cpus,
    check_command,
    check_fraction,
    fill_command,
    next_extra_runs,
    plan_runs,
    run_env,
)
from mlscope.estimate.empirical.result import Run

STATE_VERSION = 2
AXES = ("fraction", "iterations")

# Runs one planned command: (argv, env, timeout in seconds) -> what was measured.
Runner = Callable[[Sequence[str], Mapping[str, str], float | None], ProcessMeasurement]


class CommandFailedError(MlscopeError):
    """The user's command exited non-zero at some fraction: no fit is made."""

    def __init__(self, planned: PlannedRun, measured: ProcessMeasurement) -> None:
        last = measured.stderr_tail.strip().splitlines()[-1:] or ["(no stderr)"]
        super().__init__(
            f"the command failed at fraction {planned.fraction:g} (repeat {planned.repeat + 1}) "
            f"with exit code {measured.exit_code}: {last[0]}",
            "fix the command (run it by hand with the same fraction), then rerun with --resume")
        self.planned = planned
        self.measured = measured


@dataclass
class CalibrationPlan:
    command: list[str]
    fractions: list[float] | None = None  # None: plan by the time budget
    repeats: int = 2
    uses_env: bool = False
    data: str | None = None
    seed: int = 0
    warmup: bool = True
    serial_check: bool = False
    timeout_s: float | None = None
    extra_runs: int = 8  # at most this many extra repeats where runs disagree
    cwd: str = field(default_factory=os.getcwd)
    budget_s: float | None = None
    axis: str = "fraction"
    target_iterations: int | None = None
    fixed: float | None = FIXED_FRACTION  # size of the fixed-cost run (None: no such run)
    start: float | None = None  # first growing size of the budget ladder
    size_by: list[str] | None = None  # columns whose distinct counts drive the cost
    # Seconds of the budget spent outside the runs: mlscope's own start-up before `execute`
    # and a reserve for the fit and output after it (not part of the identity).
    overhead_s: float = 0.0

    def __post_init__(self) -> None:
        if self.axis not in AXES:
            raise InputError(f"unknown axis '{self.axis}'", "use --axis fraction or iterations")
        check_command(self.command, self.uses_env, self.data is not None, self.axis)
        if self.data is not None and not Path(self.data).exists():
            raise InputError(f"dataset '{self.data}' does not exist",
                             "give an existing --data path")
        if self.size_by and self.data is None:
            raise InputError("--size-by needs the dataset",
                             "add --data PATH (and {sample_path} in the command)")
        if self.axis == "iterations":
            if not self.target_iterations or self.target_iterations < 2:
                raise InputError("--axis iterations needs the iterations of the real job",
                                 "add --target-iterations N (N >= 2), e.g. 30")
            if self.data is not None or self.size_by:
                raise InputError("--axis iterations runs the full data",
                                 "drop --data/--size-by, or use --axis fraction")
            self.fixed = None  # the intercept of a per-iteration law is fitted, not measured
        if self.fixed is not None:
            check_fraction(self.fixed, "fixed-cost fraction")
        if self.fractions is None and self.budget_s is None:
            raise InputError("give either fractions or a time budget",
                             "use --budget 60s or --fractions 0.01,0.02,0.05")
        if self.fractions is not None:
            if self.fixed is not None and self.fixed >= min(self.fractions):
                self.fixed = None  # the smallest fraction is small enough to show the start-up
            self.runs = plan_runs(self.fractions, self.repeats, self.warmup, self.serial_check,
                                  self.fixed)
        else:
            self.runs = []

    @property
    def mode(self) -> str:
        return "fractions" if self.fractions is not None else "budget"

    def iterations_at(self, size: float) -> int | None:
        if self.axis != "iterations" or self.target_iterations is None:
            return None
        return max(1, round(size * self.target_iterations))

    def quantize(self, size: float) -> float:
        """Sizes the command can run: whole iterations on the iterations axis."""
        if self.axis != "iterations" or self.target_iterations is None:
            return min(float(f"{size:.2g}"), 1.0)  # readable fractions: 0.04, 0.32
        n = self.target_iterations
        return min(max(1, round(size * n)), n) / n

    def ladder(self) -> Ladder:
        assert self.budget_s is not None
        start = self.start
        if start is None:
            start = 1 / self.target_iterations if (
                self.axis == "iterations" and self.target_iterations) else START_FRACTION
        return Ladder(self.budget_s, 1.0, self.quantize(start), self.fixed, self.warmup,
                      self.quantize, self.repeats)

    def identity(self) -> dict[str, Any]:
        """What must match for a saved state to be resumed."""
        return {"command": self.command, "fractions": self.fractions, "uses_env": self.uses_env,
                "data": str(Path(self.data).resolve()) if self.data else None,
                "seed": self.seed, "cwd": self.cwd, "budget_s": self.budget_s,
                "axis": self.axis, "target_iterations": self.target_iterations,
                "fixed": self.fixed, "start": self.start, "size_by": self.size_by}

    def state_path(self) -> Path:
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()
        return mlscope_home() / "calibrate" / f"{digest[:16]}.json"


def load_runs(plan: CalibrationPlan) -> dict[str, Run]:
    path = plan.state_path()
    if not path.exists():
        folder = path.parent
        saved = sorted(folder.glob("*.json")) if folder.exists() else []
        raise InputError(
            "nothing to resume for this command and these options",
            f"run again without --resume (saved states: {folder}, {len(saved)} found; a state "
            "matches only the same command, fractions or budget, data, seed and working "
            "directory)")
    try:
        state = json.loads(path.read_text())
        return {key: Run.from_dict(value) for key, value in state["runs"].items()}
    except (ValueError, KeyError, TypeError):
        raise InputError(f"saved state {path} is damaged",
                         "delete it and run again without --resume") from None


def save_runs(plan: CalibrationPlan, done: dict[str, Run]) -> Path:
    path = plan.state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": STATE_VERSION, **plan.identity(),
               "runs": {key: run.to_dict() for key, run in done.items()}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(path)  # atomic: an interrupted write never leaves half a state
    return path


Progress = Callable[[PlannedRun, Run | None, int, int], None]


def _sample_for(plan: CalibrationPlan, fraction: float) -> str | None:
    if plan.data is None:
        return None
    from mlscope.datasets import sample

    folder = plan.state_path().with_suffix("") / f"sample-{fraction!r}"
    marker = folder / ".complete"
    if not marker.exists():
        result = sample(plan.data, fraction, folder, seed=plan.seed)
        marker.write_text(result.path)
    return marker.read_text()


class _Drivers:
    """x = driver(sample) / driver(full data), for --size-by; cached per fraction."""

    def __init__(self, plan: CalibrationPlan) -> None:
        self.plan = plan
        self.full: float | None = None

    def size(self, sample_path: str | None) -> float | None:
        if not self.plan.size_by or sample_path is None or self.plan.data is None:
            return None
        from mlscope.estimate.empirical.drivers import driver_size

        if self.full is None:
            self.full = driver_size(self.plan.data, self.plan.size_by)
            if self.full <= 0:
                raise InputError("the --size-by columns have no values in the dataset",
                                 "name columns that hold the users, items or other drivers")
        return driver_size(sample_path, self.plan.size_by) / self.full


def local_runner(argv: Sequence[str], env: Mapping[str, str],
                 timeout_s: float | None) -> ProcessMeasurement:
    return measure_command(argv, env, timeout_s=timeout_s)


def _run_one(plan: CalibrationPlan, planned: PlannedRun, env_base: dict[str, str],
             runner: Runner, drivers: _Drivers, budget_cap: float | None) -> Run:
    sample_path = _sample_for(plan, planned.fraction)
    threads = planned.threads or available_cpus()
    iterations = plan.iterations_at(planned.fraction)
    argv = fill_command(plan.command, planned.fraction if plan.axis == "fraction" else 1.0,
                        sample_path, threads, iterations)
    env = run_env(env_base, planned.fraction if plan.axis == "fraction" else 1.0,
                  planned.threads, sample_path, iterations)
    timeout = plan.timeout_s
    capped = budget_cap is not None and (timeout is None or budget_cap < timeout)
    if capped:
        timeout = max(budget_cap or 0.0, 0.01)
    measured = runner(argv, env, timeout)
    over = capped and measured.exit_code == TIMEOUT_EXIT_CODE
    if measured.exit_code != 0 and not over:
        raise CommandFailedError(planned, measured)
    return Run(planned.fraction, planned.repeat, measured.wall_s, measured.cpu_s,
               measured.peak_rss_mb, measured.exit_code, planned.threads, planned.warmup,
               measured.gpu_s, measured.peak_gpu_mb, fixed=planned.fixed,
               size=drivers.size(sample_path), iterations=iterations, over_budget=over,
               gpu_name=measured.gpu_name, wait_s=measured.wait_s,
               system_s=measured.system_s)


@dataclass
class Execution:
    runs: list[Run]
    state_file: Path
    plan_summary: dict[str, Any]


def _measured(run: Run) -> Measured:
    return Measured(run.fraction, run.wall_s, run.fixed, run.warmup, run.over_budget)


def _serial_step(plan: CalibrationPlan, ladder: Ladder, runs: list[Run],
                 remaining: float) -> PlannedRun | None:
    """The serial-check run at the largest growing size whose 1-thread run fits the budget."""
    cpus = available_cpus()
    measured = [_measured(r) for r in runs if r.threads is None]
    sizes = sorted({r.fraction for r in runs if not (r.fixed or r.warmup or r.over_budget)
                    and r.threads is None}, reverse=True)
    for size in sizes:
        if ladder.predict(measured, size) * cpus <= remaining * 0.85:
            return PlannedRun(size, 0, 1)
    return None


def execute(plan: CalibrationPlan, resume: bool = False, progress: Progress | None = None,
            runner: Runner = local_runner) -> Execution:
    """Run what is not done yet, by budget or by fractions. Returns every run, in order."""
    done = load_runs(plan) if resume else {}
    if not resume:  # a fresh calibration re-samples: the data may have changed since
        shutil.rmtree(plan.state_path().with_suffix(""), ignore_errors=True)
    path = save_runs(plan, done)
    env_base = dict(os.environ)
    drivers = _Drivers(plan)
    finished: list[PlannedRun] = []
    started = time.monotonic()
    # Runs replayed from a saved state were paid for already: they count against the budget.
    replayed_s = 0.0

    def spent() -> float:  # the budget covers the whole calibration, not only the runs
        return plan.overhead_s + replayed_s + time.monotonic() - started

    def do(planned: PlannedRun, total: int, cap: float | None) -> Run:
        nonlocal replayed_s, started
        if planned.key in done:
            replayed_s += done[planned.key].wall_s
        else:
            if progress:
                progress(planned, None, len(finished), total)
            done[planned.key] = _run_one(plan, planned, env_base, runner, drivers, cap)
            save_runs(plan, done)
        finished.append(planned)
        if progress:
            progress(planned, done[planned.key], len(finished), total)
        return done[planned.key]

    summary: dict[str, Any] = {"mode": plan.mode, "axis": plan.axis}
    if plan.mode == "fractions":
        queue = list(plan.runs)
        budget = plan.extra_runs
        while queue:
            planned = queue.pop(0)
            do(planned, len(finished) + 1 + len(queue), None)
            if planned.threads is None and (not queue or queue[0].threads == 1):
                # The repeats at all fractions are in: settle the ones that disagree.
                extra = next_extra_runs(finished, [done[p.key].wall_s for p in finished],
                                        budget)
                budget -= len(extra)
                queue = extra + queue
        summary["stop_reason"] = "ran every fraction"
    else:
        ladder = plan.ladder()
        runs: list[Run] = []
        steps: list[dict[str, Any]] = []
        repeats: dict[tuple[float, str], int] = {}
        while True:
            step = ladder.next([_measured(r) for r in runs], spent())
            if step is None:
                break
            kind = step.kind
            repeat = repeats.get((step.size, "fixed" if kind == "fixed" else "t"), 0)
            planned = PlannedRun(step.size, 0 if kind == "warmup" else repeat, None,
                                 warmup=kind == "warmup", fixed=kind == "fixed")
            if kind != "warmup":
                repeats[(step.size, "fixed" if kind == "fixed" else "t")] = repeat + 1
            run = do(planned, len(finished) + 1, ladder.timeout_for(spent()))
            runs.append(run)
            steps.append({"size": step.size, "kind": kind, "predicted_s": step.predicted_s,
                          "seconds": run.wall_s, "over_budget": run.over_budget})
        if plan.serial_check:
            serial = _serial_step(plan, ladder, runs, plan.budget_s - spent()
                                  if plan.budget_s else 0.0)
            if serial is not None:
                run = do(serial, len(finished) + 1, ladder.timeout_for(spent()))
                runs.append(run)
                steps.append({"size": serial.fraction, "kind": "serial", "predicted_s": None,
                              "seconds": run.wall_s, "over_budget": run.over_budget})
            else:
                summary["serial_check"] = "skipped: a 1-thread run would not fit the budget"
        summary.update(budget_s=plan.budget_s, stop_reason=ladder.stop_reason, steps=steps,
                       overhead_s=plan.overhead_s)
    summary["spent_s"] = spent()
    return Execution([done[p.key] for p in finished], path, summary)


def run_plan(plan: CalibrationPlan, resume: bool = False, progress: Progress | None = None,
             runner: Runner = local_runner, **analysis: Any) -> Any:
    """Execute the plan and analyze the runs (keyword arguments go to `analyze`)."""
    from mlscope.estimate.empirical.result import analyze

    ex = execute(plan, resume, progress, runner)
    measured_on = getattr(runner, "instance_type", None)
    if measured_on:
        analysis.setdefault("measured_on", measured_on)
    analysis.setdefault("fixed_level", plan.fixed)
    if plan.axis == "iterations":
        analysis["target_iterations"] = plan.target_iterations
    result = analyze(plan.command, ex.runs, **analysis)
    fixed = [r.wall_s for r in ex.runs if r.fixed and not r.warmup and r.exit_code == 0
             and not r.over_budget]
    if plan.budget_s and fixed:
        note = startup_warning(plan.budget_s, min(fixed))
        result.warnings += [note] if note else []
    result.state_file = str(ex.state_file)
    result.plan = ex.plan_summary
    return result


__all__: Sequence[str] = ["CalibrationPlan", "CommandFailedError", "execute", "run_plan"]
