"""docs/costs.md shows real output: its schedule example matches what the command prints."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "costs.md"


def test_documented_schedule_output_is_real(run: Callable[..., Any]) -> None:
    text = DOC.read_text()
    block = text.split("```console\n$ mlscope cost schedule --expr", 1)[1].split("```", 1)[0]
    command = "mlscope cost schedule --expr" + block.splitlines()[0]
    args = shlex.split(command)[1:]
    actual = run(*args).json()
    for key, value in re.findall(r'"(\w+)": ([0-9.]+)', block):
        assert actual[key] == float(value), key


def test_documented_commands_run(run: Callable[..., Any]) -> None:
    root = DOC.parent.parent
    for line in re.findall(r"^\$ (mlscope .+)$", DOC.read_text(), flags=re.M):
        args = shlex.split(line.rstrip("\\"))[1:]
        if any(a.endswith(".yaml") and not (root / a).exists() for a in args):
            continue  # placeholders such as main/mlscope.yaml
        if "-o" in args or line.endswith("\\"):
            continue
        res = run(*[str(root / a) if a.startswith("examples/") else a for a in args])
        assert res.code in (0, 2), line
        if "M-X" not in line:
            assert res.code == 0, (line, res.err)
