"""Run one command and measure its whole process tree: wall time, CPU time, peak RSS, GPU.

CPU time comes from the kernel (`wait4` reports the child and every descendant it waited for);
peak RSS is the largest sum of RSS over the live tree, polled with psutil, and never below the
kernel's own per-process maximum. The command runs in its own session so that Ctrl-C reaches
mlscope, which then stops the whole tree, rather than killing the child half-way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlscope.errors import InputError

STDERR_TAIL_CHARS = 2000
TIMEOUT_EXIT_CODE = 124


@dataclass
class ProcessMeasurement:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int
    stderr_tail: str
    gpu_s: float | None = None  # GPU busy seconds (utilization x time), when a GPU is visible
    peak_gpu_mb: float | None = None


class _GpuSampler:
    """GPU memory and busy time through NVML when the `pynvml` module and a GPU are present."""

    def __init__(self) -> None:
        self.handles: list[object] = []
        self.busy_s = 0.0
        self.peak_mb = 0.0
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
        except Exception:  # no module, no driver or no GPU: GPU is simply not measured
            self.handles = []

    @property
    def active(self) -> bool:
        return bool(self.handles)

    def sample(self, dt: float) -> None:
        nv = self._nvml
        for h in self.handles:
            used = nv.nvmlDeviceGetMemoryInfo(h).used / 2**20
            self.peak_mb = max(self.peak_mb, used)
            self.busy_s += dt * nv.nvmlDeviceGetUtilizationRates(h).gpu / 100.0


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def _stop_group(pid: int) -> None:
    """Stop everything the command started: TERM, a grace period, then KILL."""
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # a dead but unreaped leader still counts as alive
            try:
                os.killpg(pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.05)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _tail(path: str) -> str:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - STDERR_TAIL_CHARS))
        return fh.read().decode("utf-8", errors="replace").strip()


def measure_command(argv: Sequence[str], env: Mapping[str, str] | None = None,
                    timeout_s: float | None = None, cwd: str | None = None) -> ProcessMeasurement:
    """Run `argv` to completion and measure it. KeyboardInterrupt stops the tree, then re-raises."""
    if not argv:
        raise InputError("no command to run", "put the training command after `--`")
    gpu = _GpuSampler()
    # stderr goes to a file, not a pipe: a chatty command cannot block on a full pipe.
    fd, err_path = tempfile.mkstemp(prefix="mlscope-stderr-")
    os.close(fd)
    try:
        with open(err_path, "wb") as err_fh:
            try:
                proc = subprocess.Popen(list(argv), env=dict(env) if env is not None else None,
                                        stdout=subprocess.DEVNULL, stderr=err_fh,
                                        stdin=subprocess.DEVNULL, cwd=cwd,
                                        start_new_session=True)
            except OSError as exc:
                raise InputError(f"cannot start `{argv[0]}`: {exc.strerror}",
                                 "check the command after `--` (path, permissions)") from None
            try:
                result = _watch(proc.pid, gpu, timeout_s, err_path)
            except BaseException:
                proc.returncode = -signal.SIGINT  # stopped and reaped by _watch
                raise
            proc.returncode = result.exit_code  # reaped by wait4; tell Popen so it does not wait
            return result
    finally:
        with contextlib.suppress(OSError):
            os.unlink(err_path)


def _watch(pid: int, gpu: _GpuSampler, timeout_s: float | None,
           err_path: str) -> ProcessMeasurement:
    start = time.perf_counter()
    peak = 0
    last = start
    try:
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            now = time.perf_counter()
            if done:
                break
            peak = max(peak, _tree_rss(pid))
            if gpu.active:
                gpu.sample(now - last)
            last = now
            if timeout_s is not None and now - start > timeout_s:
                _stop_group(pid)
                _reap(pid)
                return ProcessMeasurement(now - start, 0.0, peak / 2**20, TIMEOUT_EXIT_CODE,
                                          f"stopped after the {timeout_s:g} s timeout\n"
                                          + _tail(err_path))
            # Poll fast at first (short runs), then every 50 ms to keep the overhead small.
            time.sleep(0.01 if now - start < 1.0 else 0.05)
    except BaseException:
        _stop_group(pid)
        _reap(pid)
        raise
    wall = time.perf_counter() - start
    _stop_group(pid)  # leftovers the command started in the background belong to this run
    # ru_maxrss is in KiB on Linux: the largest single process, a floor for the tree's peak.
    peak = max(peak, int(usage.ru_maxrss) * 1024)
    code = os.waitstatus_to_exitcode(status)
    return ProcessMeasurement(
        wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, peak_rss_mb=peak / 2**20,
        exit_code=code, stderr_tail=_tail(err_path) if code != 0 else "",
        gpu_s=gpu.busy_s if gpu.active else None,
        peak_gpu_mb=gpu.peak_mb if gpu.active else None)
