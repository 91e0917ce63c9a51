"""LLM shapes for inference: the estimator's zoo plus small models people run on devices."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from mlscope.errors import ConflictError, InputError, UnknownNameError


@dataclass(frozen=True)
class LlmModel:
    name: str
    params: float
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    vocab: int
    tied: bool  # output matrix = token embedding
    head_dim: int
    active_params: float | None = None  # MoE
    inferred: bool = False  # shape guessed from the parameter count
    source: str = "user input"

    @property
    def embedding_params(self) -> float:
        return float(self.vocab * self.hidden)

    @property
    def params_read_per_token(self) -> float:
        """Weights decode streams each token: all of them, except the input embedding table
        (one row is gathered) unless it doubles as the output matrix."""
        work = self.active_params or self.params
        return work if self.tied else max(work - self.embedding_params, work * 0.5)

    @property
    def flops_params(self) -> float:
        return self.active_params or self.params

    def kv_bytes_per_token(self, bytes_per_value: float = 2.0) -> float:
        """K and V for every layer, f16 by default (llama.cpp's default cache type)."""
        return 2 * self.layers * self.kv_heads * self.head_dim * bytes_per_value


@lru_cache(maxsize=1)
def _extra() -> dict[str, Any]:
    text = (resources.files("mlscope.estimate.inference") / "data" / "llm_models.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def model_names() -> list[str]:
    from mlscope.estimate.shapes import zoo_names

    extra = _extra()
    return sorted({*zoo_names(), *extra["models"], *extra["aliases"]})


def _from_row(name: str, row: dict[str, Any], source: str) -> LlmModel:
    hidden, heads = int(row["hidden"]), int(row["heads"])
    return LlmModel(
        name=name, params=float(row["params"]), layers=int(row["layers"]), hidden=hidden,
        heads=heads, kv_heads=int(row.get("kv_heads") or heads), vocab=int(row["vocab"]),
        tied=bool(row.get("tied", False)), head_dim=int(row.get("head_dim") or hidden // heads),
        active_params=row.get("active_params"), source=source)


def resolve_model(name: str | None = None, params: float | None = None) -> LlmModel:
    """A model by name (zoo or the device list) or a bare parameter count."""
    if name and params:
        raise ConflictError("--model and --params both give the model", "pass one of them")
    if name:
        extra = _extra()
        key = name.strip().lower()
        key = extra["aliases"].get(key, key)
        if key in extra["models"]:
            row = extra["models"][key]
            return _from_row(key, row, row["source"])
        from mlscope.estimate.shapes import zoo_model

        try:
            shape = zoo_model(key)
        except UnknownNameError as exc:
            raise UnknownNameError("model", name, model_names()) from exc
        if not shape.has_shape:
            raise InputError(f"model {name} has no layer shape in the zoo", "pass --params")
        return LlmModel(
            name=shape.name, params=shape.params, layers=shape.layers or 1,
            hidden=shape.hidden or 1, heads=shape.heads or 1,
            kv_heads=shape.kv_heads or shape.heads or 1, vocab=shape.vocab or 32000,
            tied=shape.name.startswith("gpt2"), head_dim=(shape.hidden or 1) // (shape.heads or 1),
            active_params=shape.active_params, source=shape.source)
    if params is None:
        raise InputError("no model given", "pass --model llama-2-7b or --params 7e9")
    if not math.isfinite(params) or params <= 0:
        raise InputError(f"--params must be a positive number (got {params})", "e.g. --params 7e9")
    # No shape: assume the common Llama aspect ratio (hidden = 128 x layers, 128-wide heads,
    # grouped-query attention with 8 KV heads, a 32k vocabulary), N = 12 L h^2.
    hidden = max(256, int(round((params * 128 / 12) ** (1 / 3) / 128) * 128))
    layers = max(1, round(params / (12 * hidden**2)))
    heads = max(1, hidden // 128)
    return LlmModel(name=f"{params:.3g}-param model", params=params, layers=layers, hidden=hidden,
                    heads=heads, kv_heads=min(8, heads), vocab=32000, tied=False, head_dim=128,
                    inferred=True)
