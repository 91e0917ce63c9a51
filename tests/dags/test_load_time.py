"""A DAG file's load time leaves out the CPU wait a busy machine adds, never its own work."""

from __future__ import annotations

import sys
import time

import pytest

from mlscope.dags._probe import load_seconds, run_queue_wait_s


def test_wait_for_a_cpu_is_taken_out() -> None:
    # 0.3 s of own work stretched to 0.9 s by 0.6 s on the run queue: 0.3 s counts.
    assert load_seconds(0.85, 0.9, 0.6) == pytest.approx(0.3)


def test_own_work_is_never_hidden() -> None:
    # No wait: Airflow's duration stands; a sleep (2.5 s) is not run-queue wait.
    assert load_seconds(2.5, 2.6, 0.0) == pytest.approx(2.5)
    assert load_seconds(2.5, 2.6, None) == 2.5  # no schedstat: as measured
    assert load_seconds(None, 0.7, None) == 0.7  # no Airflow stat: the call's wall


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="schedstat is Linux's")
def test_schedstat_is_read_and_a_sleep_adds_no_wait() -> None:
    before = run_queue_wait_s()
    assert before is not None and before >= 0
    time.sleep(0.2)
    after = run_queue_wait_s()
    assert after is not None and after - before < 0.2  # sleeping is not waiting for a CPU
