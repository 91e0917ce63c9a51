"""docs/inference.md runs: every `$ mlscope ...` line in it exits 0."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_documented_commands_run() -> None:
    lines = re.findall(r"^\$ (mlscope .+)$", (ROOT / "docs" / "inference.md").read_text(),
                       flags=re.M)
    assert len(lines) >= 6
    for line in lines:
        args = [str(ROOT / a) if a.startswith("examples/") else a for a in shlex.split(line)[1:]]
        r = subprocess.run([sys.executable, "-m", "mlscope", *args], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, (line, r.stderr)
