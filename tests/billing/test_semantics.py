"""Billed, effective and list cost by line item type (CID/FOCUS mapping) and FOCUS identities."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.costs.billing import synth
from mlscope.costs.billing.dataset import VIEW, BillingData

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = DATA / "focus-spec-examples"

# CUR line item type -> (charge category, effective cost), from every_line_item_type()'s story:
# SP $1.00/h, $0.70 used on $1.00 of on-demand usage; RI usage at $0.30; fees as CID amortizes.
EXPECTED = {
    "Usage": ("Usage", 0.50 + 0.12 + 2.30),
    "SavingsPlanCoveredUsage": ("Usage", 0.70),
    "SavingsPlanNegation": ("Usage", 0.0),
    "SavingsPlanRecurringFee": ("Purchase", 0.30),
    "SavingsPlanUpfrontFee": ("Purchase", 0.0),
    "DiscountedUsage": ("Usage", 0.30),
    "RIFee": ("Purchase", 20.0),
    "Fee": ("Purchase", 29.0),  # the RI sign-up fee (with a reservation ARN) counts 0
    "Credit": ("Credit", -5.0),
    "Refund": ("Usage", -2.0),
    "Tax": ("Tax", 3.5),
    "EdpDiscount": ("Usage", -0.05),
    "BundledDiscount": ("Usage", -0.02),
}


@pytest.fixture
def cur(tmp_path: Path) -> BillingData:
    path = synth.write_parquet(synth.cur2_rows(synth.every_line_item_type()),
                               tmp_path / "cur2.parquet")
    return BillingData([str(path)])


def test_every_line_item_type(cur: BillingData) -> None:
    with cur:
        rows = cur.fetch(f"SELECT charge_type, charge_category, SUM(effective_cost), "
                         f"SUM(billed_cost), SUM(list_cost) FROM {VIEW} GROUP BY 1, 2")
        spot = cur.fetch(f"SELECT pricing_category FROM {VIEW} WHERE resource_id = 'i-spot'")
        classes = cur.fetch(f"SELECT charge_class FROM {VIEW} WHERE charge_type = 'Refund'")
    got = {r[0]: (r[1], pytest.approx(r[2])) for r in rows}
    assert got == {k: (c, pytest.approx(v)) for k, (c, v) in EXPECTED.items()}
    billed = {r[0]: r[3] for r in rows}
    # SP usage is billed on demand and negated, so it nets to 0 in billed cost.
    assert billed["SavingsPlanCoveredUsage"] + billed["SavingsPlanNegation"] == 0
    assert billed["SavingsPlanUpfrontFee"] == 730.0 and billed["Tax"] == 3.5
    listed = {r[0]: r[4] for r in rows}
    assert listed["SavingsPlanCoveredUsage"] == 1.00 and listed["Usage"] == pytest.approx(
        0.50 + 0.192 + 2.30)  # spot usage lists at its public on-demand cost
    assert spot == [("Dynamic",)] and classes == [("Correction",)]


def test_cur_savings_plan_identity(cur: BillingData) -> None:
    # Σ effective of covered usage + the unused part in the recurring fee = the commitment.
    with cur:
        (used, unused, commitment), = cur.fetch(
            f"SELECT SUM(CASE WHEN charge_type = 'SavingsPlanCoveredUsage' THEN effective_cost "
            f"END), SUM(CASE WHEN charge_type = 'SavingsPlanRecurringFee' THEN effective_cost "
            f"END), SUM(CASE WHEN charge_type = 'SavingsPlanRecurringFee' THEN billed_cost END) "
            f"FROM {VIEW} WHERE commitment_id LIKE '%savingsplan%'")
    assert used + unused == pytest.approx(commitment)


def _identity(paths: list[Path]) -> dict[str, float]:
    with BillingData([str(p) for p in paths]) as data:
        (usage, purchase, used, unused, purchase_eff), = data.fetch(
            f"SELECT SUM(CASE WHEN charge_category = 'Usage' THEN effective_cost ELSE 0 END), "
            f"SUM(CASE WHEN charge_category = 'Purchase' THEN billed_cost ELSE 0 END), "
            f"SUM(CASE WHEN commitment_status = 'Used' THEN effective_cost ELSE 0 END), "
            f"SUM(CASE WHEN commitment_status = 'Unused' THEN effective_cost ELSE 0 END), "
            f"SUM(CASE WHEN charge_category = 'Purchase' THEN effective_cost ELSE 0 END) "
            f"FROM {VIEW} WHERE commitment_id IS NOT NULL")
    return {"usage": usage, "purchase": purchase, "used": used, "unused": unused,
            "purchase_effective": purchase_eff}


@pytest.mark.parametrize("name", [
    "one_hundred_percent_utilization_without_commitment_discount_flexibility",
    "zero_percent_utilization_without_commitment_discount_flexibility",
    "one_hundred_percent_utilization_with_commitment_discount_flexibility_with_1_resource",
    "one_hundred_percent_utilization_with_commitment_discount_flexibility_with_2_resources",
])
def test_focus_spec_commitment_identities(name: str) -> None:
    """FOCUS 1.2 EffectiveCost: Σ usage effective = Σ purchase billed = used + unused."""
    got = _identity([EXAMPLES / f"{name}.csv"])
    assert got["usage"] == pytest.approx(got["purchase"])
    assert got["purchase"] == pytest.approx(got["used"] + got["unused"])
    assert got["purchase_effective"] == 0  # a purchase covering future charges has EC 0


def test_focus_spec_usage_scenarios() -> None:
    # Scenario 3: $1 commitment, 75% used on the resource, 25% unused on the commitment.
    got = _identity([EXAMPLES / "commitment_discount_usage_scenario_3.csv"])
    assert (got["used"], got["unused"]) == (pytest.approx(0.75), pytest.approx(0.25))
    with BillingData([str(EXAMPLES / "commitment_discount_usage_scenario_4.csv")]) as data:
        rows = data.fetch(f"SELECT pricing_category, billed_cost, effective_cost FROM {VIEW} "
                          f"ORDER BY 1")
    assert rows == [("Committed", 0.0, 1.0), ("Standard", 0.5, 0.5)]


def test_focus_spec_purchase_scenarios_amortize_to_zero() -> None:
    # One-time and recurring purchases that cover future charges: billed, effective 0.
    for n, billed in ((1, 8760.0), (2, 3.0), (3, 4380.0 + 1.5)):
        path = EXAMPLES / f"commitment_discount_purchase_scenario_{n}.csv"
        with BillingData([str(path)]) as data:
            result = data.summary(["charge-category"])
        assert result["billed_cost"] == pytest.approx(billed)
        assert result["effective_cost"] == 0


def test_focus_and_cur_agree_on_effective_cost(tmp_path: Path) -> None:
    items = synth.every_line_item_type()
    cur = synth.write_parquet(synth.cur2_rows(items), tmp_path / "cur2.parquet")
    focus = synth.write_csv(synth.focus_rows(items), tmp_path / "focus.csv")
    totals = []
    for path in (cur, focus):
        with BillingData([str(path)]) as data:
            totals.append(data.summary(["charge-category"])["groups"])
    by = [{g["key"]["charge-category"]: round(g["effective_cost"], 9) for g in t}
          for t in totals]
    assert by[0] == by[1]
