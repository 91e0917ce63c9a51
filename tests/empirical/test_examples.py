"""The calibration examples run at a small size and print what they trained (a smoke test:
the benchmark times them at full size, see benchmarks/calibrate_accuracy.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "calibrate"


@pytest.mark.parametrize(("script", "args", "printed"), [
    ("train_linear.py", ("--rows", "3000", "--fraction", "0.5"), "rows=1500 iterations="),
    ("train_svc.py", ("--rows", "2000", "--fraction", "0.5"), "rows=1000"),
    ("train_hgb.py", ("--rows", "4000", "--fraction", "0.5", "--threads", "1"), "rows=2000"),
    ("train_krr.py", ("--rows", "2000", "--fraction", "0.5"), "rows=1000 train_r2="),
    ("train_knn.py", ("--rows", "2000", "--fraction", "0.5"), "rows=1000 train_accuracy="),
    ("train_ward.py", ("--rows", "2000", "--fraction", "0.5"), "rows=1000 clusters=12"),
])
def test_an_example_trains_on_its_fraction(script: str, args: tuple[str, ...],
                                           printed: str) -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-500:]
    assert printed in out.stdout


def test_an_example_refuses_a_fraction_outside_0_1() -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "train_linear.py"), "--fraction", "2"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 2 and "--fraction must be in (0, 1]" in out.stderr
