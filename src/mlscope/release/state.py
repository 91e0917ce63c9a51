"""Where release state lives: the MLflow database, artifacts, the audit log and alias history.

Default `.mlscope/` under the current directory, or the directory named by `MLSCOPE_STATE_DIR`.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "MLSCOPE_STATE_DIR"
DEFAULT_STATE_DIR = ".mlscope"


def state_dir(create: bool = True) -> Path:
    """The project's release state directory (created on first use)."""
    raw = os.environ.get(STATE_ENV, "").strip()
    path = Path(raw).expanduser() if raw else Path.cwd() / DEFAULT_STATE_DIR
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path.resolve()
