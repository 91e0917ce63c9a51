"""Formulas against hand-computed cases."""

from __future__ import annotations

import pytest

from mlscope.estimate.flops import training_flops
from mlscope.estimate.memory import (
    Strategy,
    Workload,
    activation_bytes,
    memory_parts,
    plan,
    smallest_count,
    time_factor,
    total_gb,
)
from mlscope.estimate.shapes import ModelShape, params_from_shape, resolve_shape, zoo_model


def test_six_n_d_without_shape() -> None:
    f = training_flops(resolve_shape(params=7e9), 2e12)
    assert f.model_flops == pytest.approx(8.4e22)
    assert f.attention_term == 0


def test_attention_term_llama2_7b() -> None:
    shape = zoo_model("llama-2-7b")
    f = training_flops(shape, 1e9, seq_len=4096)
    # PaLM's model FLOPs (appendix B): 12·L·s·h per token = 12 x 32 x 4096 x 4096 = 6.44e9
    assert f.attention_term == pytest.approx(12 * 32 * 4096 * 4096 * 1e9)
    assert f.dense_term == pytest.approx(6 * 6.74e9 * 1e9)


def test_full_recompute_is_eight_n_d() -> None:
    f = training_flops(resolve_shape(params=1e9), 1e9, recompute="full")
    assert f.hardware_flops == pytest.approx(8e18)
    assert f.model_flops == pytest.approx(6e18)


def test_moe_uses_active_params() -> None:
    f = training_flops(resolve_shape(params=671e9, active_params=37e9), 1e12)
    assert f.model_flops == pytest.approx(6 * 37e9 * 1e12)


def test_lora_flops_shrink_weight_gradients_only() -> None:
    f = training_flops(resolve_shape(params=1e9), 1e9, trainable_fraction=0.01)
    assert f.model_flops == pytest.approx((4 + 0.02) * 1e18)


def test_params_from_shape_matches_gpt2_small() -> None:
    # GPT-2 small: 12 layers, 768 hidden, 50257 vocab -> 124M with embeddings (HF config)
    n = params_from_shape(12, 768, 12, 12, 50257)
    assert n == pytest.approx(124e6, rel=0.02)


def test_llama2_7b_shape_matches_published_count() -> None:
    s = zoo_model("llama-2-7b")
    n = params_from_shape(s.layers or 0, s.hidden or 0, s.heads, s.kv_heads, 2 * (s.vocab or 0),
                          s.ffn, gated_mlp=True)
    assert n == pytest.approx(6.74e9, rel=0.01)  # untied input and output embeddings


def _w(shape: ModelShape, seq: int = 2048, finetune: str = "none", mb: int = 1) -> Workload:
    return Workload(shape, "bf16", mb, seq, True, finetune, 16)


def test_model_states_are_16_bytes_per_param() -> None:
    # Transformer Math 101: mixed-precision AdamW needs 16 bytes/param: 7B -> 112 GB of states.
    parts = memory_parts(_w(resolve_shape(params=7e9)), 1, Strategy())
    states = parts["weights"] + parts["gradients"] + parts["optimizer"]
    assert states == pytest.approx(112e9, rel=1e-6)
    # 112 GB of states alone overflow an 80 GB part: plain data parallel does not fit.
    assert total_gb(parts) > 80


def test_zero3_shards_every_state() -> None:
    w = _w(resolve_shape(params=7e9))
    one = memory_parts(w, 1, Strategy(zero_stage=3))
    eight = memory_parts(w, 8, Strategy(zero_stage=3))
    for key in ("weights", "gradients", "optimizer"):
        assert eight[key] == pytest.approx(one[key] / 8)
    assert eight["activations"] == pytest.approx(one["activations"])


def test_tensor_and_pipeline_parallel_split_states_and_activations() -> None:
    w = _w(zoo_model("llama-2-70b"), 4096)
    base = memory_parts(w, 64, Strategy(zero_stage=1))
    tp = memory_parts(w, 64, Strategy(zero_stage=1, tensor_parallel=8))
    pp = memory_parts(w, 64, Strategy(zero_stage=1, pipeline_parallel=4))
    assert tp["weights"] == pytest.approx(base["weights"] / 8)
    assert tp["activations"] == pytest.approx(base["activations"] / 8)  # TP + sequence parallel
    assert pp["weights"] == pytest.approx(base["weights"] / 4)
    # 1F1B: the first stage holds p micro-batches of L/p layers: all L layers' activations.
    assert pp["activations"] == pytest.approx(base["activations"])


def test_korthikanti_activations_gpt3_layer() -> None:
    # s·b·h·(34 + 5·a·s/h) per layer: GPT-3 175B, s=2048, b=1 -> 2048·12288·(34 + 80) bytes
    shape = ModelShape("one-layer", 1.0, layers=1, hidden=12288, heads=96)
    got = activation_bytes(shape, 2048, 1, "none", flash_attention=False)
    assert got == pytest.approx(2048 * 12288 * 114)
    flash = activation_bytes(shape, 2048, 1, "none", flash_attention=True)
    assert flash == pytest.approx(2048 * 12288 * 34)
    full = activation_bytes(ModelShape("x", 1.0, layers=10, hidden=12288, heads=96), 2048, 1,
                            "full", True)
    assert full == pytest.approx(10 * 2 * 2048 * 12288 + 34 * 2048 * 12288)


def test_planner_order_zero_then_recompute_then_tp() -> None:
    w = _w(zoo_model("llama-2-7b"), 4096, mb=4)
    # 7B, micro-batch 4 x 4096 on 512 H100: activations (~77 GB) overflow without help.
    plan_ = plan(w, 80, 512, 8)
    assert plan_ is not None
    assert plan_.strategy.recompute == "full" and plan_.strategy.tensor_parallel == 1
    pinned = plan(w, 80, 512, 8, recompute="selective")
    assert pinned is not None and pinned.strategy.tensor_parallel == 2


def test_min_count_is_smallest_that_fits() -> None:
    w = _w(zoo_model("llama-2-70b"), 4096)
    n = smallest_count(w, 80, 8)
    assert n is not None
    assert plan(w, 80, n, 8) is not None
    assert plan(w, 80, n - 1, 8) is None


def test_pipeline_bubble_in_time() -> None:
    w = _w(zoo_model("llama-2-70b"), 4096)
    # p=4, d=16 at micro-batch 1: m = 4e6/4096/16 = 61 micro-batches; bubble (p-1)/m.
    factor, bubble = time_factor(w, 64, Strategy(1, "none", 1, 4))
    m = 4e6 / 4096 / 16
    assert factor == pytest.approx(1 + 3 / m)
    assert bubble == pytest.approx((3 / m) / (1 + 3 / m))


def test_qlora_fits_65b_on_one_48gb_gpu() -> None:
    # QLoRA paper (Dettmers et al. 2023): LLaMA-65B fine-tunes on one 48 GB GPU.
    w = _w(resolve_shape(params=65e9), 512, "qlora")
    found = plan(w, 48, 1, 1)
    assert found is not None and found.count == 1
    assert plan(_w(resolve_shape(params=65e9), 512), 48, 1, 1) is None  # full fine-tune: no


def test_frozen_weight_bits_order_memory() -> None:
    shape = zoo_model("llama-2-13b")
    gb = {mode: memory_parts(_w(shape, 512, mode), 1, Strategy(0, "full"))["weights"]
          for mode in ("lora", "lora-8bit", "qlora")}
    assert gb["lora"] > gb["lora-8bit"] > gb["qlora"]
    assert gb["qlora"] == pytest.approx(13e9 * 0.5, rel=0.05)
