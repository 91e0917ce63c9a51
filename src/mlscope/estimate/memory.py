"""Memory per accelerator for training, per parallel strategy, and the planner that picks one.

Model states, mixed-precision AdamW (ZeRO paper, Rajbhandari et al. 2020): 2 bytes bf16 weights
+ 2 bytes gradients + 12 bytes optimizer (fp32 master, momentum, variance) = 16 bytes/param.
Tensor parallelism (degree t) and pipeline parallelism (degree p) split every state by t·p;
ZeRO-1 then shards the optimizer, ZeRO-2 also gradients, ZeRO-3/FSDP also weights, over the
data-parallel degree d = count / (t·p).

Activations (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
Models", 16-bit): per layer s·b·h·(34 + 5·a·s/h) bytes; with tensor + sequence parallelism
every term divides by t. FlashAttention or selective recomputation drop the 5·a·s²·b score
term; full recomputation keeps only each layer's input, 2·s·b·h/t, plus one layer's working set
while it is recomputed. With the 1F1B pipeline schedule the first stage holds p micro-batches
of L/p layers, so the activation memory is that of all L layers whatever p is (their eq. 5).

Memory is compared in the unit the vendor quotes capacity in: GB = 1e9 bytes (an "80 GB" A100
is 80e9 bytes here, which is conservative for parts that really carry 80 GiB).

The planner tries the standard strategies in order of cost -- ZeRO stage 0..3, then selective
and full recomputation, then tensor parallelism within a node, then pipeline parallelism across
nodes -- and returns the first that fits (see `plan`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlscope.core.units import GB
from mlscope.errors import DoesNotFitError
from mlscope.estimate.shapes import ModelShape

# CUDA context, allocator fragmentation and communication buffers: a fixed amount plus a share.
OVERHEAD_FIXED_GB = 1.5
OVERHEAD_SHARE = 0.10
WEIGHT_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp32": 4.0, "tf32": 4.0}
FROZEN_BYTES = {"lora": 2.0, "qlora": 0.5, "lora-8bit": 1.0}
MAX_COUNT = 1 << 17
RECOMPUTE_ORDER = ("none", "selective", "full")
# Global batch assumed for the pipeline bubble when the run does not say: ~4M tokens, what
# Llama 2/3 and GPT-3 used.
GLOBAL_BATCH_TOKENS = 4e6
# Tensor parallelism costs an all-reduce per layer: small over NVLink/NVSwitch/NeuronLink,
# large over PCIe. Multiplier on time per doubling of t (rough, Megatron-LM scaling figures).
TP_COST_PER_DOUBLING = {"fast": 0.03, "pcie": 0.15}


@dataclass(frozen=True)
class Strategy:
    zero_stage: int = 0
    recompute: str = "none"
    tensor_parallel: int = 1
    pipeline_parallel: int = 1

    def describe(self) -> str:
        parts = [f"ZeRO-{self.zero_stage}" if self.zero_stage < 3 else "ZeRO-3/FSDP"]
        if self.recompute != "none":
            parts.append(f"{self.recompute} recompute")
        if self.tensor_parallel > 1:
            parts.append(f"TP {self.tensor_parallel} (+ sequence parallel)")
        if self.pipeline_parallel > 1:
            parts.append(f"PP {self.pipeline_parallel}")
        return ", ".join(parts)


@dataclass(frozen=True)
class MemoryPlan:
    per_accelerator_gb: float
    fits: bool
    min_count: int | None
    capacity_gb: float
    breakdown_gb: dict[str, float] = field(default_factory=dict)
    zero_stage: int = 0
    notes: tuple[str, ...] = ()
    strategy: Strategy = Strategy()
    count: int = 1
    time_factor: float = 1.0  # pipeline bubble x tensor-parallel communication
    bubble: float = 0.0  # share of time the pipeline idles

    @property
    def data_parallel(self) -> int:
        s = self.strategy
        return max(1, self.count // (s.tensor_parallel * s.pipeline_parallel))

    def strategy_dict(self) -> dict[str, object]:
        s = self.strategy
        return {"zero_stage": s.zero_stage, "recompute": s.recompute,
                "tensor_parallel": s.tensor_parallel, "pipeline_parallel": s.pipeline_parallel,
                "data_parallel": self.data_parallel,
                "sequence_parallel": s.tensor_parallel > 1,
                "pipeline_bubble": round(self.bubble, 4),
                "time_factor": round(self.time_factor, 4), "description": s.describe()}


@dataclass(frozen=True)
class Workload:
    """What the memory depends on, independent of the strategy."""

    shape: ModelShape
    precision: str
    micro_batch: int
    seq_len: int
    flash_attention: bool = True
    finetune: str = "none"
    lora_rank: int = 16


def lora_trainable_params(shape: ModelShape, rank: int) -> float:
    """LoRA parameters on every attention and MLP matrix: r·(d_in + d_out) per matrix."""
    layers, h, _, inferred = shape.dims()
    if inferred:
        # No shape: the inferred one (hidden = 128·layers, 4h MLP): 18·r·h per layer, about
        # 0.2-0.4 % of the weights at r=16 -- what QLoRA reports for LLaMA-65B at r=64 scaled.
        return float(layers * rank * (4 * 2 * h + 2 * (h + 4 * h)))
    kv = h * (shape.kv_heads or shape.heads or 1) // (shape.heads or 1)
    ffn = shape.ffn or 4 * h
    attention = rank * ((h + h) * 2 + (h + kv) * 2)
    mlp = rank * (h + ffn) * (3 if shape.gated_mlp else 2)
    return float(layers * (attention + mlp))


def state_bytes_per_param(precision: str) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes per trainable parameter for AdamW."""
    if precision in ("fp32", "tf32"):
        return 4.0, 4.0, 8.0
    return WEIGHT_BYTES.get(precision, 2.0), 2.0, 12.0


def activation_bytes(shape: ModelShape, seq_len: int, micro_batch: int, recompute: str,
                     flash_attention: bool, tensor_parallel: int = 1) -> float:
    layers, h, a, _ = shape.dims()
    s, b, t = seq_len, micro_batch, tensor_parallel
    if recompute == "full":
        per_layer = 2.0 * s * b * h / t
        # Recomputing one layer at a time still needs that layer's full working set.
        working = s * b * h * 34.0 / t
        total = layers * per_layer + working
    else:
        score = 0.0 if (flash_attention or recompute == "selective") else 5.0 * a * s / h
        total = layers * s * b * h * (34.0 + score) / t
    # Logits and their fp32 copy for the loss: s·b·V·(2 + 4) bytes (vocab-parallel under TP).
    total += s * b * (shape.vocab or 0) * 6.0 / t
    return total


def _trainable_and_frozen(w: Workload) -> tuple[float, float]:
    if w.finetune in FROZEN_BYTES:
        return lora_trainable_params(w.shape, w.lora_rank), w.shape.params * FROZEN_BYTES[
            w.finetune]
    return w.shape.params, 0.0


def memory_parts(w: Workload, count: int, s: Strategy) -> dict[str, float]:
    """Bytes per accelerator of each part at `count` accelerators under strategy `s`."""
    trainable, frozen = _trainable_and_frozen(w)
    wb, gb, ob = state_bytes_per_param(w.precision)
    split = s.tensor_parallel * s.pipeline_parallel
    d = max(1, count // split)
    return {
        "weights": (trainable * wb + frozen) / split / (d if s.zero_stage >= 3 else 1),
        "gradients": trainable * gb / split / (d if s.zero_stage >= 2 else 1),
        "optimizer": trainable * ob / split / (d if s.zero_stage >= 1 else 1),
        "activations": activation_bytes(w.shape, w.seq_len, w.micro_batch, s.recompute,
                                        w.flash_attention, s.tensor_parallel),
    }


def total_gb(parts: dict[str, float]) -> float:
    raw = sum(parts.values()) / GB
    return raw * (1 + OVERHEAD_SHARE) + OVERHEAD_FIXED_GB


def time_factor(w: Workload, count: int, s: Strategy, intra_node: str = "nvswitch"
                ) -> tuple[float, float]:
    """(time multiplier, pipeline bubble share) of strategy `s` relative to plain data parallel.

    Bubble of 1F1B: (p - 1) / m of the ideal time, m = micro-batches per pipeline per step
    (Narayanan et al. 2021).
    """
    factor, bubble = 1.0, 0.0
    if s.pipeline_parallel > 1:
        d = max(1, count // (s.tensor_parallel * s.pipeline_parallel))
        m = max(1.0, GLOBAL_BATCH_TOKENS / w.seq_len / (d * w.micro_batch))
        extra = (s.pipeline_parallel - 1) / m
        bubble = extra / (1.0 + extra)
        factor *= 1.0 + extra
    if s.tensor_parallel > 1:
        kind = "pcie" if intra_node in ("pcie", "single", "") else "fast"
        doublings = s.tensor_parallel.bit_length() - 1
        factor *= 1.0 + TP_COST_PER_DOUBLING[kind] * doublings
    return factor, bubble


def _candidates(count: int, per_node: int, layers: int, zero: int | None,
                recompute: str | None, tensor_parallel: int | None,
                pipeline_parallel: int | None) -> list[Strategy]:
    """Strategies at `count`, cheapest first: ZeRO, then recompute, then TP, then PP."""
    tps = [t for t in (1, 2, 4, 8, 16) if t <= max(1, min(per_node, count)) and count % t == 0]
    if tensor_parallel is not None:
        tps = [tensor_parallel] if count % tensor_parallel == 0 else []
    out = []
    for p in ([pipeline_parallel] if pipeline_parallel else [1, 2, 4, 8, 16, 32, 64]):
        if p > layers:
            continue
        for t in tps:
            if count % (t * p):
                continue
            for r in ([recompute] if recompute else RECOMPUTE_ORDER):
                for z in ([zero] if zero is not None else (0, 1, 2, 3)):
                    out.append(Strategy(z, r, t, p))
    return out


def plan(w: Workload, capacity_gb: float, count: int, per_node: int = 8,
         intra_node: str = "nvswitch", zero: int | None = None, recompute: str | None = None,
         tensor_parallel: int | None = None, pipeline_parallel: int | None = None
         ) -> MemoryPlan | None:
    """The cheapest strategy that fits at `count` accelerators, or None when none does.

    `zero`/`recompute`/`tensor_parallel`/`pipeline_parallel` pin a choice the user made.
    """
    layers = w.shape.dims()[0]
    for s in _candidates(count, per_node, layers, zero, recompute, tensor_parallel,
                         pipeline_parallel):
        parts = memory_parts(w, count, s)
        need = total_gb(parts)
        if need <= capacity_gb:
            factor, bubble = time_factor(w, count, s, intra_node)
            return _made(w, parts, need, capacity_gb, True, None, s, count, factor, bubble)
    return None


def smallest_count(w: Workload, capacity_gb: float, per_node: int = 8, **pins: object
                   ) -> int | None:
    """The smallest count at which some strategy fits (doubling, then refined)."""
    def fits(n: int) -> bool:
        return plan(w, capacity_gb, n, per_node, **pins) is not None  # type: ignore[arg-type]

    n = 1
    while n <= MAX_COUNT and not fits(n):
        n *= 2
    if n > MAX_COUNT:
        return None
    lo, hi = n // 2, n  # lo does not fit (or is 0), hi fits: bisect
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _made(w: Workload, parts: dict[str, float], need: float, capacity_gb: float, fits: bool,
          min_count: int | None, s: Strategy, count: int, factor: float, bubble: float
          ) -> MemoryPlan:
    notes = []
    if w.finetune in FROZEN_BYTES:
        trainable, _ = _trainable_and_frozen(w)
        notes.append(f"{w.finetune}: {trainable:.3g} trainable params (rank {w.lora_rank}); "
                     f"frozen weights at {FROZEN_BYTES[w.finetune]} bytes/param")
    layers, hidden, _, inferred = w.shape.dims()
    if inferred:
        notes.append(f"activations from an inferred shape ({layers} layers x {hidden} hidden, "
                     "hidden = 128·layers): give --layers/--hidden or --model for exact figures")
    notes.append(f"activations: micro-batch {w.micro_batch} x {w.seq_len} tokens, "
                 f"flash attention {'on' if w.flash_attention else 'off'}")
    notes.append(f"parallel strategy: {s.describe()} on {count} accelerators"
                 + (f"; pipeline bubble {bubble:.1%} of step time at a {GLOBAL_BATCH_TOKENS:.0e}"
                    "-token global batch" if s.pipeline_parallel > 1 else ""))
    notes.append(f"memory in vendor GB (1e9 bytes); overhead {OVERHEAD_FIXED_GB} GB + "
                 f"{OVERHEAD_SHARE:.0%} (CUDA context, fragmentation, buffers)")
    breakdown = {k: v / GB for k, v in parts.items()}
    breakdown["overhead"] = need - sum(breakdown.values())
    return MemoryPlan(per_accelerator_gb=need, fits=fits, min_count=min_count,
                      capacity_gb=capacity_gb, breakdown_gb=breakdown, zero_stage=s.zero_stage,
                      notes=tuple(notes), strategy=s, count=count, time_factor=factor,
                      bubble=bubble)


def does_not_fit(w: Workload, accelerator: str, capacity_gb: float, count: int | None,
                 per_node: int, pinned: dict[str, object], smallest: int | None,
                 smallest_free: int | None, at_count_free: MemoryPlan | None) -> DoesNotFitError:
    """The one-line error for a configuration that does not fit, naming what would."""
    name = f"{w.shape.name} ({w.shape.params:.3g} params)"
    where = f"{count} x {accelerator}" if count else accelerator
    pins = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in pinned.items() if v is not None)
    if at_count_free is not None and pins:
        return DoesNotFitError(
            f"{name} does not fit on {where} ({capacity_gb:g} GB) with {pins}",
            f"it fits with {at_count_free.strategy.describe()}; drop the pinned options")
    if smallest is not None:
        return DoesNotFitError(
            f"{name} does not fit on {where} ({capacity_gb:g} GB)"
            + (f" with {pins}" if pins else ""),
            f"the smallest count that fits is {smallest} (pass --count {smallest} or more)")
    if smallest_free is not None:
        return DoesNotFitError(
            f"{name} does not fit on any count of {accelerator} with {pins}",
            f"it fits from {smallest_free} accelerators without the pinned options")
    hint = ("lower --micro-batch or --seq-len" if w.micro_batch > 1 or w.seq_len > 8192
            else "use an accelerator with more memory")
    return DoesNotFitError(f"{name} cannot fit on {accelerator} ({capacity_gb:g} GB) at any "
                           "count, even with ZeRO-3, full recompute and tensor/pipeline "
                           "parallelism", hint)
