"""mlscope."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy so `import mlscope` (and `mlscope --help`) loads no numpy/psutil/sklearn.
    if name == "calibrate":
        from mlscope.estimate.empirical.api import calibrate

        return calibrate
    raise AttributeError(f"module 'mlscope' has no attribute {name!r}")
