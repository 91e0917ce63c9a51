"""Data loading and checkpoints: the throughput a run needs against what its storage delivers.

Throughputs (AWS documentation, rough and stated in every estimate):
- S3: a training node reads or writes at most its network share; with many parallel range
  requests ~2.5 GB/s per node is a realistic sustained figure (20 Gbps), and request rates
  scale per prefix (3,500 PUT / 5,500 GET per second), so aggregate throughput grows with nodes.
- FSx for Lustre (PERSISTENT_2): 125-1000 MB/s per TiB of capacity; 1000 MB/s/TiB assumed on a
  file system sized to the dataset plus the kept checkpoints (1.2 TiB minimum).
- EBS gp3: 125 MB/s baseline, up to 1000 MB/s per volume when provisioned: one per node.
- A dataset that fits in half of a node's memory is read from storage once: later epochs come
  from the page cache (as MLPerf image submissions and DALI/FFCV loaders do), so only the
  first epoch can wait on storage.

Checkpoints hold bf16 weights and fp32 optimizer state (master copy and two Adam moments):
14 bytes per trainable parameter, plus 2 bytes per frozen one; every node writes its shard in
parallel, and the write blocks training (asynchronous checkpointing would hide most of it).
Storage is priced on S3 Standard for the kept checkpoints over the run (prorated GB-months)
plus one PUT per 100 MB part; FSx and EBS capacity are not priced here (the cost engine prices
storage resources declared in a spec).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlscope.catalog import get_catalog
from mlscope.core.units import GB, HOURS_PER_MONTH

STORAGE_KINDS = ("s3", "fsx-lustre", "ebs-gp3")
S3_GBS_PER_NODE = 2.5
FSX_GBS_PER_TIB = 1.0
FSX_MIN_TIB = 1.2
EBS_GP3_GBS_PER_NODE = 1.0
TOKENIZED_BYTES_PER_TOKEN = 4.0  # uint32 token shards (uint16 when the vocabulary fits: half)
CHECKPOINT_BYTES_TRAINABLE = 14.0
CHECKPOINT_BYTES_FROZEN = 2.0
KEEP_CHECKPOINTS = 3
PART_BYTES = 100e6
CACHE_SHARE = 0.5  # of a node's memory left to the page cache beside the training process


@dataclass(frozen=True)
class IoPlan:
    storage: str
    data_gbs_needed: float  # sustained read rate the accelerators consume at P10 wall-clock
    storage_gbs: float  # what the storage delivers to the whole job
    io_bound: bool
    time_factor: float  # >= 1 when data loading, not compute, bounds the run
    checkpoint_gb: float
    checkpoint_interval_hours: float
    checkpoints: int
    write_seconds: float
    checkpoint_hours: float  # blocking write time over the run
    cost_usd: float
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"storage": self.storage, "data_gb_per_s_needed": round(self.data_gbs_needed, 4),
                "storage_gb_per_s": round(self.storage_gbs, 3), "io_bound": self.io_bound,
                "time_factor": round(self.time_factor, 4),
                "checkpoint": {"size_gb": round(self.checkpoint_gb, 3),
                               "interval_hours": self.checkpoint_interval_hours,
                               "count": self.checkpoints,
                               "write_seconds": round(self.write_seconds, 2),
                               "overhead_hours": round(self.checkpoint_hours, 3)},
                "cost_usd": round(self.cost_usd, 4)}


def _s3_prices() -> tuple[float, float]:
    """(USD per GB-month of S3 Standard, USD per 1k PUT requests) from the catalog."""
    storage = get_catalog().storage_price("S3", "Standard storage")
    puts = get_catalog().storage_price("S3", "Standard PUT/COPY/POST/LIST")
    return storage, puts


def plan_io(data_bytes: float, wall_hours_fast: float, wall_hours_median: float, nodes: int,
            trainable_params: float, frozen_params: float, storage: str = "s3",
            checkpoint_interval_hours: float = 1.0, dataset_bytes: float | None = None,
            node_memory_bytes: float | None = None) -> IoPlan:
    """IO of one run that reads `data_bytes` (all epochs) in `wall_hours_*` on `nodes` nodes.

    `dataset_bytes` (one copy of the data, default `data_bytes`) sizes an FSx file system and,
    with `node_memory_bytes`, decides whether later epochs come from the page cache.
    """
    notes = []
    if storage == "s3":
        storage_gbs = S3_GBS_PER_NODE * nodes
        how = f"S3 at ~{S3_GBS_PER_NODE:g} GB/s per node x {nodes}"
    elif storage == "fsx-lustre":
        ckpt_guess = (trainable_params * CHECKPOINT_BYTES_TRAINABLE) * KEEP_CHECKPOINTS
        stored = dataset_bytes if dataset_bytes is not None else data_bytes
        tib = max(FSX_MIN_TIB, (stored + ckpt_guess) / 2**40)
        storage_gbs = FSX_GBS_PER_TIB * tib
        how = f"FSx for Lustre {tib:,.1f} TiB at {FSX_GBS_PER_TIB:g} GB/s per TiB"
    else:
        storage_gbs = EBS_GP3_GBS_PER_NODE * nodes
        how = f"EBS gp3 at up to {EBS_GP3_GBS_PER_NODE:g} GB/s per node x {nodes}"
    need = data_bytes / GB / max(wall_hours_fast * 3600.0, 1e-9)
    factor = max(1.0, need / storage_gbs) if storage_gbs > 0 else 1.0
    cached = (dataset_bytes is not None and node_memory_bytes is not None
              and data_bytes > dataset_bytes and dataset_bytes <= CACHE_SHARE * node_memory_bytes)
    if cached and dataset_bytes is not None:
        # Only the first pass reads storage; the others come from each node's page cache.
        factor = 1.0 + (factor - 1.0) * dataset_bytes / data_bytes
    bound = factor > 1.0
    notes.append(f"data loading: {need:,.3g} GB/s needed at the P10 pace against {how} "
                 f"({storage_gbs:,.3g} GB/s)"
                 + (f"; the {dataset_bytes / GB:,.0f} GB dataset fits in half of a node's "
                    "memory, so only the first epoch reads storage" if cached and dataset_bytes
                    else "")
                 + (f": IO, not compute, bounds {'the first epoch' if cached else 'this run'} "
                    f"(x{factor:.2f} time over the run)" if bound else ""))
    size = (trainable_params * CHECKPOINT_BYTES_TRAINABLE
            + frozen_params * CHECKPOINT_BYTES_FROZEN) / GB
    interval = checkpoint_interval_hours if checkpoint_interval_hours > 0 else math.inf
    count = max(1, math.ceil(wall_hours_median / interval)) if math.isfinite(interval) else 1
    write_s = size / storage_gbs if storage_gbs > 0 else 0.0
    ckpt_hours = count * write_s / 3600.0
    notes.append(f"checkpoints: {size:,.1f} GB each (14 bytes per trainable parameter) every "
                 f"{checkpoint_interval_hours:g} h: {count:,} writes of {write_s:,.1f} s "
                 f"({ckpt_hours:,.2f} h blocking over the run)")
    cost = 0.0
    if storage == "s3":
        per_gb_month, per_k_put = _s3_prices()
        months = wall_hours_median / HOURS_PER_MONTH
        kept = min(count, KEEP_CHECKPOINTS) * size
        puts = count * math.ceil(size * GB / PART_BYTES)
        cost = kept * per_gb_month * months + puts / 1000.0 * per_k_put
        notes.append(f"checkpoint storage: {min(count, KEEP_CHECKPOINTS)} kept on S3 Standard "
                     f"(${per_gb_month:g}/GB-month) + {puts:,} PUTs (${per_k_put:g}/1k): "
                     f"${cost:,.2f}, included in the dollars")
    else:
        notes.append(f"{storage} capacity is not priced here: declare it as a storage resource "
                     "in the spec's environments for `mlscope cost`")
    return IoPlan(storage, need, storage_gbs, bound, factor, size, checkpoint_interval_hours,
                  count, write_s, ckpt_hours, cost, tuple(notes))
