"""`mlscope.calibrate(train_fn, data, fractions=...)`: calibrate a training function in-process.

mlscope takes the samples itself (the same seeded, nested row selection as the file sampler):
pandas and polars frames, numpy arrays, scipy sparse matrices, lists, and tuples or dicts of
these (sampled with the same rows, e.g. `(X, y)`). Each call is timed (wall and process CPU
time) and the process's peak RSS during the call is polled; the serial check runs the function
with thread pools limited to one thread (threadpoolctl).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from mlscope.datasets.sample import keep_mask
from mlscope.errors import InputError
from mlscope.estimate.empirical.plan import (
    DEFAULT_FRACTIONS,
    PlannedRun,
    check_fraction,
    next_extra_runs,
    plan_runs,
)
from mlscope.estimate.empirical.result import CalibrationResult, Run, analyze


def _rows(data: Any) -> int:
    if isinstance(data, tuple | list) and data and _is_bundle(data):
        return _rows(data[0])
    if isinstance(data, dict):
        sizes = {_rows(v) for v in data.values()}
        if len(sizes) != 1:
            raise InputError("the values of the data dict have different row counts",
                             "give arrays or frames with the same number of rows")
        return sizes.pop()
    shape = getattr(data, "shape", None)
    if shape:
        return int(shape[0])
    try:
        return len(data)
    except TypeError:
        raise InputError(f"cannot sample a {type(data).__name__}",
                         "pass a DataFrame, numpy array, list, or a tuple/dict of them") from None


def _is_bundle(data: tuple[Any, ...] | list[Any]) -> bool:
    """A tuple like (X, y) is sampled together; a plain list of rows is itself the data."""
    return isinstance(data, tuple) and all(hasattr(d, "shape") or isinstance(d, list)
                                           for d in data)


def take_rows(data: Any, index: np.ndarray) -> Any:
    """The rows `index` of data, keeping its type."""
    if isinstance(data, tuple) and _is_bundle(data):
        return tuple(take_rows(d, index) for d in data)
    if isinstance(data, dict):
        return {k: take_rows(v, index) for k, v in data.items()}
    if hasattr(data, "iloc"):  # pandas
        return data.iloc[index]
    if isinstance(data, list):
        return [data[i] for i in index]
    if type(data).__module__.startswith("polars"):
        return data[index.tolist()]
    return data[index]


def sample_data(data: Any, fraction: float, seed: int = 0) -> Any:
    check_fraction(fraction, "fraction")
    rows = _rows(data)
    return take_rows(data, np.flatnonzero(keep_mask(rows, fraction, seed)))


@contextlib.contextmanager
def _peak_rss_poller(interval_s: float = 0.01) -> Iterator[list[int]]:
    import psutil

    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(interval_s):
            peak[0] = max(peak[0], proc.memory_info().rss)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], proc.memory_info().rss)


def _time_call(fn: Callable[[Any], Any], sample: Any, serial: bool) -> tuple[float, float, float]:
    limit: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if serial:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(1)
    with limit, _peak_rss_poller() as peak:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        fn(sample)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return wall, cpu, peak[0] / 2**20


def calibrate(train_fn: Callable[[Any], Any], data: Any,
              fractions: Sequence[float] = DEFAULT_FRACTIONS, repeats: int = 2,
              target_fraction: float = 1.0, epochs: float = 1.0,
              instances: Sequence[str] = (), region: str | None = None,
              seed: int = 0, warmup: bool = True, serial_check: bool | None = None,
              speed_factors: dict[str, float] | None = None,
              extra_runs: int = 8) -> CalibrationResult:
    """Time `train_fn(sample)` on seeded fractions of `data` and predict `target_fraction`.

    `serial_check` (default: when instances are given) also runs the largest fraction with
    one thread, to measure how the job scales with CPUs. Up to `extra_runs` more repeats are
    made at fractions whose runs disagree (a busy machine slows some runs down).
    """
    chosen = sorted({check_fraction(float(f), "fraction") for f in fractions})
    if len(chosen) < 2:
        raise InputError("need at least two different fractions",
                         "pass e.g. fractions=(0.01, 0.02, 0.05, 0.1)")
    check_fraction(target_fraction, "target fraction")
    serial = bool(instances) if serial_check is None else serial_check
    runs: list[Run] = []
    samples: dict[float, Any] = {}
    queue = plan_runs(chosen, repeats, warmup, serial)
    finished: list[PlannedRun] = []
    budget = extra_runs
    while queue:
        planned = queue.pop(0)
        if planned.fraction not in samples:
            samples[planned.fraction] = sample_data(data, planned.fraction, seed)
        wall, cpu, peak = _time_call(train_fn, samples[planned.fraction], planned.threads == 1)
        runs.append(Run(planned.fraction, planned.repeat, wall, cpu, peak,
                        threads=planned.threads, warmup=planned.warmup))
        finished.append(planned)
        if planned.threads is None and (not queue or queue[0].threads == 1):
            extra = next_extra_runs(finished, [r.wall_s for r in runs], budget)
            budget -= len(extra)
            queue = extra + queue
    name = getattr(train_fn, "__qualname__", repr(train_fn))
    return analyze([f"python:{name}"], runs, target_fraction, epochs, instances, region,
                   speed_factors, seed)
