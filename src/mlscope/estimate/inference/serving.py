"""Serving an LLM on AWS: tokens/s per instance at a latency target, instances for a request
rate, and $ per million tokens per instance type and purchase option.

A server batches requests: each decode step streams the weights once for the whole batch plus
every sequence's KV cache, and does batch x 2 x params of arithmetic. So a step takes
  max(memory time, compute time) + overhead,
memory time = (weights + batch x KV bytes) / (efficiency x bandwidth), compute time =
batch x 2N / (prefill efficiency x peak). Throughput grows with the batch until compute-bound
or the per-token latency target or the memory for KV caches stops it. With vLLM or TensorRT-LLM
the instance's GPUs work as one (tensor parallel), so bandwidth and compute add up across them;
with llama.cpp (layer split) they do not. Efficiencies are the fitted NVIDIA ones (llama.cpp
measurements; no vLLM/TensorRT-LLM runs were gathered, so those runtimes are that fit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlscope.catalog.core import get_catalog
from mlscope.catalog.devices import Device, find_device
from mlscope.core.units import GB, HOURS_PER_MONTH
from mlscope.errors import InputError
from mlscope.estimate.inference.fit import default_fits
from mlscope.estimate.inference.llm import GPU_CONTEXT_GB, memory_need
from mlscope.estimate.inference.models import LlmModel, resolve_model
from mlscope.estimate.inference.quant import quant
from mlscope.pricing import PURCHASE_OPTIONS, instance_price

SERVING_RUNTIMES = ("vllm", "tensorrt-llm", "llama.cpp")
TENSOR_PARALLEL_EFFICIENCY = 0.85  # all-reduce cost per layer across the instance's GPUs
MAX_BATCH = 256


@dataclass
class ServingOption:
    instance_type: str
    gpus: int
    batch: int
    tokens_per_s: float  # output tokens/s of one instance
    token_latency_s: float  # per token, per sequence
    limited_by: str
    instances: int
    monthly_usd: dict[str, float | None]
    usd_per_million_tokens: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {"instance_type": self.instance_type, "gpus": self.gpus, "batch": self.batch,
                "tokens_per_s": self.tokens_per_s, "token_latency_s": self.token_latency_s,
                "limited_by": self.limited_by, "instances": self.instances,
                "monthly_usd": self.monthly_usd,
                "usd_per_million_tokens": self.usd_per_million_tokens}


def _step(dev: Device, llm: LlmModel, bpw: float, batch: int, ctx: float, tp: int,
          ) -> tuple[float, str]:
    fits = default_fits()
    d = fits.decode_for("nvidia-gpu")
    p = fits.prefill_for("nvidia-gpu")
    assert dev.bandwidth_gbs and dev.compute_tflops
    scale = tp * (TENSOR_PARALLEL_EFFICIENCY if tp > 1 else 1.0)
    weights = llm.params_read_per_token * bpw / 8
    kv = batch * llm.kv_bytes_per_token() * ctx
    mem_s = d.a * (weights + kv) / (dev.bandwidth_gbs * 1e9 * scale)
    compute_s = batch * 2 * llm.flops_params / (p.efficiency * dev.compute_tflops * 1e12 * scale)
    overhead = d.b * llm.layers * 1e-3
    if compute_s > mem_s:
        return compute_s + overhead, "compute"
    return mem_s + overhead, "memory bandwidth"


def serving_options(model: str | None = None, params: float | None = None,
                    quant_name: str = "f16", runtime: str = "vllm",
                    instance_types: list[str] | None = None, region: str = "us-east-1",
                    target_token_latency_s: float = 0.05, requests_per_s: float = 1.0,
                    tokens_per_request: float = 500.0, context: int = 4096,
                    ) -> dict[str, Any]:
    if runtime not in SERVING_RUNTIMES:
        raise InputError(f"unknown serving runtime '{runtime}'",
                         f"use one of {', '.join(SERVING_RUNTIMES)}")
    for name, v in (("--target-latency-ms", target_token_latency_s),
                    ("--requests-per-s", requests_per_s),
                    ("--tokens-per-request", tokens_per_request)):
        if not math.isfinite(v) or v <= 0:
            raise InputError(f"{name} must be positive (got {v})", f"pass a positive {name}")
    if context <= 0:
        raise InputError(f"--context must be positive (got {context})", "e.g. --context 4096")
    llm = resolve_model(model, params)
    q = quant(quant_name)
    cat = get_catalog()
    names = instance_types or sorted({i.instance_type for i in cat.instances
                                      if i.service == "ec2" and i.region == region
                                      and i.accelerator and i.accelerator_count >= 1})
    avg_ctx = context / 2  # a sequence is half-way through its context on average
    options, skipped = [], []
    need_tps = requests_per_s * tokens_per_request
    for name in names:
        try:
            dev = find_device(name, region)
        except InputError as exc:
            skipped.append(f"{name}: {exc.one_line()}")
            continue
        if dev is None:
            skipped.append(f"{name}: not in the catalog for {region}")
            continue
        gpus = dev.accelerators
        tp = gpus if runtime != "llama.cpp" else 1
        weights_gb = memory_need(llm, q, 0).weights_gb
        free_gb = dev.memory_gb - gpus * GPU_CONTEXT_GB - weights_gb - 1.0  # 1 GB activations
        if free_gb <= 0:
            skipped.append(f"{name}: the weights ({weights_gb:.0f} GB) do not fit "
                           f"{dev.memory_gb:g} GB")
            continue
        kv_cap = int(free_gb * GB // (llm.kv_bytes_per_token() * context))
        best: tuple[int, float, float, str] | None = None
        for batch in range(1, min(MAX_BATCH, kv_cap) + 1):
            step, limit = _step(dev, llm, q.bits_per_weight, batch, avg_ctx, tp)
            if step > target_token_latency_s:
                break
            best = (batch, batch / step, step, limit)
        if best is None:
            skipped.append(f"{name}: one sequence already misses the "
                           f"{target_token_latency_s * 1000:.0f} ms per token target"
                           if kv_cap >= 1 else f"{name}: no room for a {context}-token cache")
            continue
        batch, tps, step, limit = best
        if batch == min(MAX_BATCH, kv_cap) and kv_cap < MAX_BATCH:
            limit = "memory for KV caches"
        elif limit == "memory bandwidth" and batch < MAX_BATCH:
            limit = "the latency target"
        inst = cat.instance(name, region)
        count = max(1, math.ceil(need_tps / tps))
        monthly: dict[str, float | None] = {}
        per_m: dict[str, float | None] = {}
        for option in PURCHASE_OPTIONS:
            pr = instance_price(inst, option)
            usd = pr.usd_per_hour.median if pr else None
            monthly[option] = usd * HOURS_PER_MONTH * count if usd else None
            per_m[option] = usd / (tps * 3600) * 1e6 if usd else None
        options.append(ServingOption(name, gpus, batch, tps, step, limit, count, monthly, per_m))
    options.sort(key=lambda o: o.monthly_usd.get("on-demand") or math.inf)
    curve = []
    if options:  # throughput vs latency as the batch grows, on the cheapest instance
        best_dev = find_device(options[0].instance_type, region)
        assert best_dev is not None
        tp = best_dev.accelerators if runtime != "llama.cpp" else 1
        free = (best_dev.memory_gb - best_dev.accelerators * GPU_CONTEXT_GB
                - memory_need(llm, q, 0).weights_gb - 1.0)
        cap = int(free * GB // (llm.kv_bytes_per_token() * context))
        batch = 1
        while batch <= MAX_BATCH:
            step, limit = _step(best_dev, llm, q.bits_per_weight, batch, avg_ctx, tp)
            curve.append({"batch": batch, "tokens_per_s": batch / step,
                          "token_latency_s": step, "bound": limit,
                          "kv_caches_fit": batch <= cap})
            batch *= 2
    return {
        "model": llm.name, "params": llm.params, "quant": q.name, "runtime": runtime,
        "region": region, "target_token_latency_s": target_token_latency_s,
        "requests_per_s": requests_per_s, "tokens_per_request": tokens_per_request,
        "needed_tokens_per_s": need_tps, "context": context,
        "options": [o.to_dict() for o in options], "best": options[0].to_dict() if options
        else None, "batching_curve": curve, "skipped": skipped,
        "assumptions": [
            "batched decode: weights streamed once per step for the whole batch, each "
            "sequence's KV cache read every step, compute = batch x 2 x params",
            f"sequences half-way through a {context}-token context on average",
            f"{runtime}: " + ("tensor parallel across the instance's GPUs at "
                              f"{TENSOR_PARALLEL_EFFICIENCY:.0%} efficiency"
                              if runtime != "llama.cpp" else "one GPU's bandwidth at a time"),
            "efficiencies: the fitted NVIDIA llama.cpp figures (no vLLM/TensorRT-LLM runs "
            "gathered); real servers add prefill work and scheduling gaps, so treat "
            "throughput as an upper bound",
            f"monthly = instances x {HOURS_PER_MONTH:g} h x price; $ per 1M output tokens at "
            "full load (idle hours cost the same and produce nothing)",
        ],
    }
