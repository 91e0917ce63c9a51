"""Model shapes: the zoo, explicit shapes, and parameter counts derived from a shape."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from mlscope.catalog import data_text
from mlscope.errors import ConflictError, InputError, UnknownNameError


@dataclass(frozen=True)
class ModelShape:
    """A dense or MoE transformer. Unknown fields are None: formulas that need them are skipped."""

    name: str
    params: float
    active_params: float | None = None  # MoE: parameters used per token
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    kv_heads: int | None = None
    vocab: int | None = None
    context: int | None = None
    ffn: int | None = None
    gated_mlp: bool = True
    source: str = "user input"

    @property
    def flops_params(self) -> float:
        """Parameters that do work for each token (active ones for MoE)."""
        return self.active_params or self.params

    @property
    def has_shape(self) -> bool:
        return self.layers is not None and self.hidden is not None

    def dims(self) -> tuple[int, int, int, bool]:
        """(layers, hidden, heads, inferred): the real shape, or one inferred from params.

        Inference assumes the common decoder aspect ratio hidden ≈ 128·layers (Llama-2-7B:
        4096 = 128·32) with N ≈ 12·L·h², and 128-wide heads; used only for activation memory.
        For MoE the active parameters set the width (DeepSeek-V3: 37B active -> 7168 hidden).
        """
        if self.layers and self.hidden:
            return self.layers, self.hidden, self.heads or max(1, self.hidden // 128), False
        n = self.flops_params
        hidden = int(round((n * 128 / 12) ** (1 / 3) / 64) * 64) or 64
        layers = max(1, round(hidden / 128))
        return layers, hidden, max(1, hidden // 128), True


@lru_cache(maxsize=1)
def _zoo() -> dict[str, Any]:
    text = data_text("model_shapes.json")
    data: dict[str, Any] = json.loads(text)
    return data


def zoo_names() -> list[str]:
    z = _zoo()
    return sorted([*z["models"], *z["aliases"]])


def zoo_model(name: str) -> ModelShape:
    z = _zoo()
    key = name.strip().lower()
    key = z["aliases"].get(key, key)
    row = z["models"].get(key)
    if row is None:
        raise UnknownNameError("model", name, zoo_names())
    return ModelShape(name=key, **row)


def params_from_shape(layers: int, hidden: int, heads: int | None = None,
                      kv_heads: int | None = None, vocab: int | None = None,
                      ffn: int | None = None, gated_mlp: bool = False) -> float:
    """Parameters of a decoder-only transformer from its shape (embeddings included once).

    Attention: Q and O are h x h; K and V are h x (h * kv_heads / heads) (grouped-query).
    MLP: 2 matrices h x ffn, or 3 when gated (SwiGLU). Norms and biases are ignored (<0.1 %).
    """
    kv_dim = hidden if not heads or not kv_heads else hidden * kv_heads // heads
    attention = 2 * hidden * hidden + 2 * hidden * kv_dim
    ffn_dim = ffn or 4 * hidden
    mlp = (3 if gated_mlp else 2) * hidden * ffn_dim
    return float(layers * (attention + mlp) + (vocab or 0) * hidden)


def resolve_shape(model: str | None = None, params: float | None = None,
                  active_params: float | None = None, layers: int | None = None,
                  hidden: int | None = None, heads: int | None = None,
                  kv_heads: int | None = None, vocab: int | None = None,
                  context: int | None = None) -> ModelShape:
    """Combine a zoo name, explicit sizes and a shape into one ModelShape, checking consistency."""
    for label, value in (("params", params), ("active-params", active_params)):
        if value is not None and value <= 0:
            raise InputError(f"--{label} must be positive (got {value:g})",
                             f"give a size like --{label} 7e9")
    for label, ivalue in (("layers", layers), ("hidden", hidden), ("heads", heads),
                          ("kv-heads", kv_heads), ("vocab", vocab), ("context", context)):
        if ivalue is not None and ivalue <= 0:
            raise InputError(f"--{label} must be a positive integer (got {ivalue})",
                             f"pass --{label} with a value > 0")
    if model:
        shape = zoo_model(model)
        if params is not None and abs(params - shape.params) / shape.params > 0.2:
            raise ConflictError(
                f"--params {params:g} contradicts --model {model} ({shape.params:g} params)",
                "pass either --model or --params, not both")
        return replace(shape, active_params=active_params or shape.active_params,
                       context=context or shape.context)
    if params is None:
        if layers is None or hidden is None:
            raise InputError("the model size is missing",
                             "pass --params 7e9, --model llama-2-7b, or --layers and --hidden")
        params = params_from_shape(layers, hidden, heads, kv_heads, vocab)
        source = "derived from --layers/--hidden (12·L·h² + embeddings)"
    else:
        source = "user input"
    if active_params is not None and active_params > params:
        raise ConflictError(f"--active-params {active_params:g} exceeds --params {params:g}",
                            "active parameters of an MoE model are a subset of all parameters")
    return ModelShape(name="custom", params=params, active_params=active_params, layers=layers,
                      hidden=hidden, heads=heads, kv_heads=kv_heads or heads, vocab=vocab,
                      context=context, gated_mlp=False, source=source)
