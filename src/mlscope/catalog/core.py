"""Catalog facade: accelerators and AWS instances with prices, loaded from dated CSV files.

The packaged files live in `catalog/data/`. `mlscope catalog import` writes refreshed prices to
an overlay in the user's mlscope home (`$MLSCOPE_HOME`, default `~/.mlscope`), which wins over
the packaged rows for the same (instance, region) key.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from mlscope.errors import UnknownNameError

DEFAULT_REGION = "us-east-1"
OVERLAY_FILE = "instances_imported.csv"
INSTANCE_FIELDS = [
    "instance_type", "service", "region", "vcpus", "memory_gib", "accelerator",
    "accelerator_count", "price_on_demand_usd_hr", "price_spot_usd_hr", "price_quality",
    "source", "date", "network_gbps", "efa", "intra_node",
]
# Multi-node training needs an RDMA fabric of at least this much per node (p4d's 400 Gbps EFA).
FAST_INTERCONNECT_GBPS = 400.0


def mlscope_home() -> Path:
    """Where mlscope keeps user state (catalog overlay, registry defaults)."""
    return Path(os.environ.get("MLSCOPE_HOME", Path.home() / ".mlscope"))


def _f(value: str) -> float | None:
    value = (value or "").strip()
    return float(value) if value else None


@dataclass(frozen=True)
class Accelerator:
    name: str
    aliases: tuple[str, ...]
    generation: str
    peak_bf16_tflops: float | None
    peak_fp8_tflops: float | None
    peak_fp32_tflops: float | None
    peak_tf32_tflops: float | None
    memory_gb: float
    bandwidth_gbs: float | None
    tdp_w: float | None
    note: str
    source: str
    date: str
    use: str = "training"  # "training" or "inference": what the config search may propose

    @property
    def trains(self) -> bool:
        return self.use == "training"

    def precision_for(self, dtype: str) -> tuple[str, str | None]:
        """The dtype this part really runs for `dtype`, and a note when it differs.

        bf16 needs Ampere or newer (or a TPU/Trainium); fp8 only where the catalog has an fp8
        peak. bf16 on V100/T4 becomes fp16 (same tensor-core peak) with a note; fp8 where there
        is no fp8 peak is an error, since the run would not exist.
        """
        if dtype == "bf16" and self.generation in ("volta", "turing", "kepler"):
            return "fp16", f"{self.name} has no bf16: fp16 mixed precision assumed (same peak)"
        if dtype == "fp8" and not self.peak_fp8_tflops:
            from mlscope.errors import InputError

            raise InputError(f"{self.name} has no fp8 tensor cores in the catalog",
                             "use --precision bf16 (or fp16), or an fp8 part such as H100")
        return dtype, None

    def peak_tflops(self, dtype: str = "bf16") -> float:
        """Dense peak for a training dtype; fp16/bf16 share the tensor-core peak."""
        table = {
            "bf16": self.peak_bf16_tflops, "fp16": self.peak_bf16_tflops,
            "fp8": self.peak_fp8_tflops,
            "tf32": self.peak_tf32_tflops or self.peak_fp32_tflops,
            "fp32": self.peak_fp32_tflops,
        }
        value = table.get(dtype)
        if value is None:
            value = self.peak_bf16_tflops or self.peak_fp32_tflops
        if value is None:
            raise UnknownNameError(f"peak figure for {self.name} in", dtype, table)
        return value


@dataclass(frozen=True)
class Instance:
    instance_type: str
    service: str  # "ec2" or "sagemaker"
    region: str
    vcpus: int
    memory_gib: float
    accelerator: str | None
    accelerator_count: float
    on_demand_usd_hr: float | None
    spot_usd_hr: float | None
    price_quality: str  # catalog | imported | secondary-rough | derived-rough
    source: str
    date: str
    network_gbps: float | None = None  # per instance
    efa: bool = False  # RDMA fabric for multi-node collectives
    intra_node: str = ""  # single | pcie | nvlink | nvswitch | neuronlink

    @property
    def fast_interconnect(self) -> bool:
        """Whether multi-node training on this instance is realistic (EFA >= 400 Gbps)."""
        return self.efa and (self.network_gbps or 0.0) >= FAST_INTERCONNECT_GBPS


@dataclass(frozen=True)
class ResolvedHardware:
    """What a user's hardware name means: an accelerator and, when known, an AWS instance."""

    accelerator: Accelerator | None
    instance_type: str | None  # the instance family member the name maps to
    per_instance: float  # accelerators per instance (1 when no instance is known)
    given_as: str  # "accelerator" or "instance"


@dataclass
class Catalog:
    accelerators: dict[str, Accelerator]
    instances: list[Instance]
    dates: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._accel_index: dict[str, str] = {}
        for acc in self.accelerators.values():
            for key in (acc.name, *acc.aliases):
                self._accel_index.setdefault(key.lower(), acc.name)
        self._inst_index: dict[tuple[str, str], Instance] = {}
        for inst in self.instances:
            self._inst_index[(inst.instance_type.lower(), inst.region)] = inst

    # -- accelerators --------------------------------------------------------------------
    def accelerator_names(self) -> list[str]:
        names = list(self.accelerators)
        for acc in self.accelerators.values():
            names.extend(acc.aliases)
        return names

    def find_accelerator(self, name: str) -> Accelerator | None:
        key = self._accel_index.get(name.strip().lower())
        return self.accelerators[key] if key else None

    def accelerator(self, name: str) -> Accelerator:
        acc = self.find_accelerator(name)
        if acc is None:
            raise UnknownNameError("accelerator", name, self.accelerator_names())
        return acc

    # -- instances -----------------------------------------------------------------------
    def instance_types(self) -> list[str]:
        return sorted({i.instance_type for i in self.instances})

    def regions(self) -> list[str]:
        return sorted({i.region for i in self.instances})

    def find_instance(self, name: str, region: str | None = None) -> Instance | None:
        key = name.strip().lower()
        if region:
            return self._inst_index.get((key, region))
        for reg in (DEFAULT_REGION, *self.regions()):
            inst = self._inst_index.get((key, reg))
            if inst:
                return inst
        return None

    def instance(self, name: str, region: str | None = None) -> Instance:
        inst = self.find_instance(name)
        if inst is None:
            raise UnknownNameError("instance type", name, self.instance_types())
        if region is None:
            return inst
        if region not in self.regions():
            raise UnknownNameError("region", region, self.regions())
        in_region = self.find_instance(name, region)
        if in_region is None:
            have = sorted(i.region for i in self.instances if i.instance_type == inst.instance_type)
            raise UnknownNameError(
                f"region for {inst.instance_type} (offered in {', '.join(have)})", region, have)
        return in_region

    def instances_with(self, accelerator: str, service: str | None = "ec2") -> list[Instance]:
        return [i for i in self.instances if i.accelerator == accelerator
                and (service is None or i.service == service)]

    def storage_price(self, service: str, item: str, region: str = DEFAULT_REGION) -> float:
        """USD per unit of a storage/transfer price row (e.g. "S3", "Standard storage")."""
        for r in _storage_rows():
            if (r["service"] == service and r["item"] == item
                    and (region in r["region"].split("|") or r["region"] == "all listed"
                         or r["region"] == DEFAULT_REGION)):
                return float(r["price_usd"])
        raise UnknownNameError(f"{service} price item", item,
                               [r["item"] for r in _storage_rows() if r["service"] == service])

    def resolve(self, name: str) -> ResolvedHardware:
        """Resolve an accelerator or instance name (`H100`, `p4d.24xlarge`, `ml.p4d.24xlarge`)."""
        acc = self.find_accelerator(name)
        if acc is not None:
            # The instance that carries the most of this accelerator is the natural training node.
            options = sorted(self.instances_with(acc.name), key=lambda i: -i.accelerator_count)
            if options:
                best = options[0]
                return ResolvedHardware(acc, best.instance_type, best.accelerator_count,
                                        "accelerator")
            return ResolvedHardware(acc, None, 1, "accelerator")
        inst = self.find_instance(name)
        if inst is not None:
            carried = self.find_accelerator(inst.accelerator) if inst.accelerator else None
            return ResolvedHardware(carried, inst.instance_type,
                                    inst.accelerator_count or 1, "instance")
        raise UnknownNameError("accelerator or instance", name,
                               self.accelerator_names() + self.instance_types())


@lru_cache(maxsize=1)
def _storage_rows() -> list[dict[str, str]]:
    text = (resources.files("mlscope.catalog") / "data" / "aws_storage_transfer_prices.csv")
    return _read_rows(text.read_text())


def _read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines()))


def _instance_from_row(r: dict[str, str]) -> Instance:
    return Instance(
        instance_type=r["instance_type"], service=r["service"], region=r["region"],
        vcpus=int(float(r["vcpus"] or 0)), memory_gib=float(r["memory_gib"] or 0),
        accelerator=r["accelerator"] or None,
        accelerator_count=float(r["accelerator_count"] or 0),
        on_demand_usd_hr=_f(r["price_on_demand_usd_hr"]),
        spot_usd_hr=_f(r["price_spot_usd_hr"]), price_quality=r["price_quality"],
        source=r["source"], date=r["date"],
        network_gbps=_f(r.get("network_gbps") or ""), efa=(r.get("efa") or "") == "yes",
        intra_node=r.get("intra_node") or "",
    )


def _load() -> Catalog:
    data = resources.files("mlscope.catalog") / "data"
    accels: dict[str, Accelerator] = {}
    for r in _read_rows((data / "accelerators.csv").read_text()):
        accels[r["name"]] = Accelerator(
            name=r["name"], aliases=tuple(a for a in r["aliases"].split(";") if a),
            generation=r["generation"], peak_bf16_tflops=_f(r["peak_dense_bf16_tflops"]),
            peak_fp8_tflops=_f(r["peak_dense_fp8_tflops"]),
            peak_fp32_tflops=_f(r["peak_fp32_tflops"]),
            peak_tf32_tflops=_f(r["peak_tf32_tflops"]), memory_gb=float(r["memory_gb"]),
            bandwidth_gbs=_f(r["memory_bandwidth_gbs"]), tdp_w=_f(r["tdp_w"]),
            note=r["note"], source=r["source"], date=r["date"],
            use=r.get("use") or "training",
        )
    rows = {(r["instance_type"], r["region"]): r
            for r in _read_rows((data / "aws_instances.csv").read_text())}
    dates = {"accelerators": max(a.date for a in accels.values()),
             "instances": max(r["date"] for r in rows.values())}
    overlay = mlscope_home() / "catalog" / OVERLAY_FILE
    if overlay.exists():
        for r in _read_rows(overlay.read_text()):
            key = (r["instance_type"], r["region"])
            # An import overrides only the columns it carried: empty cells keep packaged data.
            given = {k: v for k, v in r.items() if k and v not in ("", None)}
            rows[key] = {**{k: "" for k in INSTANCE_FIELDS}, **rows.get(key, {}), **given}
        meta = overlay.with_suffix(".json")
        if meta.exists():
            dates["instances_imported"] = json.loads(meta.read_text()).get("imported_at", "")
    instances = [_instance_from_row(r) for r in rows.values()]
    return Catalog(accels, instances, dates)


@lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    """The catalog, loaded once per process (reset after an import)."""
    return _load()


def reset_catalog() -> None:
    get_catalog.cache_clear()
