"""Memory per accelerator for training: model states, activations, and the smallest count.

Model states, mixed-precision AdamW (ZeRO paper, Rajbhandari et al. 2020): 2 bytes bf16 weights
+ 2 bytes gradients + 12 bytes optimizer (fp32 master, momentum, variance) = 16 bytes/param.
ZeRO-1 shards the optimizer, ZeRO-2 also gradients, ZeRO-3/FSDP also weights, over the
data-parallel degree. Activations per layer (Korthikanti et al. 2022, 16-bit, no tensor
parallelism): s·b·h·(34 + 5·a·s/h) bytes; FlashAttention or selective recomputation drop the
5·a·s²·b score term; full recomputation keeps only each layer's input (2·s·b·h bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlscope.errors import DoesNotFitError
from mlscope.estimate.shapes import ModelShape

GIB = 1024**3
# CUDA context, allocator fragmentation and communication buffers: a fixed amount plus a share.
OVERHEAD_FIXED_GB = 1.5
OVERHEAD_SHARE = 0.10
WEIGHT_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp32": 4.0, "tf32": 4.0}
FROZEN_BYTES = {"lora": 2.0, "qlora": 0.5, "lora-8bit": 1.0}
MAX_COUNT = 1 << 17


@dataclass(frozen=True)
class MemoryPlan:
    per_accelerator_gb: float
    fits: bool
    min_count: int | None
    capacity_gb: float
    breakdown_gb: dict[str, float] = field(default_factory=dict)
    zero_stage: int = 0
    notes: tuple[str, ...] = ()


def lora_trainable_params(shape: ModelShape, rank: int) -> float:
    """LoRA parameters on every attention and MLP matrix: r·(d_in + d_out) per matrix."""
    if not shape.has_shape:
        # Typical LoRA on all linear layers trains ~0.5-1 % of the weights at r=16.
        return shape.params * 0.0005 * rank
    h = shape.hidden or 0
    kv = h * (shape.kv_heads or shape.heads or 1) // (shape.heads or 1)
    ffn = shape.ffn or 4 * h
    attention = rank * ((h + h) * 2 + (h + kv) * 2)
    mlp = rank * (h + ffn) * (3 if shape.gated_mlp else 2)
    return float((shape.layers or 0) * (attention + mlp))


def state_bytes_per_param(precision: str) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes per trainable parameter for AdamW."""
    if precision in ("fp32", "tf32"):
        return 4.0, 4.0, 8.0
    return WEIGHT_BYTES.get(precision, 2.0), 2.0, 12.0


def activation_bytes(shape: ModelShape, seq_len: int, micro_batch: int, recompute: str,
                     flash_attention: bool) -> float:
    layers, h, a, _ = shape.dims()
    s, b = seq_len, micro_batch
    if recompute == "full":
        per_layer = 2.0 * s * b * h
        # Recomputing one layer at a time still needs that layer's full working set.
        working = s * b * h * 34.0
        total = layers * per_layer + working
    else:
        score = 0.0 if (flash_attention or recompute == "selective") else 5.0 * a * s / h
        total = layers * s * b * h * (34.0 + score)
    # Logits and their fp32 copy for the loss: s·b·V·(2 + 4) bytes.
    total += s * b * (shape.vocab or 0) * 6.0
    return total


def plan_memory(shape: ModelShape, capacity_gb: float, count: int | None, precision: str,
                zero_stage: int, micro_batch: int, seq_len: int, recompute: str = "none",
                flash_attention: bool = True, finetune: str = "none",
                lora_rank: int = 16) -> MemoryPlan:
    """Memory per accelerator at `count` (or at the smallest count that fits)."""
    notes: list[str] = []
    if finetune in FROZEN_BYTES:
        trainable = lora_trainable_params(shape, lora_rank)
        frozen_bytes = shape.params * FROZEN_BYTES[finetune]
        notes.append(f"{finetune}: {trainable:.3g} trainable params (rank {lora_rank}); frozen "
                     f"weights at {FROZEN_BYTES[finetune]} bytes/param")
    else:
        trainable = shape.params
        frozen_bytes = 0.0
    w, g, o = state_bytes_per_param(precision)
    weights = trainable * w + frozen_bytes
    grads = trainable * g
    optim = trainable * o
    acts = activation_bytes(shape, seq_len, micro_batch, recompute, flash_attention)
    layers, hidden, _, inferred = shape.dims()
    if inferred:
        notes.append(f"activations from an inferred shape ({layers} layers x {hidden} hidden, "
                     "hidden = 128·layers): give --layers/--hidden or --model for exact figures")
    notes.append(f"activations: micro-batch {micro_batch} x {seq_len} tokens, recompute "
                 f"{recompute}, flash attention {'on' if flash_attention else 'off'}")

    def per_device(n: int, stage: int) -> dict[str, float]:
        return {
            "weights": weights / (n if stage >= 3 else 1),
            "gradients": grads / (n if stage >= 2 else 1),
            "optimizer": optim / (n if stage >= 1 else 1),
            "activations": acts,
        }

    def total_gb(parts: dict[str, float]) -> float:
        raw = sum(parts.values()) / GIB
        return raw * (1 + OVERHEAD_SHARE) + OVERHEAD_FIXED_GB

    def smallest(stage: int) -> int | None:
        n = 1
        while n <= MAX_COUNT:
            if total_gb(per_device(n, stage)) <= capacity_gb:
                return n
            n *= 2
        return None

    min_count = smallest(zero_stage)
    if min_count is not None and min_count > 1:
        # Refine between the last power of two that failed and the first that fits.
        lo = min_count // 2
        for n in range(lo + 1, min_count + 1):
            if total_gb(per_device(n, zero_stage)) <= capacity_gb:
                min_count = n
                break
    stage_used = zero_stage
    if min_count is None and zero_stage < 3:
        min_count = smallest(3)
        if min_count is not None:
            if count is None:
                stage_used = 3
            notes.append(f"does not fit with ZeRO-{zero_stage} at any count; fits from "
                         f"{min_count} accelerators with ZeRO-3/FSDP")
    at = count or min_count or 1
    parts = per_device(at, stage_used)
    need = total_gb(parts)
    breakdown = {k: v / GIB for k, v in parts.items()}
    breakdown["overhead"] = need - sum(breakdown.values())
    notes.append(f"overhead: {OVERHEAD_FIXED_GB} GB + {OVERHEAD_SHARE:.0%} (CUDA context, "
                 "fragmentation, buffers); tensor/pipeline parallelism not modelled")
    return MemoryPlan(per_accelerator_gb=need, fits=need <= capacity_gb, min_count=min_count,
                      capacity_gb=capacity_gb, breakdown_gb=breakdown, zero_stage=stage_used,
                      notes=tuple(notes))


def require_fit(plan: MemoryPlan, accelerator: str, shape: ModelShape) -> None:
    """Raise when no count of this accelerator can hold the model (activations alone too big)."""
    if plan.min_count is None:
        acts = plan.breakdown_gb.get("activations", 0.0)
        hint = ("lower --micro-batch or --seq-len, or use --recompute full" if acts
                > plan.capacity_gb * 0.5 else "use an accelerator with more memory")
        raise DoesNotFitError(
            f"{shape.name} ({shape.params:.3g} params) cannot fit on {accelerator} "
            f"({plan.capacity_gb:g} GB) at any count, even with ZeRO-3", hint)

