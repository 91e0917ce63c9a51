"""One lock around every release state change (read -> decide -> write).

Locally a `flock` on `<state dir>/release.lock`: held by the process, released by the kernel if
the process dies, so a crash never leaves a stale lock. Waiting is bounded; a command that
cannot get the lock fails (exit 2) rather than deciding on state that may change under it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlscope.errors import InputError

LOCK_FILE = "release.lock"
WAIT_ENV = "MLSCOPE_LOCK_WAIT_S"


@contextmanager
def release_lock(state: Path, wait_s: float | None = None) -> Iterator[None]:
    wait = float(os.environ.get(WAIT_ENV, "120")) if wait_s is None else wait_s
    state.mkdir(parents=True, exist_ok=True)
    with open(state / LOCK_FILE, "a") as fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise InputError(f"another release command has held {state / LOCK_FILE} "
                                     f"for over {wait:.0f} s", "retry when it has finished"
                                     ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
