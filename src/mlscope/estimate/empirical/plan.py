"""What to run: the fractions, the placeholders in the command, and the list of runs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from mlscope.errors import InputError

DEFAULT_FRACTIONS = (0.01, 0.02, 0.05, 0.1)
FRACTION = "{fraction}"
SAMPLE_PATH = "{sample_path}"
THREADS = "{threads}"
ITERATIONS = "{iterations}"
# Thread-count variables of the common math runtimes (OpenMP, BLAS, numexpr, Accelerate).
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "MLSCOPE_THREADS")


def parse_fractions(text: str) -> list[float]:
    """'0.01,0.02, 5%' -> [0.01, 0.02, 0.05]: sorted, distinct, each in (0, 1]."""
    values: list[float] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            value = float(item[:-1]) / 100 if item.endswith("%") else float(item)
        except ValueError:
            raise InputError(f"fraction '{item}' is not a number",
                             "give fractions like 0.01,0.02,0.05,0.1 (or 1%,2%)") from None
        check_fraction(value, "fraction")
        values.append(value)
    distinct = sorted(set(values))
    if len(distinct) < 2:
        raise InputError(f"need at least two different fractions, got '{text}'",
                         "give e.g. --fractions 0.01,0.02,0.05,0.1")
    return distinct


def check_fraction(value: float, what: str) -> float:
    if not (0.0 < value <= 1.0):  # also rejects NaN
        raise InputError(f"{what} {value} is outside (0, 1]",
                         f"give the {what} as a share of the data, e.g. 0.05 for 5 %")
    return value


def check_command(argv: Sequence[str], uses_env: bool, has_data: bool,
                  axis: str = "fraction") -> None:
    """The command must see the fraction, or every run would time the same job."""
    if not argv:
        raise InputError("no training command given",
                         "put it after `--`, e.g. mlscope calibrate -- python train.py "
                         "--fraction {fraction}")
    text = " ".join(argv)
    if SAMPLE_PATH in text and not has_data:
        raise InputError("the command uses {sample_path} but no dataset was given",
                         "add --data PATH so mlscope can write a sample for each fraction")
    if axis == "iterations":
        if ITERATIONS in text or uses_env:
            return
        raise InputError(
            "with --axis iterations the command must take {iterations}",
            "put {iterations} where your script takes the iteration, epoch or round count "
            "(python train.py --iterations {iterations}), or pass --uses-env if the script "
            "reads MLSCOPE_ITERATIONS")
    if FRACTION in text or SAMPLE_PATH in text or uses_env:
        return
    raise InputError(
        "the command uses neither {fraction} nor {sample_path}, so every run would do the same "
        "work", "put {fraction} where your script takes the fraction (python train.py "
        "--fraction {fraction}), use {sample_path} with --data PATH, or pass --uses-env if "
        "the script reads MLSCOPE_FRACTION")


@dataclass(frozen=True)
class PlannedRun:
    fraction: float
    repeat: int
    threads: int | None  # None: the machine's default; 1: the serial run for the parallel check
    warmup: bool = False
    fixed: bool = False  # the run at a vanishing size that measures the fixed cost

    @property
    def key(self) -> str:
        kind = "warmup" if self.warmup else f"t{self.threads or 'all'}"
        return f"{self.fraction!r}/{self.repeat}/{kind}{'/fixed' if self.fixed else ''}"


def plan_runs(fractions: Sequence[float], repeats: int, warmup: bool,
              serial_check: bool, fixed: float | None = None) -> list[PlannedRun]:
    """Repeats are interleaved (all fractions, then again) so drift hits every fraction alike.

    With `fixed`, the warm-up runs there and the fixed cost is measured there once per repeat.
    """
    if repeats < 1:
        raise InputError(f"repeats must be at least 1, got {repeats}", "use --repeats 2")
    first = fixed if fixed is not None else min(fractions)
    runs = [PlannedRun(first, 0, None, warmup=True)] if warmup else []
    for r in range(repeats):
        if fixed is not None:
            runs.append(PlannedRun(fixed, r, None, fixed=True))
        runs += [PlannedRun(f, r, None) for f in fractions]
    if serial_check:
        runs += [PlannedRun(max(fractions), r, 1) for r in range(min(repeats, 2))]
    return runs


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fill_command(argv: Sequence[str], fraction: float, sample_path: str | None,
                 threads: int, iterations: int | None = None) -> list[str]:
    """Replace the placeholders (only these: other braces, e.g. in `python -c`, stay)."""
    out = []
    for arg in argv:
        arg = arg.replace(FRACTION, repr(fraction)).replace(THREADS, str(threads))
        if iterations is not None:
            arg = arg.replace(ITERATIONS, str(iterations))
        if sample_path is not None:
            arg = arg.replace(SAMPLE_PATH, sample_path)
        out.append(arg)
    return out


def run_env(base: dict[str, str], fraction: float, threads: int | None,
            sample_path: str | None, iterations: int | None = None) -> dict[str, str]:
    env = dict(base)
    env["MLSCOPE_FRACTION"] = repr(fraction)
    if iterations is not None:
        env["MLSCOPE_ITERATIONS"] = str(iterations)
    if sample_path is not None:
        env["MLSCOPE_SAMPLE_PATH"] = sample_path
    if threads is not None:
        for name in THREAD_ENV:
            env[name] = str(threads)
    else:
        env["MLSCOPE_THREADS"] = str(available_cpus())
    return env


# The two fastest runs of a fraction must agree within this ratio, and a smaller fraction may
# not be this much slower than a larger one, before its fastest run is trusted.
SETTLE_RATIO = 1.25


def unsettled_fractions(runs: Sequence[tuple[float, float]]) -> list[float]:
    """Fractions whose fastest (fraction, seconds) run is not confirmed yet.

    On a busy machine a run can be slowed down several times over; one more repeat at such a
    fraction costs little and keeps a slowed run from bending the curve.
    """
    by_fraction: dict[float, list[float]] = {}
    for fraction, seconds in runs:
        by_fraction.setdefault(fraction, []).append(seconds)
    lows = {f: min(v) for f, v in by_fraction.items()}
    out = set()
    for f, values in by_fraction.items():
        ordered = sorted(values)
        if len(ordered) >= 2 and ordered[1] > SETTLE_RATIO * ordered[0]:
            out.add(f)
        if any(lows[f] > SETTLE_RATIO * lows[g] for g in lows if g > f):
            out.add(f)
    return sorted(out)


def next_extra_runs(done: Sequence[PlannedRun], seconds: Sequence[float],
                    budget: int) -> list[PlannedRun]:
    """One more repeat at each unsettled fraction, within the remaining budget of runs."""
    if budget <= 0:
        return []
    measured = [(p.fraction, s) for p, s in zip(done, seconds, strict=True)
                if not p.warmup and not p.fixed and p.threads is None]
    repeats: dict[float, int] = {}
    for p in done:
        if not p.warmup and not p.fixed and p.threads is None:
            repeats[p.fraction] = max(repeats.get(p.fraction, 0), p.repeat + 1)
    return [PlannedRun(f, repeats[f], None) for f in unsettled_fractions(measured)][:budget]
