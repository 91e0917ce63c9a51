"""MWAA prices and the pause (delete + recreate) plan, against hand computations."""

from __future__ import annotations

import pytest

from mlscope.costs.unit_prices import mwaa_price
from mlscope.dags.mwaa import pause_plan
from mlscope.spec.loader import load_spec

from .conftest import EXAMPLES

RECOMMENDER = EXAMPLES / "recommender" / "mlscope.yaml"


@pytest.mark.parametrize(("klass", "item", "usd"), [
    # infracost's us-east-1 golden file: 730 h of Small $357.70, Medium $540.20, Large $722.70;
    # Large workers 1,825 h $401.50, schedulers 2,190 h $481.80.
    ("mw1.small", "environment", 357.70 / 730), ("mw1.medium", "environment", 540.20 / 730),
    ("mw1.large", "environment", 722.70 / 730), ("mw1.large", "additional worker", 401.50 / 1825),
    ("mw1.large", "additional scheduler", 481.80 / 2190),
    ("mw1.medium", "additional worker", 0.11), ("mw1.small", "meta database", 0.10),
])
def test_environment_class_prices(klass: str, item: str, usd: float) -> None:
    price = mwaa_price(klass, item, "us-east-1")
    assert price is not None and price.usd == pytest.approx(usd, abs=1e-9)
    assert price.source and price.date


def test_pausing_dev_nightly_by_hand() -> None:
    plan = pause_plan(load_spec(RECOMMENDER), "dev")
    # dev: off=(M-F,19);on=(M-F,7) -> up 12 h x 5 = 60 h a week, 108 h down.
    # A 730 h month is 730/168 weeks: 108 * 730/168 = 469.29 h down, 5 * 730/168 = 21.73 cycles
    # of 1 billed transition hour -> 447.56 h at mw1.small's $0.49 = $219.30.
    assert plan.environment_class == "mw1.small"
    assert plan.running_hours_per_week == 60
    assert plan.cycles == pytest.approx(5 * 730 / 168)
    assert plan.paused_hours == pytest.approx(108 * 730 / 168 - 5 * 730 / 168)
    assert plan.saving_usd == pytest.approx(219.30, abs=0.01)
    assert plan.always_on_usd == pytest.approx(357.70)
    assert any("export the metadata" in step for step in plan.plan)


def test_other_classes_and_refusals(run) -> None:
    large = pause_plan(load_spec(RECOMMENDER), "dev", "mw1.large")
    assert large.saving_usd == pytest.approx(447.5595 * 0.99, abs=0.01)
    out = run("dags", "mwaa-cost", RECOMMENDER, "--class", "mw1.xlarge")
    assert out.code == 2 and "no MWAA price for mw1.xlarge" in out.err
    assert run("dags", "mwaa-cost", RECOMMENDER, "--env", "prod").code == 2  # no schedule
    shown = run("dags", "mwaa-cost", RECOMMENDER)
    assert shown.code == 0 and "$219" in shown.out and "cannot be stopped" in shown.out
