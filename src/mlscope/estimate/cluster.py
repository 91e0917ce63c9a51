"""The cluster a run lands on: which AWS node carries the accelerators, and what its network
costs a multi-node run (gradient all-reduce over the instance's fabric)."""

from __future__ import annotations

import math

from mlscope.catalog import Accelerator, Instance, get_catalog
from mlscope.catalog.core import FAST_INTERCONNECT_GBPS
from mlscope.estimate.memory import MemoryPlan

# Gradient all-reduce: the share of the network's line rate a ring achieves, and the share of
# a step's compute that communication can hide behind (the backward pass, 2/3 of the FLOPs).
NETWORK_EFFICIENCY = 0.8
OVERLAP_SHARE = 2.0 / 3.0
# The calibration runs trained on fabrics of at least p4d's 400 Gbps EFA per node (8 x 200 Gb/s
# InfiniBand on Meta's RSC and DGX SuperPODs): the utilization fitted there, with its count
# slope, already carries the communication of such a fabric.
REFERENCE_GBPS = FAST_INTERCONNECT_GBPS
# Accelerators per node assumed for tensor parallelism when no AWS instance carries the part.
DEFAULT_PER_NODE = 8
# Instances that exist but whose prices the reference data lacks (AWS trn2 launch, Dec 2024).
KNOWN_UNPRICED = {"Trainium2": "trn2.48xlarge"}


def communication_factor(trainable_params: float, memory: MemoryPlan, count: int,
                         instance: Instance | None, step_seconds: float) -> tuple[float, str]:
    """Time multiplier for gradient (and ZeRO-3 weight) traffic between nodes, and a note.

    Per step each node sends about 2x the bf16 gradients of the model slice it holds (ring
    all-reduce after an intra-node reduce; 1.5x that with ZeRO-3's weight gathers, ZeRO paper
    section 7) over its network at NETWORK_EFFICIENCY of line rate, overlapped with the
    backward pass; only what exceeds it adds time. The calibration runs trained on fabrics of
    at least REFERENCE_GBPS per node, so their fitted utilization (and its count slope)
    already carries that much communication: the term prices only the extra time of a slower
    network, relative to the reference. Since the per-step compute shrinks as the count grows
    at a fixed global batch, the penalty grows with the count.
    """
    if instance is None or not instance.accelerator_count:
        return 1.0, ""
    per_node = int(instance.accelerator_count)
    nodes = math.ceil(count / per_node)
    if nodes <= 1 or step_seconds <= 0:
        return 1.0, ""
    s = memory.strategy
    grad_bytes = 2.0 * trainable_params / s.pipeline_parallel
    volume = 2.0 * grad_bytes * (nodes - 1) / nodes * (1.5 if s.zero_stage >= 3 else 1.0)

    def exposed(gbps: float) -> float:
        comm = volume / (gbps * 1e9 / 8.0 * NETWORK_EFFICIENCY)
        return max(0.0, comm - OVERLAP_SHARE * step_seconds)

    gbps = instance.network_gbps or 10.0
    factor = max(1.0, (step_seconds + exposed(gbps)) / (step_seconds + exposed(REFERENCE_GBPS)))
    note = (f"communication: {volume / 1e9:,.1f} GB per node per step over {gbps:g} Gbps "
            f"({'EFA' if instance.efa else 'no EFA'}) against {step_seconds:.2f} s of compute "
            f"per step: x{factor:.2f} time relative to a {REFERENCE_GBPS:g} Gbps fabric")
    return factor, note


def node_for(accelerator: Accelerator, count: int, region: str) -> Instance | None:
    """The EC2 instance to run `count` accelerators on.

    Up to one node: the smallest instance that carries enough of them (cheapest on a tie), so
    a one-GPU job is not priced on an 8-GPU node. Beyond one node: the largest node, preferring
    one with a fast interconnect.
    """
    options = [i for i in get_catalog().instances_with(accelerator.name)
               if i.region == region and i.on_demand_usd_hr]
    if not options:
        return None
    enough = [i for i in options if i.accelerator_count >= count]
    if enough:
        return min(enough, key=lambda i: (i.accelerator_count, i.on_demand_usd_hr or 0))
    return max(options, key=lambda i: (i.fast_interconnect, i.accelerator_count,
                                       -(i.on_demand_usd_hr or 0)))


def unpriced_instance_note(accelerator: Accelerator) -> str:
    """Why there are no dollars: no instance at all, or an instance without a price."""
    carriers = sorted({i.instance_type for i in get_catalog().instances_with(accelerator.name)})
    if carriers:
        return (f"{', '.join(carriers)} carries {accelerator.name} but the catalog has no price "
                "for it in this region: no dollar figures (import prices with `mlscope "
                "catalog import`)")
    known = KNOWN_UNPRICED.get(accelerator.name)
    if known:
        return (f"{known} carries {accelerator.name}, but mlscope's catalog has no price for it: "
                "no dollar figures (import prices with `mlscope catalog import`)")
    return f"no AWS instance carries {accelerator.name}: no dollar figures"
