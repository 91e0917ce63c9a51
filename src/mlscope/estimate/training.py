"""The analytic training estimate: FLOPs, memory fit, utilization, hours, dollars, energy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from mlscope.catalog import Accelerator, Instance, get_catalog
from mlscope.catalog.core import DEFAULT_REGION
from mlscope.core.ranges import Range
from mlscope.errors import ConflictError, InputError
from mlscope.estimate.flops import TrainingFlops, training_flops
from mlscope.estimate.memory import (
    FROZEN_BYTES,
    MemoryPlan,
    lora_trainable_params,
    plan_memory,
    require_fit,
)
from mlscope.estimate.shapes import ModelShape
from mlscope.estimate.utilization import default_model
from mlscope.pricing import DEFAULT_SPOT, PURCHASE_OPTIONS, SpotAssumptions, run_price

# Average board power while training, as a share of TDP, and the data-centre PUE.
POWER_SHARE = Range.from_p10_p90(0.55, 0.90)
PUE = 1.15
DEFAULT_SEQ_LEN = 2048
# full: every weight trains; lora: adapters over 16-bit frozen weights; lora-8bit and qlora:
# over 8-bit and 4-bit frozen weights.
FINETUNE_MODES = ("none", "full", "lora", "lora-8bit", "qlora")


@dataclass(frozen=True)
class TrainingSetup:
    """Everything about how the model is trained, independent of the hardware choice."""

    shape: ModelShape
    tokens: float
    precision: str = "bf16"
    zero_stage: int | None = None  # None: the lowest ZeRO stage that fits
    micro_batch: int = 1
    seq_len: int | None = None
    recompute: str = "none"
    flash_attention: bool = True
    finetune: str = "none"
    lora_rank: int = 16

    def __post_init__(self) -> None:
        if not self.tokens or self.tokens <= 0:
            raise InputError(f"tokens must be positive (got {self.tokens:g})",
                             "pass --tokens 2e12, or --dataset PATH to measure it")
        if self.finetune not in FINETUNE_MODES:
            raise InputError(f"unknown fine-tuning mode '{self.finetune}'",
                             f"use one of {', '.join(FINETUNE_MODES)}")
        if self.finetune == "qlora" and self.precision == "fp32":
            raise ConflictError("QLoRA trains adapters over 4-bit weights, not in fp32",
                                "drop --precision fp32 or use --finetune lora")

    @property
    def sequence(self) -> int:
        return self.seq_len or self.shape.context or DEFAULT_SEQ_LEN

    @property
    def trainable_fraction(self) -> float:
        if self.finetune in FROZEN_BYTES:
            return min(1.0, lora_trainable_params(self.shape, self.lora_rank) / self.shape.params)
        return 1.0

    def flops(self) -> TrainingFlops:
        return training_flops(self.shape, self.tokens, self.sequence if self.shape.has_shape
                              else self.seq_len, self.recompute, self.trainable_fraction)

    def memory(self, accelerator: Accelerator, count: int | None) -> MemoryPlan:
        def at_stage(stage: int) -> MemoryPlan:
            return plan_memory(self.shape, accelerator.memory_gb, count, self.precision, stage,
                               self.micro_batch, self.sequence, self.recompute,
                               self.flash_attention, self.finetune, self.lora_rank)

        if self.zero_stage is not None:
            return at_stage(self.zero_stage)
        plans = [at_stage(stage) for stage in range(4)]
        if count is not None:
            # Less sharding means less communication: take the lowest stage that fits.
            return next((p for p in plans if p.fits), plans[-1])
        best = min((p.min_count for p in plans if p.min_count is not None), default=None)
        return next((p for p in plans if p.min_count == best), plans[-1])


@dataclass
class TrainingEstimate:
    setup: TrainingSetup
    accelerator: Accelerator
    count: int | None
    count_source: str  # "given", "min-fit" or "search"
    instance: Instance | None
    per_instance: float
    flops: TrainingFlops
    memory: MemoryPlan
    mfu: Range
    accelerator_hours: Range
    wall_clock_hours: Range | None
    cost_by_purchase: dict[str, Range]
    purchase: str
    energy_kwh: Range
    assumptions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    wall_by_purchase: dict[str, Range] = field(default_factory=dict)
    spot: SpotAssumptions = DEFAULT_SPOT

    @property
    def cost_usd(self) -> Range | None:
        return self.cost_by_purchase.get(self.purchase)

    @property
    def instances(self) -> int | None:
        if self.count is None or not self.instance:
            return None
        return math.ceil(self.count / self.per_instance)

    def to_dict(self) -> dict[str, Any]:
        shape = self.setup.shape
        out: dict[str, Any] = {
            "method": "analytic-transformer",
            "model": {"name": shape.name, "params": shape.params,
                      "active_params": shape.active_params, "source": shape.source},
            "tokens": self.setup.tokens,
            "accelerator": {"name": self.accelerator.name,
                            "peak_tflops": self.accelerator.peak_tflops(self.setup.precision),
                            "memory_gb": self.accelerator.memory_gb,
                            "generation": self.accelerator.generation},
            "count": self.count,
            "count_source": self.count_source,
            "flops": self.flops.model_flops,
            "hardware_flops": self.flops.hardware_flops,
            "mfu": self.mfu.to_dict(),
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
            }
        if self.cost_usd is not None:
            out["cost_usd"] = self.cost_usd.to_dict()
            out["purchase"] = self.purchase
            out["cost_by_purchase"] = {k: v.to_dict() for k, v in self.cost_by_purchase.items()}
            out["wall_clock_by_purchase"] = {k: v.to_dict()
                                             for k, v in self.wall_by_purchase.items()}
        if "spot" in self.cost_by_purchase:
            out["spot"] = self.spot.to_dict()
        out["energy_kwh"] = self.energy_kwh.to_dict()
        out["memory"] = {
            "per_accelerator_gb": round(self.memory.per_accelerator_gb, 3),
            "capacity_gb": self.memory.capacity_gb,
            "fits": self.memory.fits,
            "min_count": self.memory.min_count,
            "zero_stage": self.memory.zero_stage,
            "breakdown_gb": {k: round(v, 3) for k, v in self.memory.breakdown_gb.items()},
        }
        out["assumptions"] = self.assumptions
        out["sources"] = self.sources
        return out


def _training_instance(accelerator: Accelerator, region: str, given: str | None) -> Instance | None:
    """The EC2 instance that carries the accelerator (the given one if an instance was named)."""
    catalog = get_catalog()
    if given:
        return catalog.instance(given, region)
    options = [i for i in catalog.instances_with(accelerator.name) if i.region == region
               and i.on_demand_usd_hr]
    if not options:
        return None
    # The largest node of the family: training clusters are built from full nodes.
    return max(options, key=lambda i: (i.accelerator_count, -(i.on_demand_usd_hr or 0)))


def estimate_training(setup: TrainingSetup, hardware: str, count: int | None = None,
                      region: str | None = None, purchase: str = "on-demand",
                      spot: SpotAssumptions = DEFAULT_SPOT) -> TrainingEstimate:
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
    instance = _training_instance(acc, region, resolved.instance_type
                                  if resolved.given_as == "instance" else None)
    per_instance = instance.accelerator_count if instance else 1.0

    memory = setup.memory(acc, count)
    extra_notes: list[str] = []
    if memory.min_count is None and setup.recompute != "full":
        # Activations alone overflow the device: large runs recompute them, at 1/3 more work.
        setup = replace(setup, recompute="full")
        memory = setup.memory(acc, count)
        extra_notes.append("activations do not fit even at micro-batch "
                           f"{setup.micro_batch}: full activation recomputation assumed")
    require_fit(memory, acc.name, setup.shape)
    flops = setup.flops()
    count_source = "given"
    if count is None:
        count_source = "min-fit"
        base = memory.min_count or 1
        count = int(math.ceil(base / per_instance) * per_instance) if instance else base
        memory = setup.memory(acc, count)

    util = default_model()
    mfu_median, mfu_sigma = util.distribution(acc.generation, count)
    mfu = Range(mfu_median, mfu_sigma)
    peak = acc.peak_tflops(setup.precision) * 1e12
    accel_hours = Range(flops.hardware_flops / (peak * 3600.0)) / mfu
    wall = accel_hours / count

    costs: dict[str, Range] = {}
    walls: dict[str, Range] = {}
    assumptions = list(flops.assumptions) + list(memory.notes) + extra_notes
    if instance is not None:
        n_instances = math.ceil(count / per_instance)
        for option in PURCHASE_OPTIONS:
            rp = run_price(instance, option, n_instances, wall, spot)
            if rp is None:
                continue
            costs[option] = rp.cost_usd
            walls[option] = rp.wall_clock_hours
            if option == purchase:
                assumptions.extend(rp.assumptions)
        if count % per_instance:
            assumptions.append(f"{count} accelerators need {n_instances} x "
                               f"{instance.instance_type}; idle accelerators are paid for")
        assumptions.append(f"price: {instance.instance_type} in {instance.region}, "
                           f"{instance.price_quality} prices dated {instance.date}")
    else:
        assumptions.append(f"no AWS instance carries {acc.name}: no dollar figures")
    if purchase not in costs and instance is not None:
        why = (" (interruptions on this many nodes leave no progress)"
               if purchase == "spot" and instance.spot_usd_hr else "")
        raise InputError(f"{instance.instance_type} has no {purchase} price in {region}{why}",
                         "choose another --purchase option or --region")
    energy = accel_hours * (acc.tdp_w or 400.0) * POWER_SHARE * (PUE / 1000.0)
    fitted = acc.generation in util.fitted_generations
    assumptions += [
        f"MFU {mfu.p10:.2f}-{mfu.p90:.2f} (P10-P90) for {acc.generation} at {count} "
        f"accelerators: calibrated on {util.n_runs} published runs"
        + ("" if fitted else f"; no calibration run on {acc.generation}, prior with wider range"),
        f"peak {acc.peak_tflops(setup.precision):g} TFLOPS dense {setup.precision}",
        f"energy: {POWER_SHARE.p10:.0%}-{POWER_SHARE.p90:.0%} of TDP "
        f"({acc.tdp_w or 400:g} W) x PUE {PUE}",
    ]
    if count_source == "min-fit":
        assumptions.append("no --count given: wall-clock at the smallest count that fits "
                           f"({count})")
    sources = [f"{acc.name}: {acc.source} ({acc.date})", f"model shape: {setup.shape.source}",
               "utilization: published runs in mlscope/catalog/data/published_runs.csv"]
    if instance is not None:
        sources.append(f"{instance.instance_type}: {instance.source}")
    return TrainingEstimate(setup, acc, count, count_source, instance, per_instance, flops,
                            memory, mfu, accel_hours, walls.get(purchase, wall), costs,
                            purchase, energy, assumptions, sources, walls, spot)
