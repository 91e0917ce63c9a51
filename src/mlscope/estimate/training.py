"""The analytic training estimate: FLOPs, parallel strategy, utilization, hours, dollars, energy.

Hours = model FLOPs / (peak x MFU) x strategy time factor x communication factor, where MFU is
the utilization fitted on published runs *against model FLOPs* (6·N·D + attention), so
recomputation is never counted twice; hardware FLOPs (with recomputation) only give the HFU.
A configuration that does not fit in memory is never priced: `estimate_training` raises
`DoesNotFitError` naming the smallest count or the strategy that fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from mlscope.catalog import Accelerator, Instance, get_catalog
from mlscope.catalog.core import DEFAULT_REGION
from mlscope.core.ranges import Range
from mlscope.errors import ConflictError, InputError
from mlscope.estimate.cluster import (
    DEFAULT_PER_NODE,
    communication_factor,
    node_for,
    unpriced_instance_note,
)
from mlscope.estimate.flops import TrainingFlops, training_flops
from mlscope.estimate.io import TOKENIZED_BYTES_PER_TOKEN, IoPlan, plan_io
from mlscope.estimate.memory import (
    FROZEN_BYTES,
    MemoryPlan,
    Workload,
    does_not_fit,
    lora_trainable_params,
    plan,
    smallest_count,
)
from mlscope.estimate.shapes import ModelShape
from mlscope.estimate.utilization import UtilizationModel, check_software_era, default_model
from mlscope.pricing import (
    DEFAULT_SPOT,
    PURCHASE_OPTIONS,
    SpotAssumptions,
    instance_price,
    run_price,
)

# Average board power while training, as a share of TDP, and the data-centre PUE.
POWER_SHARE = Range.from_p10_p90(0.55, 0.90)
PUE = 1.15
DEFAULT_SEQ_LEN = 2048
DEFAULT_TDP_W = 400.0
# full: every weight trains; lora: adapters over 16-bit frozen weights; lora-8bit and qlora:
# over 8-bit and 4-bit frozen weights.
FINETUNE_MODES = ("none", "full", "lora", "lora-8bit", "qlora")
RECOMPUTE_MODES = ("none", "selective", "full")
# Fixed costs of fine-tuning jobs (rough): start-up (container image, model download and load,
# compilation) and evaluation passes as a share of the training time.
FINETUNE_STARTUP_HOURS = Range.from_p10_p90(0.1, 0.5)
FINETUNE_EVAL_FACTOR = Range.from_p10_p90(1.02, 1.10)
# Fine-tunes reach a smaller share of peak than the pre-training runs the utilization is fitted
# on (small global batches, padded sequences, a sharded model re-gathered every step for few
# tokens, framework overheads). A prior, not a fit: the one published small job checked,
# Alpaca 7B (3 h on 8 A100-80GB, Stanford CRFM 2023), ran at ~0.37 of pre-training MFU; P10 0.3
# keeps it inside the range, P90 1.0 is a fine-tune as efficient as pre-training.
FINETUNE_EFFICIENCY = Range.from_p10_p90(0.3, 1.0)


def _finite_positive(value: float, what: str, fix: str) -> None:
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{what} must be a positive finite number (got {value:g})", fix)


@dataclass(frozen=True)
class TrainingSetup:
    """Everything about how the model is trained, independent of the hardware choice.

    `zero_stage`, `recompute`, `tensor_parallel`, `pipeline_parallel`: None lets the planner
    choose; a value pins it.
    """

    shape: ModelShape
    tokens: float
    precision: str = "bf16"
    zero_stage: int | None = None
    micro_batch: int = 1
    seq_len: int | None = None
    recompute: str | None = None
    flash_attention: bool = True
    finetune: str = "none"
    lora_rank: int = 16
    tensor_parallel: int | None = None
    pipeline_parallel: int | None = None
    software_era: str = "modern"  # the training stack: see estimate.utilization

    def __post_init__(self) -> None:
        check_software_era(self.software_era)
        _finite_positive(self.tokens, "tokens", "pass --tokens 2e12, or --dataset PATH")
        _finite_positive(self.shape.params, "params", "pass --params 7e9")
        if self.finetune not in FINETUNE_MODES:
            raise InputError(f"unknown fine-tuning mode '{self.finetune}'",
                             f"use one of {', '.join(FINETUNE_MODES)}")
        if self.recompute not in (None, "auto", *RECOMPUTE_MODES):
            raise InputError(f"unknown recompute mode '{self.recompute}'",
                             f"use one of auto, {', '.join(RECOMPUTE_MODES)}")
        if self.finetune == "qlora" and self.precision == "fp32":
            raise ConflictError("QLoRA trains adapters over 4-bit weights, not in fp32",
                                "drop --precision fp32 or use --finetune lora")

    @property
    def sequence(self) -> int:
        return self.seq_len or self.shape.context or DEFAULT_SEQ_LEN

    @property
    def attention_seq(self) -> int | None:
        """Context for the attention FLOPs: given or the model's; None omits the term."""
        return self.seq_len or self.shape.context

    @property
    def trainable_fraction(self) -> float:
        if self.finetune in FROZEN_BYTES:
            return min(1.0, lora_trainable_params(self.shape, self.lora_rank) / self.shape.params)
        return 1.0

    def pins(self) -> dict[str, Any]:
        return {"zero": self.zero_stage,
                "recompute": None if self.recompute in (None, "auto") else self.recompute,
                "tensor_parallel": self.tensor_parallel,
                "pipeline_parallel": self.pipeline_parallel}

    def workload(self, precision: str | None = None) -> Workload:
        return Workload(self.shape, precision or self.precision, self.micro_batch,
                        self.sequence, self.flash_attention, self.finetune, self.lora_rank)

    def flops(self, recompute: str = "none") -> TrainingFlops:
        return training_flops(self.shape, self.tokens, self.attention_seq, recompute,
                              self.trainable_fraction)


@dataclass
class TrainingEstimate:
    setup: TrainingSetup
    accelerator: Accelerator
    count: int
    count_source: str  # "given", "min-fit" or "search"
    instance: Instance | None
    per_instance: float
    flops: TrainingFlops
    memory: MemoryPlan
    mfu: Range  # achieved model FLOPs utilization (fitted MFU / strategy and network factors)
    accelerator_hours: Range
    wall_clock_hours: Range | None
    cost_by_purchase: dict[str, Range]
    purchase: str
    energy_kwh: Range
    assumptions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    wall_by_purchase: dict[str, Range] = field(default_factory=dict)
    spot: SpotAssumptions = DEFAULT_SPOT
    precision: str = "bf16"
    comm_factor: float = 1.0
    price_flags: dict[str, list[str]] = field(default_factory=dict)
    time_factors: dict[str, Range] = field(default_factory=dict)
    io: IoPlan | None = None

    @property
    def cost_usd(self) -> Range | None:
        return self.cost_by_purchase.get(self.purchase)

    @property
    def instances(self) -> int | None:
        if not self.instance:
            return None
        return math.ceil(self.count / self.per_instance)

    @property
    def hfu(self) -> Range:
        return self.mfu * (self.flops.hardware_flops / self.flops.model_flops)

    def to_dict(self) -> dict[str, Any]:
        shape = self.setup.shape
        out: dict[str, Any] = {
            "method": "analytic-transformer",
            "model": {"name": shape.name, "params": shape.params,
                      "active_params": shape.active_params, "source": shape.source},
            "tokens": self.setup.tokens,
            "accelerator": {"name": self.accelerator.name,
                            "peak_tflops": self.accelerator.peak_tflops(self.precision),
                            "memory_gb": self.accelerator.memory_gb,
                            "generation": self.accelerator.generation,
                            "use": self.accelerator.use},
            "precision": {"requested": self.setup.precision, "used": self.precision},
            "count": self.count,
            "count_source": self.count_source,
            "flops": self.flops.model_flops,
            "hardware_flops": self.flops.hardware_flops,
            "mfu": self.mfu.to_dict(),
            "hfu": self.hfu.to_dict(),
            "software_era": self.setup.software_era,
            "accelerator_hours": self.accelerator_hours.to_dict(),
        }
        if self.wall_clock_hours is not None:
            out["wall_clock_hours"] = self.wall_clock_hours.to_dict()
        if self.instance is not None:
            out["instance"] = {
                "type": self.instance.instance_type, "region": self.instance.region,
                "accelerators_per_instance": self.per_instance, "instances": self.instances,
                "price_on_demand_usd_hr": self.instance.on_demand_usd_hr,
                "price_spot_usd_hr": self.instance.spot_usd_hr,
                "price_quality": self.instance.price_quality,
                "network_gbps": self.instance.network_gbps, "efa": self.instance.efa,
                "intra_node": self.instance.intra_node,
            }
        if self.cost_usd is not None:
            out["cost_usd"] = self.cost_usd.to_dict()
            out["purchase"] = self.purchase
            out["cost_by_purchase"] = {k: v.to_dict() for k, v in self.cost_by_purchase.items()}
            out["wall_clock_by_purchase"] = {k: v.to_dict()
                                             for k, v in self.wall_by_purchase.items()}
        if self.instance is not None and self.instance.spot_usd_hr:
            spot = self.spot.to_dict()
            factor = self.time_factors.get("spot")
            spot["time_factor"] = factor.to_dict() if factor is not None else None
            spot["flags"] = self.price_flags.get("spot", [])
            spot["viable"] = "spot" in self.cost_by_purchase
            out["spot"] = spot
        out["energy_kwh"] = self.energy_kwh.to_dict()
        out["memory"] = {
            "per_accelerator_gb": round(self.memory.per_accelerator_gb, 3),
            "capacity_gb": self.memory.capacity_gb,
            "unit": "GB (1e9 bytes, as the vendor quotes capacity)",
            "fits": self.memory.fits,
            "min_count": self.memory.min_count,
            "zero_stage": self.memory.zero_stage,
            "breakdown_gb": {k: round(v, 3) for k, v in self.memory.breakdown_gb.items()},
        }
        if self.io is not None:
            out["io"] = self.io.to_dict()
        out["strategy"] = {**self.memory.strategy_dict(),
                           "communication_factor": round(self.comm_factor, 4)}
        out["assumptions"] = self.assumptions
        out["sources"] = self.sources
        return out


def plus_fixed(r: Range, usd: float) -> Range:
    """A cost range plus a fixed amount (shifts P10 and P90 alike)."""
    if usd <= 0:
        return r
    return Range.from_p10_p90(r.p10 + usd, r.p90 + usd) if r.sigma > 0 else Range(r.median + usd)


def _plan_at(setup: TrainingSetup, acc: Accelerator, count: int | None, per_node: int,
             intra: str, precision: str) -> tuple[int, MemoryPlan]:
    """(count, the cheapest strategy that fits there); raises naming what would fit."""
    w = setup.workload(precision)
    pins = setup.pins()
    tp, pp = setup.tensor_parallel, setup.pipeline_parallel
    if tp is not None and tp > per_node:
        raise InputError(f"--tensor-parallel {tp} exceeds the {per_node} accelerators of one "
                         "node (tensor parallelism stays within a node)",
                         f"use --tensor-parallel {per_node} or less")
    if count is not None and count % ((tp or 1) * (pp or 1)):
        raise InputError(f"--count {count} is not a multiple of tensor x pipeline parallel "
                         f"({tp or 1} x {pp or 1})", "pick degrees that divide the count")
    if count is not None:
        found = plan(w, acc.memory_gb, count, per_node, intra, **pins)
        if found is not None:
            return count, found
    smallest = smallest_count(w, acc.memory_gb, per_node, intra_node=intra, **pins)
    if count is None and smallest is not None:
        n = smallest
        if n > per_node:  # whole nodes beyond one node
            n = math.ceil(n / per_node) * per_node
        for _ in range(64):
            found = plan(w, acc.memory_gb, n, per_node, intra, **pins)
            if found is not None:
                return n, found
            n += per_node if n >= per_node else 1
    pinned = {k: v for k, v in pins.items() if v is not None}
    free = plan(w, acc.memory_gb, count, per_node, intra) if (count and pinned) else None
    smallest_free = (smallest_count(w, acc.memory_gb, per_node, intra_node=intra)
                     if pinned and smallest is None else None)
    raise does_not_fit(w, acc.name, acc.memory_gb, count, per_node, pinned, smallest,
                       smallest_free, free)


def job_wall_clock(setup: TrainingSetup, compute_wall: Range, nodes: int, storage: str,
                   spot: SpotAssumptions) -> tuple[Range, IoPlan, list[str]]:
    """The run's wall-clock from its compute-bound wall-clock: stretched when data loading,
    not compute, sets the pace, and for fine-tunes with the fixed costs small jobs pay.

    One function for the estimator and the config search, so the configuration the search
    recommends is judged on the same hours the estimate then prints.
    """
    trainable = setup.shape.params * setup.trainable_fraction
    io = plan_io(setup.tokens * TOKENIZED_BYTES_PER_TOKEN, compute_wall.p10,
                 compute_wall.median, nodes, trainable,
                 setup.shape.params - trainable if setup.finetune in FROZEN_BYTES else 0.0,
                 storage, spot.checkpoint_interval_hours)
    wall = compute_wall
    if io.io_bound:
        # Data loading, not compute, sets the pace: the accelerators wait for it.
        wall = wall * io.time_factor
    if setup.finetune == "none":
        return wall, io, []
    # Small jobs are dominated by what pre-training runs amortise: start-up, evaluation
    # passes and checkpoint saves (not inside the utilization fitted on pre-training runs).
    evals = wall * FINETUNE_EVAL_FACTOR / FINETUNE_EFFICIENCY
    wall = Range.from_p10_p90(evals.p10 + FINETUNE_STARTUP_HOURS.p10 + io.checkpoint_hours,
                              evals.p90 + FINETUNE_STARTUP_HOURS.p90 + io.checkpoint_hours)
    note = (f"fine-tune fixed costs: start-up {FINETUNE_STARTUP_HOURS.p10 * 60:.0f}-"
            f"{FINETUNE_STARTUP_HOURS.p90 * 60:.0f} min (image pull, model load), evaluation "
            f"passes {FINETUNE_EVAL_FACTOR.p10 - 1:.0%}-{FINETUNE_EVAL_FACTOR.p90 - 1:.0%} of "
            f"training time, checkpoint saves {io.checkpoint_hours * 60:,.1f} min; fine-tune "
            f"efficiency {FINETUNE_EFFICIENCY.p10:.1f}-{FINETUNE_EFFICIENCY.p90:.1f} of "
            "pre-training utilization (a prior checked on Alpaca 7B, not fitted)")
    return wall, io, [note]


def estimate_training(setup: TrainingSetup, hardware: str, count: int | None = None,
                      region: str | None = None, purchase: str = "on-demand",
                      spot: SpotAssumptions = DEFAULT_SPOT,
                      util: UtilizationModel | None = None,
                      storage: str = "s3") -> TrainingEstimate:
    """Estimate one training run of `setup` on `count` accelerators named by `hardware`."""
    if count is not None and count <= 0:
        raise InputError(f"--count must be a positive integer (got {count})",
                         "pass the number of accelerators, e.g. --count 64")
    if purchase not in PURCHASE_OPTIONS:
        raise InputError(f"unknown purchase option '{purchase}'",
                         f"use one of {', '.join(PURCHASE_OPTIONS)}")
    catalog = get_catalog()
    region = region or DEFAULT_REGION
    if region not in catalog.regions():
        catalog.instance("p4d.24xlarge", region)  # raises "unknown region ... did you mean"
    resolved = catalog.resolve(hardware)
    if resolved.accelerator is None:
        raise InputError(f"'{hardware}' has no accelerator the analytic estimator knows",
                         "use `mlscope calibrate` to measure CPU training, or name a GPU/TPU")
    acc = resolved.accelerator
    precision, precision_note = acc.precision_for(setup.precision)
    named = (catalog.instance(resolved.instance_type, region)
             if resolved.given_as == "instance" and resolved.instance_type else None)
    node = named or node_for(acc, 1 << 30, region)
    per_node = int(node.accelerator_count) if node else DEFAULT_PER_NODE
    intra = node.intra_node if node else "nvswitch"
    count_source = "given" if count is not None else "min-fit"
    count, memory = _plan_at(setup, acc, count, per_node, intra, precision)
    instance = named or node_for(acc, count, region)
    if instance is not None and instance is not named:
        # A sub-node job on a smaller instance: re-plan with that node's tensor-parallel reach.
        small = plan(setup.workload(precision), acc.memory_gb, count,
                     int(instance.accelerator_count), instance.intra_node, **setup.pins())
        if small is not None:
            memory = small
    per_instance = instance.accelerator_count if instance else 1.0
    memory = replace(memory, min_count=smallest_count(
        setup.workload(precision), acc.memory_gb, per_node, intra_node=intra, **setup.pins()))
    flops = setup.flops(memory.strategy.recompute)

    util = util or default_model()
    mfu_median, mfu_sigma = util.distribution(acc.generation, setup.software_era, count)
    peak = acc.peak_tflops(precision) * 1e12
    step_tokens = 4e6
    step_seconds = (flops.model_flops / setup.tokens * step_tokens) / (
        count * peak * mfu_median) * memory.time_factor
    comm, comm_note = communication_factor(setup.shape.params * setup.trainable_fraction, memory,
                                           count, instance, step_seconds)
    if named is None and comm > 1.0:
        # Only an accelerator was named: the hours are those of a cluster with a fast fabric,
        # as in the calibration runs; the AWS node's slower network is stated, not applied.
        comm_note = (f"{comm_note}; not applied since only the accelerator was named: pass "
                     f"--accelerator {instance.instance_type if instance else ''} to include it")
        comm = 1.0
    mfu = Range(mfu_median, mfu_sigma) / (memory.time_factor * comm)
    accel_hours = Range(flops.model_flops / (peak * 3600.0)) / mfu
    wall = accel_hours / count
    nodes = math.ceil(count / instance.accelerator_count) if instance else max(
        1, math.ceil(count / DEFAULT_PER_NODE))
    wall, io, fixed_notes = job_wall_clock(setup, wall, nodes, storage, spot)
    if io.io_bound or fixed_notes:
        accel_hours = wall * float(count)
        mfu = Range(flops.model_flops / (peak * 3600.0)) / accel_hours

    assumptions = list(flops.assumptions) + list(memory.notes) + list(io.notes) + fixed_notes
    if not acc.trains:
        assumptions.append(f"{acc.name} is an inference part (catalog `use`): the config "
                           "search never proposes it for training")
    if not fixed_notes:
        assumptions.append("checkpoint writes and restarts of a clean run are inside the "
                           "fitted whole-run utilization: not added again")
    if precision_note:
        assumptions.append(precision_note)
    if comm_note:
        assumptions.append(comm_note)
    costs: dict[str, Range] = {}
    walls: dict[str, Range] = {}
    flags: dict[str, list[str]] = {}
    factors: dict[str, Range] = {}
    if instance is not None:
        n_instances = math.ceil(count / per_instance)
        if n_instances > 1 and not instance.fast_interconnect:
            assumptions.append(f"{instance.instance_type} has no fast interconnect "
                               f"({instance.network_gbps or 0:g} Gbps, "
                               f"{'EFA' if instance.efa else 'no EFA'}): multi-node training "
                               "on it is slow; the communication term above prices that in")
        for option in PURCHASE_OPTIONS:
            rp = run_price(instance, option, n_instances, wall, spot)
            if rp is None:
                continue
            costs[option] = plus_fixed(rp.cost_usd, io.cost_usd)
            walls[option] = rp.wall_clock_hours
            flags[option] = list(rp.price.flags)
            factors[option] = rp.time_factor
            if option == purchase:
                assumptions.extend(rp.assumptions)
        if count % per_instance:
            assumptions.append(f"{count} accelerators need {n_instances} x "
                               f"{instance.instance_type}; idle accelerators are paid for")
        assumptions.append(f"price: {instance.instance_type} in {instance.region}, "
                           f"{instance.price_quality} prices dated {instance.date}")
        if purchase not in costs:
            offered = instance_price(instance, purchase) is not None
            why = (f": interruptions on {n_instances} nodes leave no progress "
                   f"({spot.describe()})" if offered else "")
            raise InputError(f"{instance.instance_type} has no {purchase} price in "
                             f"{instance.region}{why}",
                             "choose another --purchase option, --region or fewer nodes")
    else:
        assumptions.append(unpriced_instance_note(acc))
    tdp = acc.tdp_w or DEFAULT_TDP_W
    energy = accel_hours * tdp * POWER_SHARE * (PUE / 1000.0)
    fitted = acc.generation in util.fitted_generations
    assumptions += [
        f"MFU {mfu.p10:.2f}-{mfu.p90:.2f} (P10-P90) for {acc.generation} at {count} "
        f"accelerators with a {setup.software_era} software stack, against model FLOPs: "
        f"calibrated on {util.n_runs} published runs"
        + ("" if fitted else f"; no calibration run on {acc.generation}, prior with wider range"),
        f"HFU (hardware FLOPs, {memory.strategy.recompute} recompute) "
        f"{(mfu * (flops.hardware_flops / flops.model_flops)).median:.2f} at P50",
        f"peak {acc.peak_tflops(precision):g} TFLOPS dense {precision}",
        f"energy: {POWER_SHARE.p10:.0%}-{POWER_SHARE.p90:.0%} of TDP ({tdp:g} W) x PUE {PUE}",
    ]
    # The band actually used (an uncalibrated generation's prior floor included) against the
    # same generation's band at the reference count.
    widening = mfu_sigma / util.distribution(acc.generation, setup.software_era)[1]
    if widening > 1.5:
        assumptions.append(
            f"the utilization band is {widening:.1f}x as wide (log scale) as for a 1,000-"
            "accelerator run: published runs on a few nodes scatter more (tuned code beside "
            "first attempts); a short measured run of your own code narrows it")
    if count_source == "min-fit":
        assumptions.append("no --count given: wall-clock at the smallest count that fits "
                           f"({count})")
    sources = [f"{acc.name}: {acc.source} ({acc.date})", f"model shape: {setup.shape.source}",
               "utilization: published runs in mlscope/catalog/data/published_runs.csv"]
    if instance is not None:
        sources.append(f"{instance.instance_type}: {instance.source}")
    return TrainingEstimate(setup, acc, count, count_source, instance, per_instance, flops,
                            memory, mfu, accel_hours, walls.get(purchase, wall), costs,
                            purchase, energy, assumptions, sources, walls, spot, precision,
                            comm, flags, factors, io)
