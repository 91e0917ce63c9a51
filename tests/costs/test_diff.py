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
    # The catalog's ml.* price is rough: its own uncertainty (median 1x) spreads the line.
    assert api["delta_p50_usd"] == pytest.approx(720 * price, rel=0.01)
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


RISKY = """\
project: {name: gate}
environments:
  - name: prod
    resources:
      - {kind: endpoint, name: api, usd_per_hour: 0.25, min_instances: MIN,
         max_instances: MAX, typical_instances: 3}
budget: {monthly_usd: BUDGET}
"""


def _risky(tmp_path: Path, old: tuple[int, int], new: tuple[int, int],
           budget: float) -> tuple[Path, Path]:
    a, b = tmp_path / "old.yaml", tmp_path / "new.yaml"
    for path, (low, high) in ((a, old), (b, new)):
        path.write_text(RISKY.replace("MIN", str(low)).replace("MAX", str(high))
                        .replace("BUDGET", str(budget)))
    return a, b


def test_gate_fails_a_wider_tail_with_a_flat_median(run: Callable[..., Any],
                                                    tmp_path: Path) -> None:
    """Autoscaling 2-4 → 1-5 around a typical 3: the median stays at 3 instances, the P90 and
    the chance of going over a budget of 3.6 instances rise."""
    hours = 720 * 0.25  # June has 720 h; a price given in the spec is exact
    old, new = _risky(tmp_path, (2, 4), (1, 5), round(3.6 * hours, 2))
    args = ("cost", "diff", str(old), str(new), "--month", "2026-06", "--draws", "20000")
    data = run(*args, "--json").json()
    # By hand, triangular(a, c=3, b): symmetric, so the median is 3 in both; the P90 solves
    # (b - x)^2 = 0.1 (b - a)(b - c): old 4 - sqrt(0.2) = 3.553, new 5 - sqrt(0.8) = 4.106.
    assert data["old"]["p50"] == pytest.approx(3.0 * hours, rel=0.01)
    assert data["new"]["p50"] == pytest.approx(3.0 * hours, rel=0.01)
    assert data["old"]["p90"] == pytest.approx((4 - 0.2 ** 0.5) * hours, rel=0.01)
    assert data["new"]["p90"] == pytest.approx((5 - 0.8 ** 0.5) * hours, rel=0.01)
    # P(X > 3.6) = (b - 3.6)^2 / ((b - a)(b - c)): old 0.16 / 2 = 8 %, new 1.96 / 8 = 24.5 %.
    assert data["old"]["overrun_probability"] == pytest.approx(0.08, abs=0.01)
    assert data["new"]["overrun_probability"] == pytest.approx(0.245, abs=0.01)
    # A 10 % gate on the median passes; on P90 (+15.6 %) and on risk (+16.5 points) it
    # fails; by default the measure that changed most (risk) decides.
    assert run(*args, "--fail-above", "10%", "--on", "p50").code == 0
    assert run(*args, "--fail-above", "10%", "--on", "p90").code == 1
    assert run(*args, "--fail-above", "10%", "--on", "risk").code == 1
    assert run(*args, "--fail-above", "20%", "--on", "p90").code == 0
    default = run(*args, "--fail-above", "10%")
    assert default.code == 1 and "Gate on RISK" in default.out
    text = run(*args).out
    assert "P50" in text and "P90" in text and "Overrun probability" in text


def test_risk_gate_needs_a_budget_and_points(run: Callable[..., Any], tmp_path: Path) -> None:
    old, new = _pair(tmp_path, 2, 3)
    res = run("cost", "diff", str(old), str(new), "--fail-above", "5%", "--on", "risk")
    assert res.code == 2 and "needs a budget" in res.err
    res = run("cost", "diff", str(old), str(new), "--fail-above", "$5", "--on", "risk",
              "--budget", "1000")
    assert res.code == 2 and "percentage points" in res.err
