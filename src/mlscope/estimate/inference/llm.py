"""LLM inference on one device: memory fit, decode and prefill tokens/s as P10/P50/P90 ranges."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from mlscope.catalog.devices import Device, device, devices
from mlscope.core.ranges import Range
from mlscope.core.units import GB
from mlscope.errors import DoesNotFitError, InputError, UnknownNameError
from mlscope.estimate.inference.fit import (
    DECODE_POSITION,
    RUNTIMES,
    Fits,
    decode_features,
    default_fits,
    kind_of,
)
from mlscope.estimate.inference.models import LlmModel, resolve_model
from mlscope.estimate.inference.quant import Quant, quant

RUNTIME_BASE_GB = 0.25  # runtime, CUDA/Metal context and scratch beyond the logits buffer
UBATCH = 512  # llama.cpp's default micro-batch: the logits buffer is UBATCH x vocab floats
OS_RESERVE_GB = 1.0  # Linux on a Pi or a Jetson, headless, plus the audio stack
GPU_CONTEXT_GB = 0.5  # per discrete GPU: CUDA context and allocator slack


def usable_memory_gb(dev: Device) -> tuple[float, str]:
    """What a model may occupy on the device, and why."""
    if dev.device_class == "apple-gpu":
        # macOS caps the GPU working set (recommendedMaxWorkingSetSize): about 2/3 of unified
        # memory up to 36 GB and about 3/4 above.
        share = 0.75 if dev.memory_gb > 36 else 0.67
        return dev.memory_gb * share, f"macOS lets the GPU use about {share:.0%} of unified memory"
    if dev.device_class == "nvidia-gpu":
        gpus = max(1, dev.accelerators)
        return (max(0.0, dev.memory_gb - GPU_CONTEXT_GB * gpus),
                f"{GPU_CONTEXT_GB:g} GB per GPU for the CUDA context")
    return (max(0.0, dev.memory_gb - OS_RESERVE_GB),
            f"{OS_RESERVE_GB:g} GB kept for the operating system")


@dataclass(frozen=True)
class MemoryNeed:
    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb + self.overhead_gb


def memory_need(model: LlmModel, q: Quant, context: int, weights_gb: float | None = None,
                kv_bytes_per_value: float = 2.0) -> MemoryNeed:
    weights = weights_gb if weights_gb is not None else model.params * q.bits_per_weight / 8 / GB
    kv = model.kv_bytes_per_token(kv_bytes_per_value) * context / GB
    overhead = RUNTIME_BASE_GB + UBATCH * model.vocab * 4 / GB
    return MemoryNeed(weights, kv, overhead)


@lru_cache(maxsize=1)
def largest_device_memory() -> tuple[float, str]:
    """The most usable memory of any catalogued device or instance (for 'fits nowhere')."""
    from mlscope.catalog.core import get_catalog
    from mlscope.catalog.devices import find_device

    best = (0.0, "")
    for d in devices().values():
        best = max(best, (usable_memory_gb(d)[0], d.id))
    for inst in get_catalog().instances:
        if not inst.accelerator or inst.service != "ec2":
            continue
        try:
            found = find_device(inst.instance_type)
        except InputError:
            continue
        if found is not None:
            best = max(best, (usable_memory_gb(found)[0], found.id))
    return best


@dataclass
class LlmEstimate:
    model: LlmModel
    quant: Quant
    device: Device
    runtime: str
    context: int
    memory: MemoryNeed
    usable_gb: float
    decode: Range
    decode_full_context: Range
    prefill: Range
    prompt_tokens: int
    first_token_s: Range
    assumptions: list[str]
    fit_info: dict[str, Any]

    @property
    def fits(self) -> bool:
        return self.memory.total_gb <= self.usable_gb

    def finding(self) -> str | None:
        if self.fits:
            return None
        return (f"{self.model.name} {self.quant.name} needs {self.memory.total_gb:.1f} GB but "
                f"{self.device.id} has {self.usable_gb:.1f} GB usable: it does not fit "
                "(it would swap or fail to load; the speeds are what the device would reach "
                "with enough memory)")

    def to_dict(self) -> dict[str, Any]:
        m, d = self.model, self.device
        return {
            "model": {"name": m.name, "params": m.params, "layers": m.layers, "hidden": m.hidden,
                      "kv_heads": m.kv_heads, "head_dim": m.head_dim, "vocab": m.vocab,
                      "shape_inferred": m.inferred, "source": m.source},
            "quant": self.quant.name, "bits_per_weight": self.quant.bits_per_weight,
            "device": {"id": d.id, "name": d.name, "class": d.device_class,
                       "memory_gb": d.memory_gb, "bandwidth_gbs": d.bandwidth_gbs,
                       "compute_tflops": d.compute_tflops, "source": d.source, "date": d.date},
            "runtime": self.runtime, "context": self.context,
            "memory_gb": self.memory.total_gb,
            "memory": {"weights_gb": self.memory.weights_gb,
                       "kv_cache_gb": self.memory.kv_cache_gb,
                       "overhead_gb": self.memory.overhead_gb, "usable_gb": self.usable_gb,
                       "device_memory_gb": d.memory_gb},
            "fits": self.fits,
            "finding": self.finding(),
            "decode_tokens_per_s": self.decode.to_dict(),
            "decode_tokens_per_s_full_context": self.decode_full_context.to_dict(),
            "prefill_tokens_per_s": self.prefill.to_dict(),
            "prompt_tokens": self.prompt_tokens,
            "time_to_first_token_s": self.first_token_s.to_dict(),
            "fit": self.fit_info,
            "assumptions": self.assumptions,
        }


def _positive_finite(name: str, value: float | None) -> None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise InputError(f"{name} must be a positive number (got {value})",
                         f"pass a positive {name}")


def resolve_device(name: str, memory_gb: float | None = None,
                   bandwidth_gbs: float | None = None,
                   compute_tflops: float | None = None) -> Device:
    for flag, value in (("--memory-gb", memory_gb), ("--bandwidth-gbs", bandwidth_gbs),
                        ("--compute-tflops", compute_tflops)):
        _positive_finite(flag, value)
    dev = device(name)
    changes: dict[str, Any] = {}
    if memory_gb is not None:
        changes["memory_gb"] = memory_gb
    if bandwidth_gbs is not None:
        changes["bandwidth_gbs"] = bandwidth_gbs
    if compute_tflops is not None:
        changes["compute_tflops"] = compute_tflops
    dev = replace(dev, **changes) if changes else dev
    if not dev.bandwidth_gbs:
        raise InputError(f"no memory-bandwidth figure for {dev.id}", "pass --bandwidth-gbs")
    if not dev.compute_tflops:
        raise InputError(f"no compute figure for {dev.id}", "pass --compute-tflops")
    return dev


def estimate_llm(model: str | None = None, params: float | None = None,
                 quant_name: str = "q4_k_m", device_name: str = "raspberry-pi-5",
                 runtime: str = "llama.cpp", context: int = 4096, prompt_tokens: int = 128,
                 weights_gb: float | None = None, memory_gb: float | None = None,
                 bandwidth_gbs: float | None = None, compute_tflops: float | None = None,
                 fits_data: Fits | None = None, check_anywhere: bool = True) -> LlmEstimate:
    """Memory and speed of one model on one device (see fit.py for the model)."""
    if runtime not in RUNTIMES:
        raise UnknownNameError("runtime", runtime, RUNTIMES)
    if context is None or context <= 0:
        raise InputError(f"--context must be a positive number of tokens (got {context})",
                         "e.g. --context 4096")
    if prompt_tokens < 0:
        raise InputError(f"--prompt-tokens must be 0 or more (got {prompt_tokens})",
                         "e.g. --prompt-tokens 128")
    _positive_finite("--weights-gb", weights_gb)
    q = quant(quant_name)
    llm = resolve_model(model, params)
    dev = resolve_device(device_name, memory_gb, bandwidth_gbs, compute_tflops)
    fits = fits_data or default_fits()
    need = memory_need(llm, q, context, weights_gb)
    if check_anywhere:
        biggest, where = largest_device_memory()
        if need.total_gb > biggest:
            raise DoesNotFitError(
                f"{llm.name} at {q.name} needs {need.total_gb:,.1f} GB, more than any device "
                f"mlscope knows (the largest, {where}, has {biggest:,.0f} GB usable)",
                "use a smaller model or quantization, or a shorter --context")
    usable, usable_why = usable_memory_gb(dev)
    bpw = q.bits_per_weight if weights_gb is None else weights_gb * GB * 8 / llm.params
    dfit = fits.decode_for(dev.device_class)
    factor, runtime_sigma = fits.runtime_factor[runtime]
    sigma = math.hypot(dfit.sigma, runtime_sigma)

    def decode_at(position: float) -> Range:
        x1, x2 = decode_features(dev, llm, bpw, position)
        seconds = factor * (dfit.a * x1 + dfit.b * x2)
        return Range(1.0 / seconds, sigma)

    decode = decode_at(DECODE_POSITION)
    decode_full = decode_at(max(DECODE_POSITION, context))
    pfit = fits.prefill_for(dev.device_class)
    assert dev.compute_tflops is not None
    prefill = Range(pfit.efficiency * dev.compute_tflops * 1e12 / (2 * llm.flops_params),
                    math.hypot(pfit.sigma, 0.1 if runtime != "llama.cpp" else 0.0))
    # First token = the whole prompt through prefill plus one decode step.
    ttft = Range(prompt_tokens / prefill.median + 1 / decode.median,
                 prefill.sigma if prompt_tokens else decode.sigma)
    kind = kind_of(dev.device_class)
    assumptions = [
        f"weights {q.name}: {q.bits_per_weight:g} bits per weight on average ({q.basis})"
        if weights_gb is None else f"weights file of {weights_gb:g} GB (given)",
        f"KV cache f16 for {context:,} tokens: {llm.kv_bytes_per_token() / 1e6:.3f} MB a token "
        f"({llm.layers} layers x {llm.kv_heads} KV heads x {llm.head_dim} head dim x K,V)",
        f"runtime overhead {need.overhead_gb:.2f} GB (logits buffer {UBATCH} x vocab floats + "
        f"{RUNTIME_BASE_GB:g} GB)",
        f"usable memory {usable:.1f} of {dev.memory_gb:g} GB: {usable_why}"
        + ("" if memory_gb else f" (the {dev.memory_gb:g} GB configuration; --memory-gb "
                                 "for another)"),
        f"decode is memory-bound: bandwidth efficiency {1 / dfit.a:.2f} of {dev.bandwidth_gbs:g} "
        f"GB/s plus " + (f"{dfit.b:.2f} x the matrix-vector work at the int8 peak"
                         if kind == "cpu" else f"{dfit.b:.3f} ms a layer of kernel overhead")
        + f", fitted on {dfit.rows} published {dev.device_class} measurements"
        + (f" (bandwidth efficiency borrowed from all {kind.upper()} devices)"
           if dfit.borrowed else ""),
        f"decode speed at an empty cache (like llama-bench tg128); at the full {context:,}-token "
        "context see decode_tokens_per_s_full_context",
        f"prefill is compute-bound: {pfit.efficiency:.2f} of {dev.compute_tflops:.3g} TFLOPS "
        f"fitted on {pfit.rows} measurements",
        f"runtime {runtime}: time per token x {factor:.2f}"
        + (f" ({fits.runtime_basis[runtime]})" if runtime in fits.runtime_basis else ""),
        *dev.derived,
    ]
    if llm.inferred:
        assumptions.append("model shape inferred from the parameter count (Llama-like: hidden = "
                           f"{llm.hidden}, {llm.layers} layers, 8 KV heads)")
    if dev.is_instance and dev.accelerators > 1:
        assumptions.append(f"{dev.accelerators} GPUs split the layers (llama.cpp default): "
                           "memory adds up, decode streams one GPU's bandwidth at a time")
    info = {"class": dev.device_class, "decode_rows": dfit.rows,
            "decode_families": list(dfit.families), "bandwidth_efficiency": 1 / dfit.a,
            "overhead_coefficient": dfit.b, "decode_sigma": sigma,
            "prefill_efficiency": pfit.efficiency, "prefill_rows": pfit.rows,
            "runtime_factor": factor, "borrowed": dfit.borrowed}
    return LlmEstimate(llm, q, dev, runtime, context, need, usable, decode, decode_full, prefill,
                       prompt_tokens, ttft, assumptions, info)
