"""Purchase options: how on-demand prices turn into spot and savings-plan prices, as ranges.

These multipliers are rough and stated as assumptions in every estimate that uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlscope.catalog import Instance
from mlscope.core.ranges import Range

PURCHASE_OPTIONS = ("on-demand", "spot", "savings-1y", "savings-3y")

# The catalog's spot price is the lowest over availability zones at one moment: optimistic.
SPOT_PRICE_UPLIFT = Range.from_p10_p90(1.0, 1.8)
# Interruptions lose work since the last checkpoint and time to reacquire capacity.
SPOT_TIME_OVERHEAD = Range.from_p10_p90(1.03, 1.20)
# AWS quotes up to 72 % off (EC2 Instance Savings Plans, 3-year) and up to 66 % (Compute SP);
# GPU families get less. Ranges relative to on-demand, no upfront payment.
SAVINGS = {
    "savings-1y": Range.from_p10_p90(0.60, 0.78),
    "savings-3y": Range.from_p10_p90(0.40, 0.58),
}

ASSUMPTIONS = {
    "spot": ("spot: catalog spot price (lowest AZ at one moment) x 1.0-1.8, plus 3-20 % extra "
             "time for interruptions and restarts from checkpoints"),
    "savings-1y": ("1-year savings plan at 60-78 % of on-demand (rough; the commitment is paid "
                   "for the whole term, so it only pays if other work uses the capacity)"),
    "savings-3y": ("3-year savings plan at 40-58 % of on-demand (rough; AWS quotes up to 72 % "
                   "off; the commitment is paid for the whole term)"),
}


@dataclass(frozen=True)
class HourlyPrice:
    price: Range  # USD per instance-hour
    time_factor: Range  # multiplies wall-clock (spot interruptions)


def hourly_price(instance: Instance, purchase: str) -> HourlyPrice | None:
    """Price of one instance-hour under a purchase option; None when not offered."""
    od = instance.on_demand_usd_hr
    if purchase == "on-demand":
        return HourlyPrice(Range(od), Range(1.0)) if od else None
    if purchase == "spot":
        if not instance.spot_usd_hr:
            return None
        price = SPOT_PRICE_UPLIFT * instance.spot_usd_hr
        if od and price.median > od:
            price = Range(od, price.sigma)
        return HourlyPrice(price, SPOT_TIME_OVERHEAD)
    if purchase in SAVINGS:
        return HourlyPrice(SAVINGS[purchase] * od, Range(1.0)) if od else None
    return None
