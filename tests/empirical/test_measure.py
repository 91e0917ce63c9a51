"""Measuring a real process tree: CPU time, peak RSS of parent + child, failures, timeouts."""

from __future__ import annotations

import sys
import textwrap

from mlscope.estimate.empirical.measure import TIMEOUT_EXIT_CODE, measure_command

TREE = textwrap.dedent("""
    import subprocess, sys, time
    hold = bytearray(120 * 2**20)  # touched below, so it is resident
    for i in range(0, len(hold), 4096): hold[i] = 1
    child = "b = bytearray(80 * 2**20)\\nfor i in range(0, len(b), 4096): b[i] = 1\\n" \\
            "import time; time.sleep(0.6)"
    subprocess.run([sys.executable, "-c", child], check=True)
    end = time.process_time() + 0.3
    while time.process_time() < end: pass
""")


def test_peak_rss_and_cpu_cover_the_whole_tree() -> None:
    m = measure_command([sys.executable, "-c", TREE])
    assert m.exit_code == 0
    # Parent 120 MB and child 80 MB are alive together: the tree peak is above either alone.
    assert m.peak_rss_mb > 200
    assert m.cpu_s >= 0.3
    assert m.wall_s >= 0.6


def test_a_failing_command_reports_its_code_and_stderr_tail() -> None:
    script = "import sys; print('x' * 5000, file=sys.stderr); sys.exit('bad data at row 7')"
    m = measure_command([sys.executable, "-c", script])
    assert m.exit_code == 1
    assert m.stderr_tail.endswith("bad data at row 7")
    assert len(m.stderr_tail) <= 2000


def test_a_run_over_its_timeout_is_stopped() -> None:
    m = measure_command([sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=0.5)
    assert m.exit_code == TIMEOUT_EXIT_CODE
    assert m.wall_s < 5
    assert "timeout" in m.stderr_tail


def test_a_stopped_run_reports_the_cpu_it_used() -> None:
    """A run stopped at the budget is a lower bound in the fit: on the CPU basis it needs the
    CPU seconds used until then (0 would bound nothing)."""
    busy = "while True: pass"
    m = measure_command([sys.executable, "-c", busy], timeout_s=1.0)
    assert m.exit_code == TIMEOUT_EXIT_CODE
    assert 0 < m.cpu_s <= m.wall_s * 2
