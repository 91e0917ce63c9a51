"""Training FLOPs of transformers, as PaLM defines model FLOPs (Chowdhery et al. 2022, app. B).

Per token, forward = 2·N + 4·L·s·h: the weight matmuls, then the attention scores Q·Kᵀ and
their product with V over a context of s (2·s·h each per layer, no discount for the causal
mask, as in PaLM's MFU). The backward pass costs twice the forward, so training =
6·N + 12·L·s·h per token. This is the definition behind published MFU figures (PaLM, Llama 3),
so the utilization fitted here compares with them. Recomputing
activations adds forward work that the hardware does but the model does not need (hardware
FLOPs): one extra forward for full recomputation (8·N), attention only for selective.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlscope.estimate.shapes import ModelShape

RECOMPUTE_FACTOR = {"none": 1.0, "selective": 1.0, "full": 4.0 / 3.0}
# Model FLOPs are what utilization is fitted against (6·N·D + 12·L·s·h·D, whatever the run
# recomputed), so hours = model FLOPs / (peak x MFU); hardware FLOPs only give the HFU.


@dataclass(frozen=True)
class TrainingFlops:
    model_flops: float  # what MFU is measured against
    hardware_flops: float  # including activation recomputation
    dense_term: float  # 6·N·D
    attention_term: float  # 12·L·s·h·D
    tokens: float
    assumptions: tuple[str, ...]


def training_flops(shape: ModelShape, tokens: float, seq_len: int | None = None,
                   recompute: str = "none", trainable_fraction: float = 1.0) -> TrainingFlops:
    """FLOPs to train `shape` on `tokens` tokens (all epochs included).

    With LoRA/QLoRA only a small fraction of weights gets gradients: the forward (2N) and the
    backward through activations (2N) remain, the weight-gradient half (2N) shrinks to the
    trainable fraction.
    """
    n = shape.flops_params
    per_token = 4.0 * n + 2.0 * n * trainable_fraction
    notes = []
    if trainable_fraction < 1.0:
        notes.append(f"adapter fine-tuning: (4 + 2·{trainable_fraction:.4f})·N FLOPs per token "
                     "(weight gradients only for trainable parameters)")
    else:
        notes.append("6·N·D training FLOPs (forward 2ND + backward 4ND)")
    if shape.active_params:
        notes.append(f"MoE: N = active parameters per token ({shape.active_params:.3g})")
    dense = per_token * tokens
    attention = 0.0
    s = seq_len or shape.context
    if s:
        layers, hidden, _, inferred = shape.dims()
        attention = 12.0 * layers * s * hidden * tokens
        notes.append(f"attention adds 12·L·s·h per token (L={layers}, s={s}, h={hidden}"
                     + (", shape inferred from the parameter count as hidden = 128·layers)"
                        if inferred else ")"))
    else:
        notes.append("attention term omitted (no --seq-len or context given); small below "
                     "~8k context")
    model = dense + attention
    factor = RECOMPUTE_FACTOR.get(recompute, 1.0)
    if factor != 1.0:
        notes.append("full activation recomputation: hardware does 8·N·D (one extra forward)")
    return TrainingFlops(model, model * factor, dense, attention, tokens, tuple(notes))
