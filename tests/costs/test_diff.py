"""`mlscope cost diff OLD NEW --fail-above`: the cost gate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlscope.catalog import get_catalog
from mlscope.costs.diff import parse_threshold
from mlscope.errors import InputError

BASE = """\
project: {name: gate}
environments:
  - name: prod
    resources:
      - {kind: endpoint, name: api, instance: ml.c5.xlarge, min_instances: COUNT}
      - {kind: storage, name: lake, gb: 1000}
"""


def _pair(tmp_path: Path, old: int, new: int, extra: str = "") -> tuple[Path, Path]:
    a, b = tmp_path / "old.yaml", tmp_path / "new.yaml"
    a.write_text(BASE.replace("COUNT", str(old)))
    b.write_text(BASE.replace("COUNT", str(new)) + extra)
    return a, b


def test_diff_reports_the_change(run: Callable[..., Any], tmp_path: Path) -> None:
    old, new = _pair(tmp_path, 2, 3, "      - {kind: notebook, name: nb}\n")
    res = run("cost", "diff", str(old), str(new), "--month", "2026-06", "--json")
    assert res.code == 0, res.err
    data = res.json()
    price = get_catalog().instance("ml.c5.xlarge", "us-east-1").on_demand_usd_hr
    api = next(line for line in data["lines"] if line["line"] == "prod/api")
    assert api["delta_usd"] == pytest.approx(720 * price, abs=0.01)
    statuses = {line["line"]: line["status"] for line in data["lines"]}
    assert statuses == {"prod/api": "changed", "prod/lake": "unchanged", "prod/nb": "added"}
    assert data["delta_usd"] == pytest.approx(data["new_monthly_usd"] - data["old_monthly_usd"],
                                              abs=0.01)


def test_gate_exit_codes(run: Callable[..., Any], tmp_path: Path) -> None:
    old, new = _pair(tmp_path, 2, 3)
    assert run("cost", "diff", str(old), str(new), "--month", "2026-06",
               "--fail-above", "10%").code == 1
    assert run("cost", "diff", str(old), str(new), "--month", "2026-06",
               "--fail-above", "60%").code == 0
    assert run("cost", "diff", str(old), str(new), "--month", "2026-06",
               "--fail-above", "$100").code == 1
    ok = run("cost", "diff", str(old), str(new), "--month", "2026-06", "--fail-above", "$500")
    assert ok.code == 0 and "Gate" in ok.out
    # Cheaper never fails the gate.
    assert run("cost", "diff", str(new), str(old), "--month", "2026-06",
               "--fail-above", "1%").code == 0


@pytest.mark.parametrize(("text", "value", "percent"), [
    ("10%", 10, True), ("$500", 500, False), ("500", 500, False), ("2.5 %", 2.5, True),
    ("250usd", 250, False)])
def test_parse_threshold(text: str, value: float, percent: bool) -> None:
    threshold = parse_threshold(text)
    assert (threshold.value, threshold.percent) == (value, percent)


@pytest.mark.parametrize("text", ["ten", "$5%", "-3", ""])
def test_bad_threshold(text: str) -> None:
    with pytest.raises(InputError):
        parse_threshold(text)


def test_bad_threshold_cli(run: Callable[..., Any], tmp_path: Path) -> None:
    old, new = _pair(tmp_path, 2, 3)
    res = run("cost", "diff", str(old), str(new), "--fail-above", "lots")
    assert res.code == 2 and "10% or $500" in res.err
    res = run("cost", "diff", str(old), str(tmp_path / "missing.yaml"))
    assert res.code == 2 and "does not exist" in res.err
