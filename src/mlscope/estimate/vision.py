"""Vision models, analytic: FLOPs per sample x samples x epochs, on a small sourced zoo.

Training FLOPs per sample = 3 x forward (backward is twice the forward) = 6 x MACs; the model
zoo (`catalog/data/vision_models.json`) gives MACs at the stated input size with sources.
Utilization has no fitted whole runs here: each model carries an A100 prior (convnets reach a
smaller share of peak than transformers), scaled to other generations by the LLM fit's ratio
of generation medians, with the prior's wider range. Data parallel only (the models are small);
memory is model states (16 bytes/param) plus activations per sample x micro-batch. Reading the
images is often what bounds vision training, so the IO check matters here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlscope.catalog import data_text, get_catalog
from mlscope.catalog.core import DEFAULT_REGION
from mlscope.core.ranges import Range
from mlscope.core.units import GIB
from mlscope.errors import DoesNotFitError, InputError, UnknownNameError
from mlscope.estimate.cluster import node_for
from mlscope.estimate.io import plan_io
from mlscope.estimate.training import DEFAULT_TDP_W, POWER_SHARE, PUE, plus_fixed
from mlscope.estimate.utilization import PRIOR_SIGMA, default_model
from mlscope.pricing import DEFAULT_SPOT, PURCHASE_OPTIONS, SpotAssumptions, run_price

STATE_BYTES = 16.0
OVERHEAD_FIXED_GB = 1.5


@dataclass(frozen=True)
class VisionModel:
    name: str
    params: float
    forward_gmacs: float
    input: str
    activation_mb_per_sample: float
    bytes_per_sample: float
    mfu_prior_ampere: float
    source: str

    @property
    def train_flops_per_sample(self) -> float:
        return 6.0 * self.forward_gmacs * 1e9


@lru_cache(maxsize=1)
def _zoo() -> dict[str, Any]:
    text = data_text("vision_models.json")
    data: dict[str, Any] = json.loads(text)
    return data


def vision_names() -> list[str]:
    z = _zoo()
    return sorted([*z["models"], *z["aliases"]])


def find_vision_model(name: str) -> VisionModel | None:
    z = _zoo()
    key = z["aliases"].get(name.strip().lower(), name.strip().lower())
    row = z["models"].get(key)
    return VisionModel(name=key, **row) if row else None


def vision_model(name: str) -> VisionModel:
    found = find_vision_model(name)
    if found is None:
        raise UnknownNameError("vision model", name, vision_names())
    return found


def estimate_vision(model: str, samples: float, epochs: float, hardware: str, count: int,
                    region: str | None = None, purchase: str = "on-demand",
                    micro_batch: int = 64, spot: SpotAssumptions = DEFAULT_SPOT,
                    storage: str = "s3") -> dict[str, Any]:
    """Hours, dollars and energy of training a zoo vision model on `count` accelerators."""
    for what, value in (("--samples", samples), ("--epochs", epochs)):
        if not math.isfinite(value) or value <= 0:
            raise InputError(f"{what} must be a positive finite number (got {value:g})",
                             "pass e.g. --samples 1.28M --epochs 90")
    if count <= 0:
        raise InputError(f"--count must be a positive integer (got {count})",
                         "pass the number of accelerators, e.g. --count 8")
    m = vision_model(model)
    catalog = get_catalog()
    region = region or DEFAULT_REGION
    resolved = catalog.resolve(hardware)
    acc = resolved.accelerator
    if acc is None:
        raise InputError(f"'{hardware}' has no accelerator the analytic estimator knows",
                         "name a GPU or an instance type with one")
    precision, precision_note = acc.precision_for("bf16")
    need_gb = (m.params * STATE_BYTES + micro_batch * m.activation_mb_per_sample * 1e6) / 1e9
    need_gb = need_gb * 1.1 + OVERHEAD_FIXED_GB
    if need_gb > acc.memory_gb:
        fits_mb = int((acc.memory_gb - OVERHEAD_FIXED_GB) / 1.1 * 1e9 - m.params * STATE_BYTES
                      ) // int(m.activation_mb_per_sample * 1e6)
        raise DoesNotFitError(f"{m.name} at micro-batch {micro_batch} needs {need_gb:.1f} GB on "
                              f"{acc.name} ({acc.memory_gb:g} GB)",
                              f"use --micro-batch {max(1, fits_mb)} or less")
    named = (catalog.instance(resolved.instance_type, region)
             if resolved.given_as == "instance" and resolved.instance_type else None)
    instance = named or node_for(acc, count, region)
    util = default_model()
    ampere = util.median("ampere")
    ratio = util.median(acc.generation) / ampere if ampere else 1.0
    mfu = Range(min(0.75, m.mfu_prior_ampere * ratio), PRIOR_SIGMA)
    flops = m.train_flops_per_sample * samples * epochs
    peak = acc.peak_tflops(precision) * 1e12
    accel_hours = Range(flops / (peak * 3600.0)) / mfu
    wall = accel_hours / count
    per_node = instance.accelerator_count if instance else 8.0
    nodes = math.ceil(count / per_node)
    io = plan_io(m.bytes_per_sample * samples * epochs, wall.p10, wall.median, nodes,
                 m.params, 0.0, storage, spot.checkpoint_interval_hours,
                 dataset_bytes=m.bytes_per_sample * samples,
                 node_memory_bytes=instance.memory_gib * GIB if instance else None)
    if io.io_bound:
        accel_hours = accel_hours * io.time_factor
        mfu = mfu / io.time_factor
        wall = accel_hours / count
    assumptions = [
        f"{m.name}: {m.forward_gmacs:g} GMACs forward per {m.input} sample; training = 3 x "
        f"forward = {m.train_flops_per_sample / 1e9:,.1f} GFLOPs per sample x {samples:,.4g} "
        f"samples x {epochs:g} epochs",
        f"MFU {mfu.p10:.2f}-{mfu.p90:.2f} (P10-P90): uncalibrated prior "
        f"({m.mfu_prior_ampere:.2f} on A100, scaled to {acc.generation})",
        f"memory: {need_gb:.1f} of {acc.memory_gb:g} GB at micro-batch {micro_batch} "
        "(data parallel)", *io.notes,
    ]
    if precision_note:
        assumptions.append(precision_note)
    out: dict[str, Any] = {
        "method": "analytic-vision",
        "model": {"name": m.name, "params": m.params, "source": m.source},
        "samples": samples, "epochs": epochs,
        "accelerator": {"name": acc.name, "peak_tflops": acc.peak_tflops(precision),
                        "memory_gb": acc.memory_gb, "generation": acc.generation,
                        "use": acc.use},
        "count": count, "count_source": "given", "flops": flops, "hardware_flops": flops,
        "mfu": mfu.to_dict(), "accelerator_hours": accel_hours.to_dict(),
        "wall_clock_hours": wall.to_dict(),
        "memory": {"per_accelerator_gb": round(need_gb, 3), "capacity_gb": acc.memory_gb,
                   "unit": "GB (1e9 bytes, as the vendor quotes capacity)", "fits": True,
                   "min_count": 1, "zero_stage": 0},
        "io": io.to_dict(),
        "energy_kwh": (accel_hours * (acc.tdp_w or DEFAULT_TDP_W) * POWER_SHARE
                       * (PUE / 1000.0)).to_dict(),
        "sources": [f"{acc.name}: {acc.source} ({acc.date})", f"{m.name}: {m.source}"],
    }
    if instance is not None:
        costs: dict[str, Any] = {}
        walls: dict[str, Any] = {}
        for option in PURCHASE_OPTIONS:
            rp = run_price(instance, option, nodes, wall, spot)
            if rp is None:
                continue
            costs[option] = plus_fixed(rp.cost_usd, io.cost_usd).to_dict()
            walls[option] = rp.wall_clock_hours.to_dict()
            if option == purchase:
                assumptions.extend(rp.assumptions)
        if purchase not in costs:
            raise InputError(f"{instance.instance_type} has no {purchase} price in "
                             f"{instance.region}", "choose another --purchase option")
        out["instance"] = {"type": instance.instance_type, "region": instance.region,
                           "accelerators_per_instance": per_node, "instances": nodes,
                           "price_on_demand_usd_hr": instance.on_demand_usd_hr,
                           "price_spot_usd_hr": instance.spot_usd_hr,
                           "price_quality": instance.price_quality}
        out.update({"cost_usd": costs[purchase], "purchase": purchase,
                    "cost_by_purchase": costs, "wall_clock_by_purchase": walls})
        out["wall_clock_hours"] = walls[purchase]
        out["sources"].append(f"{instance.instance_type}: {instance.source}")
    else:
        assumptions.append(f"no AWS instance carries {acc.name}: no dollar figures")
    out["assumptions"] = assumptions
    return out
