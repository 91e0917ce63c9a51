"""Calibrate a training command: plan the runs, run them, keep state for `--resume`.

State is one JSON file per calibration under `$MLSCOPE_HOME/calibrate/` (default
`~/.mlscope/calibrate/`), named by a digest of the command, the options that change what is
measured, and the working directory. It is rewritten after every finished run, so Ctrl-C loses
at most the run in progress, and `--resume` with the same command and options continues.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.catalog.core import mlscope_home
from mlscope.errors import InputError, MlscopeError
from mlscope.estimate.empirical.measure import ProcessMeasurement, measure_command
from mlscope.estimate.empirical.plan import (
    PlannedRun,
    available_cpus,
    check_command,
    fill_command,
    next_extra_runs,
    plan_runs,
    run_env,
)
from mlscope.estimate.empirical.result import Run

STATE_VERSION = 1


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
    fractions: list[float]
    repeats: int = 2
    uses_env: bool = False
    data: str | None = None
    seed: int = 0
    warmup: bool = True
    serial_check: bool = False
    timeout_s: float | None = None
    extra_runs: int = 8  # at most this many extra repeats where runs disagree
    cwd: str = field(default_factory=os.getcwd)

    def __post_init__(self) -> None:
        check_command(self.command, self.uses_env, self.data is not None)
        if self.data is not None and not Path(self.data).exists():
            raise InputError(f"dataset '{self.data}' does not exist",
                             "give an existing --data path")
        self.runs = plan_runs(self.fractions, self.repeats, self.warmup, self.serial_check)

    def identity(self) -> dict[str, Any]:
        """What must match for a saved state to be resumed."""
        return {"command": self.command, "fractions": self.fractions, "uses_env": self.uses_env,
                "data": str(Path(self.data).resolve()) if self.data else None,
                "seed": self.seed, "cwd": self.cwd}

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
            "matches only the same command, fractions, data, seed and working directory)")
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


def _run_one(plan: CalibrationPlan, planned: PlannedRun, env_base: dict[str, str]) -> Run:
    sample_path = _sample_for(plan, planned.fraction)
    threads = planned.threads or available_cpus()
    argv = fill_command(plan.command, planned.fraction, sample_path, threads)
    env = run_env(env_base, planned.fraction, planned.threads, sample_path)
    measured = measure_command(argv, env, timeout_s=plan.timeout_s)
    if measured.exit_code != 0:
        raise CommandFailedError(planned, measured)
    return Run(planned.fraction, planned.repeat, measured.wall_s, measured.cpu_s,
               measured.peak_rss_mb, measured.exit_code, planned.threads, planned.warmup,
               measured.gpu_s, measured.peak_gpu_mb)


def execute(plan: CalibrationPlan, resume: bool = False,
            progress: Progress | None = None) -> tuple[list[Run], Path]:
    """Run what is not done yet, then extra repeats where runs disagree.

    Returns every run (in the order run) and the state file.
    """
    done = load_runs(plan) if resume else {}
    if not resume:  # a fresh calibration re-samples: the data may have changed since
        shutil.rmtree(plan.state_path().with_suffix(""), ignore_errors=True)
    path = save_runs(plan, done)
    env_base = dict(os.environ)
    queue = list(plan.runs)
    finished: list[PlannedRun] = []
    budget = plan.extra_runs
    while queue:
        planned = queue.pop(0)
        total = len(finished) + 1 + len(queue)
        if planned.key not in done:
            if progress:
                progress(planned, None, len(finished), total)
            done[planned.key] = _run_one(plan, planned, env_base)
            save_runs(plan, done)
        finished.append(planned)
        if progress:
            progress(planned, done[planned.key], len(finished), total)
        if planned.threads is None and (not queue or queue[0].threads == 1):
            # The repeats at all fractions are in: settle the ones that disagree.
            extra = next_extra_runs(finished, [done[p.key].wall_s for p in finished], budget)
            budget -= len(extra)
            queue = extra + queue
    return [done[p.key] for p in finished], path


def run_plan(plan: CalibrationPlan, resume: bool = False, progress: Progress | None = None,
             **analysis: Any) -> Any:
    """Execute the plan and analyze the runs (keyword arguments go to `analyze`)."""
    from mlscope.estimate.empirical.result import analyze

    runs, path = execute(plan, resume, progress)
    result = analyze(plan.command, runs, **analysis)
    result.state_file = str(path)
    return result


__all__: Sequence[str] = ["CalibrationPlan", "CommandFailedError", "execute", "run_plan"]
