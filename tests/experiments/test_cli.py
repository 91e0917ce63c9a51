"""The experiment and monitor CLI contracts, and bad input refused in one line."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def ab_file(tmp_path: Path) -> Path:
    # Exactly 4,000 units per arm: A converts 400 (10 %), B 480 (12 %), a known +20 % lift.
    rows: list[list[object]] = []
    for variant, conversions in (("A", 400), ("B", 480)):
        rows += [[f"{variant}{i}", variant, int(i < conversions)] for i in range(4_000)]
    return _write(tmp_path / "ab.csv", ["unit", "variant", "converted"], rows)


def test_analyze_contract_and_figures(run: Callable, ab_file: Path) -> None:
    res = run("experiment", "analyze", ab_file, "--metric", "converted",
              "--weights", "A=0.5,B=0.5", "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert out["srm"] == {**out["srm"], "p_value": pytest.approx(1.0), "mismatch": False}
    assert [(v["name"], v["n"], v["mean"]) for v in out["variants"]] == [
        ("A", 4000, pytest.approx(0.10)), ("B", 4000, pytest.approx(0.12))]
    (cmp,) = out["comparisons"]
    assert cmp["variant"] == "B" and cmp["lift"]["estimate"] == pytest.approx(0.20)
    # delta method by hand: sample variances p(1-p) n/(n-1)
    va, vb = 0.1 * 0.9 * 4000 / 3999, 0.12 * 0.88 * 4000 / 3999
    se = np.sqrt(vb / 4000 / 0.01 + 0.0144 * va / 4000 / 1e-4)
    assert cmp["lift"]["ci_low"] == pytest.approx(0.20 - 1.9603 * se, rel=2e-3)
    assert cmp["lift"]["ci_high"] == pytest.approx(0.20 + 1.9603 * se, rel=2e-3)
    assert 0 < cmp["p_value"] < 0.01 and cmp["chance_to_win"] > 0.99
    assert out["decision"] == "ship"


def test_sequential_is_wider_and_more_cautious(run: Callable, ab_file: Path) -> None:
    fixed = run("experiment", "analyze", ab_file, "--metric", "converted", "--json").json()
    seq = run("experiment", "analyze", ab_file, "--metric", "converted", "--sequential",
              "--tuning", "8000", "--json").json()
    f, s = fixed["comparisons"][0], seq["comparisons"][0]
    assert s["lift"]["ci_low"] < f["lift"]["ci_low"] and s["p_value"] > f["p_value"]


def test_srm_stops_the_experiment(run: Callable, tmp_path: Path) -> None:
    rows = [[i, "A", i % 10 == 0] for i in range(6_000)] + [[i, "B", i % 9 == 0]
                                                             for i in range(4_000)]
    path = _write(tmp_path / "srm.csv", ["unit", "variant", "converted"], rows)
    out = run("experiment", "analyze", path, "--metric", "converted", "--json").json()
    assert out["srm"]["mismatch"] and out["decision"] == "stop"


@pytest.mark.parametrize(("rows", "args", "message"), [
    ([["A", 1], ["B", 0]], ["--metric", "nope"], "no column 'nope'"),
    ([["A", 1], ["A", 0]], ["--metric", "converted"], "only one variant"),
    ([["A", "yes"], ["B", 0]], ["--metric", "converted"], "is not a number"),
    ([["A", "nan"], ["B", 0]], ["--metric", "converted"], "missing (empty or NaN)"),
    ([["A", "inf"], ["B", 0]], ["--metric", "converted"], "finite"),
    ([["A", 1], ["B", 0]] * 3, ["--metric", "converted", "--weights", "A=0.5,B=0.4"],
     "sum to 0.9"),
])
def test_bad_input_is_one_line_exit_2(run: Callable, tmp_path: Path, rows: list,
                                      args: list[str], message: str) -> None:
    path = _write(tmp_path / "bad.csv", ["variant", "converted"], rows)
    res = run("experiment", "analyze", path, *args, "--json")
    assert res.code == 2 and message in res.err and len(res.err.strip().splitlines()) == 1


def test_empty_file_is_refused(run: Callable, tmp_path: Path) -> None:
    for body in ("", "variant,converted\n"):
        (tmp_path / "e.csv").write_text(body)
        res = run("experiment", "analyze", tmp_path / "e.csv", "--metric", "converted")
        assert res.code == 2 and len(res.err.strip().splitlines()) == 1


def test_simulate_contract(run: Callable) -> None:
    res = run("experiment", "simulate", "--arms", "0.05,0.06,0.07", "--horizon", "2000",
              "--policy", "ucb1", "--seed", "3", "--json")
    assert res.code == 0
    out = res.json()
    assert out["regret"] == run("experiment", "simulate", "--arms", "0.05,0.06,0.07",
                                "--horizon", "2000", "--policy", "ucb1", "--seed", "3",
                                "--json").json()["regret"]
    assert sum(out["pulls"]) == 2000
    # regret = sum of gaps of the arms pulled, a hand identity on the pull counts
    assert out["regret"] == pytest.approx(0.02 * out["pulls"][0] + 0.01 * out["pulls"][1])
    bad = run("experiment", "simulate", "--arms", "0.05", "--policy", "ucb1")
    assert bad.code == 2


def test_drift_contract(run: Callable, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ref = _write(tmp_path / "ref.csv", ["age", "plan"],
                 [[float(rng.normal(40, 10)), rng.choice(["free", "pro"])] for _ in range(400)])
    cur = _write(tmp_path / "cur.csv", ["age", "plan"],
                 [[float(rng.normal(48, 10)), rng.choice(["free", "pro"])] for _ in range(400)])
    out = run("monitor", "drift", ref, cur, "--json").json()
    by = {f["name"]: f for f in out["features"]}
    assert by["age"]["test"] == "ks" and by["age"]["drift"] and "p_value" in by["age"]
    assert by["plan"]["test"] == "chi2" and not by["plan"]["drift"]
    assert out["drift"] is True
    only = run("monitor", "drift", ref, cur, "--columns", "plan", "--json").json()
    assert [f["name"] for f in only["features"]] == ["plan"] and only["drift"] is False
    res = run("monitor", "drift", ref, cur, "--columns", "salary", "--json")
    assert res.code == 2 and "no column 'salary'" in res.err


def test_drift_html_report(run: Callable, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    ref = _write(tmp_path / "ref.csv", ["x"], [[float(v)] for v in rng.normal(0, 1, 300)])
    cur = _write(tmp_path / "cur.csv", ["x"], [[float(v)] for v in rng.normal(1, 1, 300)])
    out = run("monitor", "drift", ref, cur, "--html", tmp_path / "r" / "drift.html", "--json")
    assert out.code == 0 and out.json()["html"].endswith("drift.html")
    page = (tmp_path / "r" / "drift.html").read_text()
    assert "Drift in x" in page and "<svg" in page and "<script" not in page
