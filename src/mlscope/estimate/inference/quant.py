"""GGUF quantization types and the bits each weight really costs in a llama.cpp file.

Block layouts (llama.cpp ggml-common.h): Q4_0 = 32 weights in 18 bytes (fp16 scale + 16 bytes)
= 4.5 bpw; Q8_0 = 32 weights in 34 bytes = 8.5 bpw; Q4_K = 144 bytes per 256 = 4.5 bpw;
Q5_K = 176 / 256 = 5.5 bpw; Q6_K = 210 / 256 = 6.5625 bpw. The "_M" mixes keep some tensors
(attn_v, half of ffn_down, the output matrix) at Q6_K, and every type keeps the output matrix
at Q6_K, so a whole file costs a little more than its block type. The figures below are whole
files: llama-bench reports LLaMA-2 7B (6.74 B params) Q4_0 at 3.56 GiB (4.54 bpw) and Q4_K_M at
3.80 GiB (4.84 bpw); Q5_K_M follows the same mix over Q5_K (about 5.69 bpw, not re-measured here).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlscope.errors import UnknownNameError


@dataclass(frozen=True)
class Quant:
    name: str
    bits_per_weight: float  # whole-file average
    block_bits: float  # the block type alone
    basis: str


QUANTS: dict[str, Quant] = {
    "q4_0": Quant("q4_0", 4.54, 4.5, "LLaMA-2 7B file 3.56 GiB / 6.74 B params (llama-bench)"),
    "q4_k_m": Quant("q4_k_m", 4.84, 4.5, "LLaMA-2 7B file 3.80 GiB / 6.74 B params (llama-bench)"),
    "q5_k_m": Quant("q5_k_m", 5.69, 5.5, "Q5_K blocks with the Q6_K mix of _M (estimate)"),
    "q8_0": Quant("q8_0", 8.5, 8.5, "34 bytes per 32 weights"),
    "f16": Quant("f16", 16.0, 16.0, "2 bytes per weight"),
}
ALIASES = {"q4": "q4_0", "q4km": "q4_k_m", "q4_k": "q4_k_m", "q5km": "q5_k_m", "q5_k": "q5_k_m",
           "q8": "q8_0", "fp16": "f16", "bf16": "f16"}


def quant(name: str) -> Quant:
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in QUANTS:
        raise UnknownNameError("quantization", name, QUANTS)
    return QUANTS[key]
