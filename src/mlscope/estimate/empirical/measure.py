"""Run one command and measure its whole process tree: wall time, CPU time, peak RSS, GPU.

CPU time comes from the kernel (`wait4` reports the child and every descendant it waited for);
peak RSS is the largest sum of RSS over the live tree, polled from /proc, and never below the
kernel's own per-process maximum; the time spent waiting for a CPU (run queue) from each
thread's schedstat, so that a CPU-bound job slowed by its neighbours can be told from one
that sleeps or waits on I/O. The command runs in its own session so that Ctrl-C reaches
mlscope, which then stops the whole tree, rather than killing the child half-way.

Stopping is bounded whatever the load: the process group and every descendant seen get TERM,
then KILL after a short grace, and reaping waits at most `REAP_WAIT_S` (a process stuck in
the kernel cannot hold mlscope). A stop signal (SIGINT, SIGTERM) is recorded, not raised,
while the child is being started (an early Ctrl-C cannot leave a child nobody knows about)
and during the clean-up (a second one cannot cut it short), then acted on.
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
from typing import Any

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
    wait_s: float | None = None  # waiting for a CPU (run queue), where the kernel reports it
    system_s: float | None = None  # the part of cpu_s spent in the kernel (page faults, I/O)


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


def _sched_wait(tree: list[int], waits: dict[int, int]) -> bool:
    """Record the run-queue wait (ns, /proc/<pid>/task/*/schedstat) of each thread of
    the tree's processes in `waits`; False where the kernel does not report it.

    Wall time = CPU time + waiting for a CPU + blocked (sleep, I/O, a GPU): the wait tells a
    CPU-bound job slowed by its neighbours from a job that sleeps, whatever the load. A thread
    that ends between two polls keeps its last value (at most one poll of waiting is missed).
    """
    ok = False
    for proc in tree:
        try:
            tasks = os.listdir(f"/proc/{proc}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{proc}/task/{tid}/schedstat") as fh:
                    waits[int(tid)] = int(fh.read().split()[1])
                ok = True
            except (OSError, IndexError, ValueError):
                continue
    return ok


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


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Held:
    """Stop signals (SIGINT, SIGTERM) recorded instead of acted on while installed.

    Main thread only: elsewhere signals are not ours. A signal whose handler is SIG_IGN is
    left alone (whoever ignored it meant it). Blocking the signals instead would be inherited
    by a child started meanwhile (the mask survives exec); a handler is not (exec resets
    caught signals to their default). `signal.signal` runs any handler already due before it
    swaps, so a signal that arrived just before `restore` is recorded, not lost.
    """

    def __init__(self) -> None:
        self.pending: list[int] = []
        self.previous: dict[int, Any] = {}

    def install(self) -> None:
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    self.previous[sig] = signal.signal(sig, self._record)

    def _record(self, signum: int, frame: object) -> None:
        self.pending.append(signum)

    def restore(self) -> None:
        while self.previous:
            sig, handler = self.previous.popitem()
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)

    def replay(self) -> None:
        """Act on a recorded signal: stop as Ctrl-C does (the caller cleans up)."""
        if self.pending:
            raise Interrupted(self.pending[0])


class Interrupted(KeyboardInterrupt):
    """A stop signal (SIGINT or SIGTERM) acted on: the runs so far are kept."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """Hold stop signals while cleaning up, then act on them. Ignoring them instead lost a
    Ctrl-C that arrived during a slow clean-up: the run went on as if nothing was pressed."""
    held = _Held()
    try:
        held.install()
        yield
    finally:
        held.restore()
    held.replay()


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While inside: SIGINT and SIGTERM raise `Interrupted` (a KeyboardInterrupt), whatever
    this process inherited, so that `measure_command` stops the run's whole tree.

    A shell starts a background job of a script (`mlscope calibrate ... &`) with SIGINT
    ignored, and so do some test runners and CI wrappers: measured, the Ctrl-C test then
    failed every time (the signal was ignored and the 60 s run finished). And SIGTERM's
    default kills mlscope but not the run, which is in its own session: it would go on,
    unwatched. Main thread only; the previous handlers come back on exit.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


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
    # From before the child exists until `_watch` owns it, a stop signal is recorded, never
    # raised: a KeyboardInterrupt between `Popen` returning and the `try` below would leave
    # a child nobody stops.
    held = _Held()
    try:
        held.install()  # inside the `try`: whatever it swapped is restored
        with open(err_path, "wb") as err_fh:
            try:
                proc = subprocess.Popen(
                    list(argv), env=dict(env) if env is not None else None,
                    stdout=subprocess.DEVNULL, stderr=err_fh, stdin=subprocess.DEVNULL,
                    cwd=cwd, start_new_session=True)
            except OSError as exc:
                raise InputError(f"cannot start `{argv[0]}`: {exc.strerror}",
                                 "check the command after `--` (path, permissions)") from None
            try:
                held.restore()  # from here a stop signal raises, inside this `try`
                held.replay()
                result = _watch(proc.pid, gpu, timeout_s, err_path)
            except BaseException:
                proc.returncode = -signal.SIGINT  # stopped and reaped below: Popen must not
                with _shielded():  # wait (set first: a signal held here re-raises on exit)
                    _stop_group(proc.pid)
                    _reap(proc.pid)
                raise
            proc.returncode = result.exit_code  # reaped by wait4; tell Popen so it does not wait
            return result
    finally:
        held.restore()
        with contextlib.suppress(OSError):
            os.unlink(err_path)


def _tree_cpu(tree: Sequence[int]) -> float:
    """CPU seconds the processes of a still-running tree have used (with their reaped
    children's); 0 where psutil cannot read them."""
    try:
        import psutil
    except ImportError:
        return 0.0
    total = 0.0
    for p in tree:
        try:
            t = psutil.Process(p).cpu_times()
        except (psutil.Error, OSError):
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _watch(pid: int, gpu: _GpuSampler, timeout_s: float | None,
           err_path: str) -> ProcessMeasurement:
    """Poll the tree until the leader exits; an exception leaves the stopping to the caller."""
    start = time.perf_counter()
    peak = 0
    last = start
    waits: dict[int, int] = {}
    sched = True
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        now = time.perf_counter()
        if done:
            break
        tree = _tree(pid)
        peak = max(peak, sum(_rss(p) for p in tree))
        if sched:
            sched = _sched_wait(tree, waits)
        if gpu.active:
            gpu.sample(now - last)
        last = now
        if timeout_s is not None and now - start > timeout_s:
            used = _tree_cpu(tree)  # before stopping: a lower bound on the run's CPU time
            with _shielded():
                _stop_group(pid)
                _reap(pid)
            return ProcessMeasurement(now - start, used, peak / 2**20, TIMEOUT_EXIT_CODE,
                                      f"stopped after the {timeout_s:g} s timeout\n"
                                      + _tail(err_path))
        # Poll fast at first (short runs), then every 50 ms to keep the overhead small.
        time.sleep(0.01 if now - start < 1.0 else 0.05)
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
        gpu_name=gpu.name if gpu.active else None,
        wait_s=sum(waits.values()) / 1e9 if sched and waits else None,
        system_s=usage.ru_stime)
