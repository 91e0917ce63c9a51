"""Which seconds are fitted (CPU or wall), the wall/CPU conversion, and the run-queue wait."""

from __future__ import annotations

import math
import sys

import pytest

from mlscope.estimate.empirical.measure import measure_command
from mlscope.estimate.empirical.result import Run, analyze, choose_basis, runnable_share


def _runs(wall_per_cpu: float, wait_share: float | None) -> list[Run]:
    """A linear job t = 1 + 40 x CPU seconds, slowed `wall_per_cpu`x in wall time."""
    out = [Run(0.001, i, 1.04 * wall_per_cpu, 1.04, 100.0, fixed=True) for i in range(2)]
    for i, x in enumerate((0.02, 0.05, 0.05, 0.12, 0.12)):
        cpu = 1 + 40 * x
        wall = cpu * wall_per_cpu
        wait = None if wait_share is None else wait_share * wall
        out.append(Run(x, i, wall, cpu, 100 + 50 * x, wait_s=wait))
    return out


def test_a_cpu_bound_job_on_a_busy_machine_is_fitted_on_cpu_seconds() -> None:
    # It got a third of a CPU and waited in the run queue for the rest: CPU-bound.
    runs = _runs(3.0, 2 / 3)
    assert runnable_share(runs[-1]) == pytest.approx(1.0)
    assert choose_basis(runs) == "cpu"
    result = analyze([], runs, fixed_level=0.001)
    ratio = result.seconds.wall_per_cpu
    assert result.seconds.basis == "cpu" and ratio is not None
    assert ratio["ratio"] == pytest.approx(3.0)
    # Hand computation: 3 x (1 + 40) wall seconds at x = 1.
    assert result.predicted_seconds["p50"] == pytest.approx(123, rel=0.1)
    assert any("CPU seconds" in a for a in result.assumptions)


def test_a_job_that_sleeps_is_fitted_on_wall_seconds() -> None:
    # Same CPU share, but it was not waiting for a CPU: blocked (sleep, I/O, a GPU).
    runs = _runs(3.0, 0.0)
    assert choose_basis(runs) == "wall"
    assert analyze([], runs, fixed_level=0.001).seconds.wall_per_cpu is None


def test_without_the_kernel_s_wait_the_cpu_share_decides() -> None:
    assert choose_basis(_runs(1.1, None)) == "cpu"
    assert choose_basis(_runs(3.0, None)) == "wall"


def test_the_run_queue_wait_is_measured() -> None:
    m = measure_command([sys.executable, "-c",
                         "import time\nend = time.process_time() + 0.3\n"
                         "while time.process_time() < end: pass"])
    assert m.exit_code == 0
    if m.wait_s is None:  # a kernel without schedstat: the CPU share decides instead
        pytest.skip("no /proc/<pid>/task/<tid>/schedstat here")
    # One thread cannot run and wait for longer than it lived (plus the fork before exec).
    assert 0 <= m.wait_s <= m.wall_s + 1 and math.isfinite(m.wait_s)


@pytest.mark.parametrize("basis", ["cpu", "wall"])
def test_a_run_stopped_at_the_budget_bounds_the_prediction(basis: str) -> None:
    """The runs' growth is under the start-up noise; the stopped run (12 s at x = 0.2, cut
    short) says the job is no faster than that: dropping it let P10 fall below it."""
    runs = [Run(0.001, 0, 2.0, 2.0, 100.0, fixed=True), Run(0.01, 0, 2.04, 2.04, 100.0),
            Run(0.03, 0, 2.3, 2.3, 101.0, wait_s=0.0), Run(0.03, 1, 2.33, 2.33, 101.0),
            Run(0.2, 0, 12.0, 11.9, 120.0, over_budget=True, exit_code=124)]
    result = analyze([], runs, fixed_level=0.001, basis=basis)
    assert result.predicted_seconds["p10"] > 12.0
    dropped = analyze([], runs[:-1], fixed_level=0.001, basis=basis)
    assert dropped.predicted_seconds["p10"] < 12.0


def test_a_stopped_run_saved_without_its_cpu_time_bounds_by_its_wall_time() -> None:
    runs = [Run(0.001, 0, 2.0, 2.0, 100.0, fixed=True), Run(0.01, 0, 2.04, 2.0, 100.0),
            Run(0.03, 0, 2.3, 2.25, 101.0), Run(0.03, 1, 2.33, 2.3, 101.0),
            Run(0.2, 0, 12.0, 0.0, 120.0, over_budget=True, exit_code=124)]
    assert analyze([], runs, fixed_level=0.001, basis="cpu").predicted_seconds["p10"] > 11.0


def _with_kernel_time(share: float | None) -> list[Run]:
    import dataclasses

    return [dataclasses.replace(r, system_s=None if share is None else share * r.cpu_s)
            for r in _runs(1.0, 0.0)]


def test_runs_spent_mostly_in_the_kernel_are_flagged() -> None:
    # 60 % of the largest runs' CPU in the kernel (the VM's page faults): the growth measured
    # is the machine's as much as the job's, and the output says so and what to change.
    warnings = analyze([], _with_kernel_time(0.6), fixed_level=0.001).warnings
    flagged = [w for w in warnings if "in the kernel" in w]
    assert len(flagged) == 1 and "60%" in flagged[0] and "MALLOC_MMAP_MAX_" in flagged[0]


@pytest.mark.parametrize("share", [0.1, 0.3, None])
def test_runs_with_little_or_unreported_kernel_time_are_not_flagged(share: float | None) -> None:
    warnings = analyze([], _with_kernel_time(share), fixed_level=0.001).warnings
    assert not any("in the kernel" in w for w in warnings)


def test_a_measured_run_reports_its_kernel_time() -> None:
    # Touching 200 MB of fresh memory costs page faults: kernel time, part of the CPU time.
    m = measure_command([sys.executable, "-c", "b = b'x' * (200 * 2**20)"])
    assert m.exit_code == 0 and m.system_s is not None
    assert 0 < m.system_s <= m.cpu_s
