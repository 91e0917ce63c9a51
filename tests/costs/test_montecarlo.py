"""Monte Carlo honesty: months share a persistent level, each keeps its own range, and rough
prices carry their own uncertainty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlscope.core.ranges import Z90
from mlscope.costs.montecarlo import PERSISTENCE, draw_range, draw_triangular
from mlscope.costs.runrate import ROUGH_PRICE_P10_P90, estimate_costs
from mlscope.spec.loader import load_spec_text


def test_months_share_a_level_but_keep_their_range() -> None:
    rng = np.random.default_rng(1)
    draws = draw_range(rng, (10.0, 40.0), (200_000, 12))
    p10, p90 = np.percentile(draws[:, 5], [10, 90])
    assert (p10, p90) == (pytest.approx(10, rel=0.02), pytest.approx(40, rel=0.02))
    logs = np.log(draws)
    assert np.corrcoef(logs[:, 0], logs[:, 7])[0, 1] == pytest.approx(PERSISTENCE, abs=0.01)


def test_triangular_counts_keep_their_shape_across_months() -> None:
    rng = np.random.default_rng(2)
    counts = draw_triangular(rng, 1.0, 3.0, 5.0, (200_000, 6))
    # Symmetric triangular(1, 3, 5): median 3, P90 = 5 - sqrt(0.1 * 4 * 2).
    assert np.median(counts[:, 2]) == pytest.approx(3.0, abs=0.01)
    assert np.percentile(counts[:, 2], 90) == pytest.approx(5 - 0.8 ** 0.5, abs=0.01)
    assert np.corrcoef(counts[:, 0], counts[:, 1])[0, 1] > 0.6


def test_a_year_of_persistent_months_is_riskier_than_independent_ones() -> None:
    spec = load_spec_text("""\
project: {name: mc}
environments:
  - name: prod
    resources:
      - {kind: batch, name: jobs, usd_per_hour: 1.0, hours_per_month: [800, 1200]}
""")
    result = estimate_costs(spec, (2026, 1), 12, 20_000, 0, budget_usd=1150)
    risk = result["budget"]
    # One month over 1,150 $: P(lognormal(P10 800, P90 1200) > 1150) by hand.
    sigma = np.log(1200 / 800) / (2 * Z90)
    z = np.log(1150 / np.sqrt(800 * 1200)) / sigma
    one = 0.5 * math.erfc(z / math.sqrt(2))
    assert max(risk["overrun_probability_by_month"]) == pytest.approx(one, abs=0.02)
    # Independent months would give 1 - (1 - one)^12; a shared level makes "any month" rarer
    # and "the whole year" far likelier than independent draws (whose year average is tight).
    assert risk["any_month_overrun_probability"] < 1 - (1 - one) ** 12 - 0.1
    assert risk["horizon_overrun_probability"] > 0.05
    assert any("correlated" in a for a in result["assumptions"])


def test_rough_prices_are_uncertain_and_say_so() -> None:
    spec = load_spec_text("""\
project: {name: mc, region: us-east-1}
environments:
  - name: prod
    resources:
      - {kind: ec2, name: box, instance: ml.m5.xlarge}
""")
    result = estimate_costs(spec, (2026, 6), 1, 20_000, 0)
    month = result["total"]["monthly"][0]
    low, high = ROUGH_PRICE_P10_P90
    assert result["prices"][0]["quality"].endswith("rough")
    assert month["p90"] / month["p50"] == pytest.approx(np.sqrt(high / low), rel=0.02)
    assert month["p10"] / month["p50"] == pytest.approx(np.sqrt(low / high), rel=0.02)
    assert any("rough prices" in a for a in result["assumptions"])
