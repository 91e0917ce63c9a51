"""`mlscope cost FILE`: run-rate by environment, schedules' savings, Monte Carlo, budget risk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlscope.catalog import get_catalog
from mlscope.costs.runrate import estimate_costs
from mlscope.costs.schedules import parse_custodian, simulate_month
from mlscope.spec.loader import load_spec, load_spec_text


def _resource(report: dict[str, Any], env: str, name: str) -> dict[str, Any]:
    found = next(e for e in report["environments"] if e["name"] == env)
    return next(r for r in found["resources"] if r["name"] == name)


def test_report_prices_every_environment(run: Callable[..., Any], spec_file: Path) -> None:
    res = run("cost", str(spec_file), "--month", "2026-03", "--json")
    assert res.code == 0, res.err
    report = res.json()
    assert [e["name"] for e in report["environments"]] == ["dev", "qa", "prod"]
    # The notebook runs the schedule's hours, minus the holiday (Friday 2026-03-20).
    nb = _resource(report, "dev", "nb")
    price = get_catalog().instance("ml.t3.medium", "us-east-1").on_demand_usd_hr
    assert nb["running_hours"] == [21 * 12]
    assert nb["always_on_hours"] == [743]
    assert nb["monthly"][0]["point_usd"] == pytest.approx(2 * 252 * price, abs=0.01)
    assert nb["monthly"][0]["savings_usd"] == pytest.approx(2 * (743 - 252) * price, abs=0.01)
    # QA follows Berlin hours, prod runs around the clock in UTC.
    qa_nb = _resource(report, "qa", "qa-nb")
    assert qa_nb["running_hours"] == [22 * 10] and qa_nb["always_on_hours"] == [743]
    api = _resource(report, "prod", "api")
    assert api["running_hours"] == [744]
    assert api["monthly"][0]["savings_usd"] == 0
    # Totals add up.
    total = report["total"]["monthly"][0]
    env_sum = sum(e["monthly"][0]["point_usd"] for e in report["environments"])
    assert total["point_usd"] == pytest.approx(env_sum, abs=0.05)
    assert total["p10"] <= total["p50"] <= total["p90"]
    assert report["prices"] and all(p["source"] for p in report["prices"])


def test_monte_carlo_is_seeded_and_spreads(spec_file: Path) -> None:
    spec = load_spec(spec_file)
    a = estimate_costs(spec, (2026, 3), 3, draws=2000, seed=7)
    b = estimate_costs(spec, (2026, 3), 3, draws=2000, seed=7)
    c = estimate_costs(spec, (2026, 3), 3, draws=2000, seed=8)
    assert a["total"] == b["total"]
    assert a["total"] != c["total"]
    api = _resource(a, "prod", "api")["monthly"][0]
    price = get_catalog().instance("ml.c5.xlarge", "us-east-1").on_demand_usd_hr
    # Triangular(2, 3, 6) instances: P10/P90 inside the autoscaling range.
    assert 2 * 744 * price < api["p10"] < api["p50"] < api["p90"] < 6 * 744 * price
    # Storage grows month by month.
    scratch = _resource(a, "dev", "scratch")["monthly"]
    assert scratch[0]["point_usd"] < scratch[1]["point_usd"] < scratch[2]["point_usd"]


def test_training_reruns_raise_the_cost(spec_file: Path) -> None:
    spec = load_spec(spec_file)
    base = estimate_costs(spec, (2026, 3), 1, draws=4000)
    retrain = _resource(base, "prod", "retrain")["monthly"][0]
    price = get_catalog().instance("ml.m5.4xlarge", "us-east-1").on_demand_usd_hr
    # 4.3 runs × 1.2 (reruns) × median sqrt(1·3) h.
    assert retrain["point_usd"] == pytest.approx(4.3 * 1.2 * 3 ** 0.5 * price, abs=0.006)
    assert retrain["p10"] < retrain["point_usd"] < retrain["p90"]


def test_budget_overrun_probability_and_drivers(spec_file: Path) -> None:
    spec = load_spec(spec_file)
    tight = estimate_costs(spec, (2026, 3), 2, draws=4000, budget_usd=900)
    loose = estimate_costs(spec, (2026, 3), 2, draws=4000, budget_usd=5000)
    assert tight["budget"]["any_month_overrun_probability"] > \
        loose["budget"]["any_month_overrun_probability"]
    assert loose["budget"]["horizon_overrun_probability"] == 0
    drivers = tight["budget"]["drivers"]
    assert drivers[0]["line"] == "prod/api"  # autoscaling traffic dominates the spread
    assert sum(d["share_of_variance"] for d in drivers) == pytest.approx(1, abs=0.02)
    top = drivers[0]
    assert top["overrun_probability_if_high"] > top["overrun_probability_if_low"]
    # The spec's budget is used without --budget.
    default = estimate_costs(spec, (2026, 3), 1, draws=1000)
    assert default["budget"]["monthly_usd"] == 1500


def test_idle_stop_caps_notebook_hours() -> None:
    spec = load_spec_text("""
project: {name: p}
environments:
  - name: dev
    schedule: "off=(M-F,19);on=(M-F,7);tz=utc"
    resources:
      - {kind: notebook, name: nb, instance: ml.t3.medium, idle_stop_minutes: 60,
         active_hours_per_day: [2, 4]}
""")
    report = estimate_costs(spec, (2026, 6), 1, draws=2000)
    nb = _resource(report, "dev", "nb")
    days = simulate_month(parse_custodian("off=(M-F,19);on=(M-F,7);tz=utc"), 2026, 6).days_running
    assert nb["running_hours"] == [pytest.approx(days * (8 ** 0.5 + 1), abs=0.01)]
    assert any("idle stop" in a for a in report["assumptions"])


def test_estimator_prices_training_without_hours() -> None:
    text = """
project: {name: p}
dataset: {tokens: 1e9}
model: {name: llama-2-7b}
training: {accelerator: H100, count: 8, runs_per_month: 2}
environments:
  - name: prod
    resources:
      - {kind: training, name: finetune}
"""
    from mlscope.estimate import api as estimator

    spec = load_spec_text(text)
    one_run = estimator.training_run_cost(spec)
    report = estimate_costs(spec, (2026, 3), 1, draws=2000)
    line = _resource(report, "prod", "finetune")
    if one_run is None:
        pytest.skip("the estimator cannot price this spec")
    assert line["monthly"][0]["point_usd"] == pytest.approx(2 * one_run["p50"], abs=0.006)


def test_table_output(run: Callable[..., Any], spec_file: Path) -> None:
    res = run("cost", str(spec_file), "--month", "2026-03", "--months", "2", "--draws", "500")
    assert res.code == 0, res.err
    assert "dev/nb" in res.out and "P(overrun)" in res.out and "[low, high]" in res.out


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("project: {name: p}\n", "no environments"),
    ("project: {name: p}\nenvironments:\n  - name: a\n    resources:\n"
     "      - {kind: ec2, name: x, instance: m5.larg}\n", "did you mean m5.large"),
    ("project: {name: p, region: eu-west-1}\nenvironments:\n  - name: a\n    resources:\n"
     "      - {kind: storage, name: s, gb: 10}\n", "usd_per_gb_month"),
    ("project: {name: p, region: eu-west-1}\nenvironments:\n  - name: a\n    resources:\n"
     "      - {kind: mwaa, name: af}\n", "give usd_per_hour"),
    ("project: {name: p}\nenvironments:\n  - name: a\n  - name: a\n", "environment names repeat"),
    ("project: {name: p}\nenvironments:\n  - name: dev\n  - name: prod\n",
     "(dev, prod) have no resources to price"),
])
def test_errors(run: Callable[..., Any], tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml_text)
    res = run("cost", str(path), "--month", "2026-03")
    assert res.code == 2
    assert message in res.err and "Traceback" not in res.err


@pytest.mark.parametrize(("snippet", "message"), [
    ('schedule: "off=(M-F,19);on=(M-Q,7)"', "at position 20: 'Q'"),
    ("schedule: {timezone: UTC, periods: ['begintime=07:00;endtime=06:00']}",
     "endtime must be after begintime"),
    ("resources: [{kind: endpoint, name: e, instance: ml.c5.xlarge, min_instances: 3, "
     "max_instances: 2}]", "max_instances is below min_instances"),
    ("resources: [{kind: notebook, name: n, idle_stop_minutes: 30}]", "active_hours_per_day"),
    ("resources: [{kind: batch, name: b, instance: m5.large, hours_per_month: [5, 1]}]",
     "runs backwards"),
])
def test_spec_errors_have_locations(run: Callable[..., Any], tmp_path: Path, snippet: str,
                                    message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"project: {{name: p}}\nenvironments:\n  - name: dev\n    {snippet}\n")
    res = run("validate", str(path))
    assert res.code != 0
    assert message in res.out + res.err
    assert "s.yaml:4:" in res.out + res.err


def test_option_errors(run: Callable[..., Any], spec_file: Path) -> None:
    assert "months must be" in run("cost", str(spec_file), "--months", "0").err
    assert "draws must be" in run("cost", str(spec_file), "--draws", "5").err
    assert "--budget must be positive" in run("cost", str(spec_file), "--budget", "-3").err


def test_point_is_vectorised_per_month(spec_file: Path) -> None:
    report = estimate_costs(load_spec(spec_file), (2026, 1), 12, draws=1000)
    points = np.array([m["point_usd"] for m in report["total"]["monthly"]])
    assert points.shape == (12,) and (points > 0).all()
    assert report["months"][0] == "2026-01" and report["months"][-1] == "2026-12"


def test_sum_of_draws_adds_each_cells_draws() -> None:
    from mlscope.costs.montecarlo import sum_of_draws

    counts = np.array([[0, 1], [3, 2]])
    assert sum_of_draws(counts, lambda shape: np.full(shape, 2.5)).tolist() == [[0, 2.5],
                                                                                 [7.5, 5.0]]
    rng = np.random.default_rng(1)
    sums = sum_of_draws(np.full(20000, 4), lambda shape: rng.uniform(0, 1, shape))
    assert sums.mean() == pytest.approx(2.0, abs=0.02)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", ["recommender", "llm-pretrain"])
def test_examples_are_priced(run: Callable[..., Any], example: str) -> None:
    res = run("cost", str(EXAMPLES / example / "mlscope.yaml"), "--month", "2027-01",
              "--draws", "1000", "--json")
    assert res.code == 0, res.err
    report = res.json()
    assert report["budget"]["monthly_usd"] > 0
    assert report["total"]["monthly"][0]["savings_usd"] > 0  # dev is scheduled
    res = run("export", "schedules", str(EXAMPLES / example / "mlscope.yaml"), "--format",
              "terraform", "--json")
    assert res.code == 0, res.err


def test_total_draws_match_the_report(spec_file: Path) -> None:
    from mlscope.costs.runrate import monthly_total_draws

    spec = load_spec(spec_file)
    report = estimate_costs(spec, (2026, 3), 2, draws=1000, seed=3)
    totals = monthly_total_draws(spec, (2026, 3), 2, draws=1000, seed=3)
    assert totals.shape == (1000, 2)
    assert np.percentile(totals[:, 1], 90) == pytest.approx(report["total"]["monthly"][1]["p90"],
                                                            abs=0.01)
