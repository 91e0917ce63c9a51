"""Devices that run inference: edge boards, Apple Silicon, Jetson, GPUs and AWS instances.

Edge devices come from `catalog/data/devices.csv` (one row per device, each with its source and
date; values nobody published are left empty). An AWS instance type is also a device: its
accelerator's memory and bandwidth come from the accelerator table, its price from the instance
table. Ids are lower-case with hyphens; lookups accept aliases and fail with "did you mean".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

from mlscope.catalog.core import get_catalog
from mlscope.errors import InputError, UnknownNameError

# Classes the inference model has efficiencies for; an instance's accelerator maps onto one.
CPU_CLASSES = ("arm-cpu", "x86-cpu")
GPU_CLASSES = ("apple-gpu", "jetson-gpu", "nvidia-gpu")
_APPLE_ALUS_PER_CORE = 128  # FP32 lanes per Apple GPU core; 2 FLOPs per FMA


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    aliases: tuple[str, ...]
    family: str
    device_class: str  # arm-cpu | x86-cpu | apple-gpu | jetson-gpu | nvidia-gpu
    memory_gb: float  # the configuration assumed unless --memory-gb says otherwise
    memory_options_gb: tuple[float, ...]
    bandwidth_gbs: float | None  # theoretical; None when nobody published it
    bandwidth_measured_gbs: float | None
    compute_tflops: float | None  # the peak the runtime's kernels use (see note)
    gpu_cores: int | None
    gpu_clock_ghz: float | None
    power_load_w: float | None
    price_usd: float | None
    note: str
    source: str
    date: str
    # AWS instances: how many accelerators, the on-demand price, and the region priced.
    accelerators: int = 1
    instance_type: str | None = None
    derived: tuple[str, ...] = ()  # figures derived here, not read from the source

    @property
    def is_cpu(self) -> bool:
        return self.device_class in CPU_CLASSES

    @property
    def is_instance(self) -> bool:
        return self.instance_type is not None


def _f(value: str) -> float | None:
    value = (value or "").strip()
    return float(value) if value else None


def _read() -> list[Device]:
    text = (resources.files("mlscope.catalog") / "data" / "devices.csv").read_text()
    out = []
    for r in csv.DictReader(text.splitlines()):
        cores = _f(r["gpu_cores"])
        out.append(Device(
            id=r["id"], name=r["name"],
            aliases=tuple(a for a in r["aliases"].split(";") if a),
            family=r["family"], device_class=r["class"], memory_gb=float(r["memory_gb"]),
            memory_options_gb=tuple(float(m) for m in r["memory_options_gb"].split(";") if m),
            bandwidth_gbs=_f(r["bandwidth_gbs"]),
            bandwidth_measured_gbs=_f(r["bandwidth_measured_gbs"]),
            compute_tflops=_f(r["compute_tflops"]), gpu_cores=int(cores) if cores else None,
            gpu_clock_ghz=_f(r["gpu_clock_ghz"]), power_load_w=_f(r["power_load_w"]),
            price_usd=_f(r["price_usd"]), note=r["note"], source=r["source"], date=r["date"],
        ))
    return [_with_apple_compute(d, out) for d in out]


def _with_apple_compute(d: Device, all_devices: list[Device]) -> Device:
    """Apple GPU peak = cores x 128 lanes x 2 FLOPs x clock; an unpublished clock borrows the
    clock of the same generation (said in `derived`, so the estimate lists it)."""
    if d.device_class != "apple-gpu" or d.compute_tflops is not None or not d.gpu_cores:
        return d
    clock, derived = d.gpu_clock_ghz, tuple[str, ...]()
    if clock is None:
        known = [o.gpu_clock_ghz for o in all_devices
                 if o.family == d.family and o.gpu_clock_ghz is not None]
        if not known:
            return d
        clock = max(known)
        derived = (f"{d.name}: GPU clock not published; {clock:g} GHz of the same generation "
                   "assumed for its compute peak",)
    tflops = d.gpu_cores * _APPLE_ALUS_PER_CORE * 2 * clock / 1000
    return replace(d, compute_tflops=tflops, derived=derived)


@lru_cache(maxsize=1)
def devices() -> dict[str, Device]:
    return {d.id: d for d in _read()}


def device_ids(include_instances: bool = True) -> list[str]:
    ids = list(devices())
    if include_instances:
        cat = get_catalog()
        ids += [i.instance_type for i in cat.instances if i.accelerator]
    return sorted(set(ids))


def _index() -> dict[str, str]:
    idx: dict[str, str] = {}
    for d in devices().values():
        for key in (d.id, *d.aliases):
            idx.setdefault(key.lower(), d.id)
    return idx


def find_device(name: str, region: str | None = None) -> Device | None:
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    hit = _index().get(key)
    if hit:
        return devices()[hit]
    return _instance_device(name.strip(), region)


def device(name: str, region: str | None = None) -> Device:
    """The device called NAME (an edge device id or alias, or an AWS instance type)."""
    d = find_device(name, region)
    if d is None:
        err = UnknownNameError("device", name, device_ids())
        if not err.suggestions:
            err.fix = ("use a device id such as raspberry-pi-5, jetson-orin-nano, apple-m2-max "
                       "(see docs/inference.md) or an AWS GPU instance type such as g5.xlarge")
        raise err
    return d


def _instance_device(name: str, region: str | None) -> Device | None:
    cat = get_catalog()
    inst = cat.find_instance(name, region) if region else cat.find_instance(name)
    if inst is None:
        return None
    if not inst.accelerator:
        raise InputError(
            f"{inst.instance_type} has no accelerator and mlscope has no memory-bandwidth "
            "figure for its CPUs",
            "pick a GPU instance such as g5.xlarge (CPU instances are not modelled)")
    acc = cat.find_accelerator(inst.accelerator)
    if acc is None or acc.bandwidth_gbs is None:
        raise InputError(f"no bandwidth figure for the accelerator of {inst.instance_type}",
                         "pass --bandwidth-gbs")
    if acc.generation in ("inferentia", "trainium", "tpu"):
        raise InputError(
            f"{inst.instance_type} carries {acc.name}, which llama.cpp, Ollama and MLC do not "
            "run on (it needs the Neuron SDK)",
            "pick a GPU instance (g5, g6, g6e, p4d, p5) or an edge device (docs/inference.md)")
    share = inst.accelerator_count or 1.0  # g6f: a quarter of an L4
    count = max(1, round(share))
    part = min(1.0, share)  # a fractional GPU gets that share of its bandwidth and compute
    peak = acc.peak_bf16_tflops or acc.peak_fp32_tflops
    return Device(
        id=inst.instance_type, name=f"{inst.instance_type} ({share:g} x {acc.name})", aliases=(),
        family=f"nvidia-{acc.generation}", device_class="nvidia-gpu",
        memory_gb=acc.memory_gb * share, memory_options_gb=(acc.memory_gb * share,),
        bandwidth_gbs=acc.bandwidth_gbs * part, bandwidth_measured_gbs=None,
        compute_tflops=peak * part if peak else None, gpu_cores=None, gpu_clock_ghz=None,
        power_load_w=acc.tdp_w * share if acc.tdp_w else None,
        price_usd=None, note=acc.note, source=f"{acc.source}; {inst.source}",
        date=max(acc.date, inst.date), accelerators=count, instance_type=inst.instance_type,
    )
