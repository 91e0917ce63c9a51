"""Run one command and measure its whole process tree: wall time, CPU time, peak RSS, GPU.

CPU time comes from the kernel (`wait4` reports the child and every descendant it waited for);
peak RSS is the largest sum of RSS over the live tree, polled with psutil, and never below the
kernel's own per-process maximum. The command runs in its own session so that Ctrl-C reaches
mlscope, which then stops the whole tree, rather than killing the child half-way.

Stopping is bounded whatever the load: the process group and every descendant seen get TERM,
then KILL after a short grace, and reaping waits at most `REAP_WAIT_S` (a process stuck in
the kernel cannot hold mlscope). SIGINT is blocked while the child is being started, so an
early Ctrl-C cannot leave a child nobody knows about, and ignored during the clean-up, so a
second Ctrl-C cannot cut it short.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from mlscope.errors import InputError, require

STDERR_TAIL_CHARS = 2000
TIMEOUT_EXIT_CODE = 124
TERM_GRACE_S = 1.0
REAP_WAIT_S = 5.0


@dataclass
class ProcessMeasurement:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int
    stderr_tail: str
    gpu_s: float | None = None  # GPU busy seconds (utilization x time), when a GPU is visible
    peak_gpu_mb: float | None = None
    gpu_name: str | None = None


class _GpuSampler:
    """GPU memory and busy time through NVML when the `pynvml` module and a GPU are present.

    Memory is the device's used memory above what was in use before the command started
    (NVML's per-process figures are missing in containers), per device; busy time is
    utilization x time, averaged over the devices. Tested against a fake NVML module only:
    not validated on a real GPU.
    """

    def __init__(self) -> None:
        self.handles: list[object] = []
        self.busy_s = 0.0
        self.peak_mb = 0.0
        self.name: str | None = None
        self.baseline: list[float] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
            if self.handles:
                name = pynvml.nvmlDeviceGetName(self.handles[0])
                self.name = name.decode() if isinstance(name, bytes) else str(name)
                self.baseline = [pynvml.nvmlDeviceGetMemoryInfo(h).used / 2**20
                                 for h in self.handles]
        except Exception:  # no module, no driver or no GPU: GPU is simply not measured
            self.handles = []

    @property
    def active(self) -> bool:
        return bool(self.handles)

    def sample(self, dt: float) -> None:
        nv = self._nvml
        busy = 0.0
        for h, base in zip(self.handles, self.baseline, strict=True):
            used = nv.nvmlDeviceGetMemoryInfo(h).used / 2**20 - base
            self.peak_mb = max(self.peak_mb, used)
            busy += nv.nvmlDeviceGetUtilizationRates(h).gpu / 100.0
        self.busy_s += dt * busy / len(self.handles)


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _proc_children(pid: int) -> list[int] | None:
    """Direct children from /proc (one small read per thread), None where unavailable.

    psutil's `children()` scans every process on the machine; polled every 50 ms on a busy
    machine that made mlscope itself a CPU hog, and slow to clean up after Ctrl-C.
    """
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []
    except OSError:
        return None
    out: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
        except FileNotFoundError:
            continue
        except OSError:
            return None
    return out


def _tree(pid: int) -> list[int]:
    """The command and every live descendant, parents first."""
    seen, queue = [pid], [pid]
    while queue:
        kids = _proc_children(queue.pop())
        if kids is None:  # no /proc children files (old kernel, not Linux): ask psutil
            psutil = require("psutil", "calibrate")
            try:
                return [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]
            except psutil.Error:
                return [pid]
        for kid in kids:
            if kid not in seen:
                seen.append(kid)
                queue.append(kid)
    return seen


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        pass
    psutil = require("psutil", "calibrate")
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def _tree_rss(pid: int) -> int:
    return sum(_rss(p) for p in _tree(pid))


def _descendants(pid: int) -> list[int]:
    """Every live descendant (some may have left the process group with setsid)."""
    try:
        return _tree(pid)[1:]
    except Exception:  # best effort: the process group is signalled anyway
        return []


def _alive(pid: int, others: list[int]) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # a dead but unreaped leader still counts as alive
    try:
        os.killpg(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        pass
    for other in others:
        try:
            os.kill(other, 0)
            return True
        except (ProcessLookupError, PermissionError):
            continue
    return False


def _stop_group(pid: int) -> None:
    """Stop everything the command started: TERM, a short grace, then KILL; bounded."""
    others = _descendants(pid)
    for sig, grace in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, REAP_WAIT_S)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        for other in others:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(other, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _alive(pid, others):
                return
            time.sleep(0.02)


def _reap(pid: int) -> None:
    """Collect the leader's exit status, waiting at most REAP_WAIT_S."""
    deadline = time.monotonic() + REAP_WAIT_S
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done or time.monotonic() > deadline:
            return
        time.sleep(0.02)


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """Hold SIGINT while cleaning up, then act on it (main thread only: elsewhere signals are
    not ours). Ignoring it instead lost a Ctrl-C that arrived during a slow clean-up on a
    loaded machine: the run went on as if nothing had been pressed."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt


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
            # A Ctrl-C while the child is being started is held until `_watch` can stop it.
            pending: list[int] = []
            try:
                with _deferred_sigint(pending):
                    proc = subprocess.Popen(
                        list(argv), env=dict(env) if env is not None else None,
                        stdout=subprocess.DEVNULL, stderr=err_fh, stdin=subprocess.DEVNULL,
                        cwd=cwd, start_new_session=True)
            except OSError as exc:
                raise InputError(f"cannot start `{argv[0]}`: {exc.strerror}",
                                 "check the command after `--` (path, permissions)") from None
            try:
                result = _watch(proc.pid, gpu, timeout_s, err_path, bool(pending))
            except BaseException:
                proc.returncode = -signal.SIGINT  # stopped and reaped by _watch
                raise
            proc.returncode = result.exit_code  # reaped by wait4; tell Popen so it does not wait
            return result
    finally:
        with contextlib.suppress(OSError):
            os.unlink(err_path)


def _watch(pid: int, gpu: _GpuSampler, timeout_s: float | None,
           err_path: str, interrupted: bool = False) -> ProcessMeasurement:
    start = time.perf_counter()
    peak = 0
    last = start
    try:
        if interrupted:
            raise KeyboardInterrupt
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
                with _shielded():
                    _stop_group(pid)
                    _reap(pid)
                return ProcessMeasurement(now - start, 0.0, peak / 2**20, TIMEOUT_EXIT_CODE,
                                          f"stopped after the {timeout_s:g} s timeout\n"
                                          + _tail(err_path))
            # Poll fast at first (short runs), then every 50 ms to keep the overhead small.
            time.sleep(0.01 if now - start < 1.0 else 0.05)
    except BaseException:
        with _shielded():
            _stop_group(pid)
            _reap(pid)
        raise
    wall = time.perf_counter() - start
    with _shielded():
        _stop_group(pid)  # leftovers the command started in the background belong to this run
    # ru_maxrss is in KiB on Linux: the largest single process, a floor for the tree's peak.
    peak = max(peak, int(usage.ru_maxrss) * 1024)
    code = os.waitstatus_to_exitcode(status)
    return ProcessMeasurement(
        wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, peak_rss_mb=peak / 2**20,
        exit_code=code, stderr_tail=_tail(err_path) if code != 0 else "",
        gpu_s=gpu.busy_s if gpu.active else None,
        peak_gpu_mb=gpu.peak_mb if gpu.active else None,
        gpu_name=gpu.name if gpu.active else None)



@contextlib.contextmanager
def _deferred_sigint(pending: list[int]) -> Iterator[None]:
    """Hold a SIGINT (record it in `pending`) while the child is started.

    Blocking the signal instead would be inherited by the child (the signal mask survives
    exec); a handler does not (exec resets caught signals to their default).
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
