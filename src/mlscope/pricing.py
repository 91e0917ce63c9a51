"""Instance-hour prices by purchase option: the one home for on-demand, spot and savings plans.

Layer: core <- spec <- catalog <- **pricing** <- engines. Every engine that turns instance-hours
into dollars (estimate, calibrate, costs) asks here, so one run has one spot convention.

API (small on purpose):

- ``PURCHASE_OPTIONS``: ``("on-demand", "spot", "savings-1y", "savings-3y")``.
- ``instance_price(instance, purchase) -> Price | None``: USD per instance-hour of a catalog
  `Instance` as a `Range`, with ``source``, ``date``, ``quality``, ``flags`` and the stated
  ``assumptions``; None when the option is not offered (no spot price in the catalog...).
- ``price(instance_type, region, purchase) -> Price``: the same by name; unknown names raise
  "did you mean", a missing price raises `InputError` naming the fix.
- ``SpotAssumptions(interruptions_per_node_hour, checkpoint_interval_hours, restart_hours)``:
  the stated, overridable interruption model (defaults: ``DEFAULT_SPOT``).
- ``spot_time_factor(nodes, spot) -> Range | None``: how much longer a synchronous job on
  `nodes` spot instances runs than on on-demand; None when interruptions come faster than the
  job can make progress (the configuration is not viable on spot).
- ``run_price(instance, purchase, nodes, wall_hours, spot) -> RunPrice | None``: wall-clock
  (with interruption overhead for spot) and dollars of one run of `nodes` instances that takes
  `wall_hours` on dedicated capacity. The wall-clock it returns is the one to print and to
  compare with a deadline; the dollars are ``wall x price x nodes``.
- ``spot_capacity_warning(nodes)``: a sentence for fleets of ``LARGE_SPOT_FLEET`` nodes or
  more, else None.

Spot model. The catalog's spot price is the lowest over availability zones at one moment, so
it is optimistic: the price is a range from that figure to 1.8x it, capped at on-demand. A
spot price below ``SUSPECT_SPOT_SHARE`` (20 %) of on-demand is flagged ``suspect-spot`` and
not used: the typical GPU spot discount (``TYPICAL_SPOT_SHARE``) replaces it, and the
assumption says so. Interruptions arrive at a rate per node-hour; a synchronous job stops when
any of its nodes is reclaimed, so a job on N nodes is interrupted N x rate times per hour, and
each interruption loses half a checkpoint interval of work plus the restart time. The share of
wall-clock lost is ``f = N x rate x (interval / 2 + restart)``; the job runs ``1 / (1 - f)``
times longer (lost time is itself exposed to interruptions). Lost work therefore grows with the
node count and, in hours, with the run length.

Savings plans commit spend for the whole term: prices are ranges relative to on-demand (AWS
quotes up to 72 % off for 3-year EC2 Instance Savings Plans, less for GPU families).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlscope.catalog import Instance, get_catalog
from mlscope.core.ranges import Range
from mlscope.errors import InputError

PURCHASE_OPTIONS = ("on-demand", "spot", "savings-1y", "savings-3y")

# The catalog's spot price is the lowest AZ price seen at one moment: optimistic.
SPOT_PRICE_UPLIFT = Range.from_p10_p90(1.0, 1.8)
# Below this share of on-demand a spot price is taken as a data error or a transient dip.
SUSPECT_SPOT_SHARE = 0.20
# GPU spot prices typically sit at 30-70 % of on-demand (AWS Spot pricing history of p4d/p5/g5).
TYPICAL_SPOT_SHARE = Range.from_p10_p90(0.30, 0.70)
SAVINGS = {
    "savings-1y": Range.from_p10_p90(0.60, 0.78),
    "savings-3y": Range.from_p10_p90(0.40, 0.58),
}
SAVINGS_NOTES = {
    "savings-1y": ("1-year savings plan at 60-78 % of on-demand (rough; the commitment is paid "
                   "for the whole term, so it only pays if other work uses the capacity)"),
    "savings-3y": ("3-year savings plan at 40-58 % of on-demand (rough; AWS quotes up to 72 % "
                   "off; the commitment is paid for the whole term)"),
}
# Spot fleets of this many nodes or more: capacity for all of them at once is rarely there.
LARGE_SPOT_FLEET = 16


@dataclass(frozen=True)
class SpotAssumptions:
    """How spot interruptions cost time. Stated in every estimate; override per call.

    The rate default reflects AWS's Spot Instance Advisor, which puts most GPU instance types
    in its 5-20 %+ monthly interruption buckets (~1e-4-3e-4 per instance-hour), raised for
    large multi-node fleets that lose capacity more often than a single instance: P10-P90
    3e-4-3e-3 per node-hour.
    """

    interruptions_per_node_hour: Range = field(
        default_factory=lambda: Range.from_p10_p90(3e-4, 3e-3))
    checkpoint_interval_hours: float = 1.0
    restart_hours: float = 0.25  # reacquire capacity, reload the checkpoint, warm up

    def __post_init__(self) -> None:
        for name, value in (("interruptions per node-hour",
                             self.interruptions_per_node_hour.median),
                            ("checkpoint interval", self.checkpoint_interval_hours),
                            ("restart time", self.restart_hours)):
            if not math.isfinite(value) or value < 0:
                raise InputError(f"spot {name} must be a finite non-negative number "
                                 f"(got {value})", "pass e.g. --checkpoint-interval 1h")

    def loss_per_interruption_hours(self) -> float:
        return self.checkpoint_interval_hours / 2.0 + self.restart_hours

    def describe(self) -> str:
        r = self.interruptions_per_node_hour
        return (f"spot interruptions {r.p10:.2g}-{r.p90:.2g} per node-hour (P10-P90), each "
                f"losing half a {self.checkpoint_interval_hours:g} h checkpoint interval plus "
                f"{self.restart_hours:g} h restart")

    def to_dict(self) -> dict[str, object]:
        return {"interruptions_per_node_hour": self.interruptions_per_node_hour.to_dict(),
                "checkpoint_interval_hours": self.checkpoint_interval_hours,
                "restart_hours": self.restart_hours}


DEFAULT_SPOT = SpotAssumptions()


@dataclass(frozen=True)
class Price:
    """USD per instance-hour under one purchase option, with where it came from."""

    usd_per_hour: Range
    purchase: str
    instance_type: str
    region: str
    source: str
    date: str
    quality: str  # the catalog's price_quality, or "suspect-spot-replaced"
    assumptions: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # e.g. "suspect-spot"

    def to_dict(self) -> dict[str, object]:
        return {"usd_per_hour": self.usd_per_hour.to_dict(), "purchase": self.purchase,
                "instance_type": self.instance_type, "region": self.region,
                "source": self.source, "date": self.date, "quality": self.quality,
                "assumptions": list(self.assumptions), "flags": list(self.flags)}


@dataclass(frozen=True)
class RunPrice:
    """One run of `nodes` instances: wall-clock (with spot overhead) and dollars."""

    price: Price
    nodes: int
    wall_clock_hours: Range
    time_factor: Range  # 1 except for spot
    cost_usd: Range
    assumptions: tuple[str, ...] = ()


def instance_price(instance: Instance, purchase: str) -> Price | None:
    """Price of one instance-hour under `purchase`; None when not offered."""
    if purchase not in PURCHASE_OPTIONS:
        raise InputError(f"unknown purchase option '{purchase}'",
                         f"use one of {', '.join(PURCHASE_OPTIONS)}")
    od = instance.on_demand_usd_hr

    def made(usd: Range, quality: str = instance.price_quality, notes: tuple[str, ...] = (),
             flags: tuple[str, ...] = ()) -> Price:
        return Price(usd, purchase, instance.instance_type, instance.region, instance.source,
                     instance.date, quality, notes, flags)

    if purchase == "on-demand":
        if not od:
            return None
        return made(Range(od))
    if purchase == "spot":
        spot = instance.spot_usd_hr
        if not spot:
            return None
        if od and spot < SUSPECT_SPOT_SHARE * od:
            usd = TYPICAL_SPOT_SHARE * od
            note = (f"spot: catalog spot ${spot:.4g}/h is {spot / od:.0%} of on-demand (below "
                    f"{SUSPECT_SPOT_SHARE:.0%}: suspect, not used); typical GPU spot "
                    f"{TYPICAL_SPOT_SHARE.p10:.0%}-{TYPICAL_SPOT_SHARE.p90:.0%} of on-demand "
                    "used instead")
            return made(usd, "suspect-spot-replaced", (note,), ("suspect-spot",))
        usd = SPOT_PRICE_UPLIFT * spot
        if od and usd.median > od:
            usd = Range(od, usd.sigma)
        note = (f"spot: catalog spot price ${spot:.4g}/h (lowest AZ at one moment) x "
                f"{SPOT_PRICE_UPLIFT.p10:.1f}-{SPOT_PRICE_UPLIFT.p90:.1f}, capped at on-demand")
        return made(usd, notes=(note,))
    if not od:
        return None
    return made(SAVINGS[purchase] * od, notes=(SAVINGS_NOTES[purchase],))


def price(instance_type: str, region: str, purchase: str = "on-demand") -> Price:
    """Price by instance name and region; raises when the catalog has none."""
    inst = get_catalog().instance(instance_type, region)
    found = instance_price(inst, purchase)
    if found is None:
        raise InputError(f"the catalog has no {purchase} price for {inst.instance_type} in "
                         f"{region}", "choose another purchase option or region, or import "
                         "prices with `mlscope catalog import`")
    return found


def spot_time_factor(nodes: int, spot: SpotAssumptions = DEFAULT_SPOT) -> Range | None:
    """Wall-clock multiplier of a synchronous job on `nodes` spot nodes; None if not viable."""
    loss = spot.loss_per_interruption_hours()
    rate = spot.interruptions_per_node_hour
    factors = []
    for r in (rate.p10, rate.p90):
        lost_share = max(nodes, 1) * r * loss
        if lost_share >= 0.9:  # more than 90 % of the time lost: the job barely progresses
            return None
        factors.append(1.0 / (1.0 - lost_share))
    if factors[1] - factors[0] < 1e-12:
        return Range(factors[0])
    return Range.from_p10_p90(factors[0], factors[1])


def spot_capacity_warning(nodes: int) -> str | None:
    if nodes < LARGE_SPOT_FLEET:
        return None
    return (f"spot capacity for {nodes} nodes at once is rarely available (fleets of "
            f"{LARGE_SPOT_FLEET}+ nodes): expect waits to start and reclaims; treat as optimistic")


def run_price(instance: Instance, purchase: str, nodes: int, wall_hours: Range,
              spot: SpotAssumptions = DEFAULT_SPOT) -> RunPrice | None:
    """Wall-clock and dollars of one run; None when the option is not offered or not viable."""
    found = instance_price(instance, purchase)
    if found is None:
        return None
    notes = list(found.assumptions)
    factor = Range(1.0)
    if purchase == "spot":
        spot_factor = spot_time_factor(nodes, spot)
        if spot_factor is None:
            return None
        factor = spot_factor
        lost = wall_hours.median * (factor.median - 1.0)
        notes.append(f"{spot.describe()}: x{factor.p10:.3f}-{factor.p90:.3f} wall-clock on "
                     f"{nodes} node(s), ~{lost:,.1f} h lost at P50")
        warning = spot_capacity_warning(nodes)
        if warning:
            notes.append(warning)
    wall = wall_hours * factor
    return RunPrice(found, nodes, wall, factor, wall * found.usd_per_hour * float(nodes),
                    tuple(notes))
