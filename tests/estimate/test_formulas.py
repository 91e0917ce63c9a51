"""Formulas against hand-computed cases."""

from __future__ import annotations

import pytest

from mlscope.estimate.flops import training_flops
from mlscope.estimate.memory import GIB, activation_bytes, plan_memory
from mlscope.estimate.shapes import ModelShape, params_from_shape, resolve_shape, zoo_model


def test_six_n_d_without_shape() -> None:
    f = training_flops(resolve_shape(params=7e9), 2e12)
    assert f.model_flops == pytest.approx(8.4e22)
    assert f.attention_term == 0


def test_attention_term_llama2_7b() -> None:
    shape = zoo_model("llama-2-7b")
    f = training_flops(shape, 1e9, seq_len=4096)
    # 6·L·s·h per token: 6 x 32 x 4096 x 4096 = 3.221e9 per token
    assert f.attention_term == pytest.approx(6 * 32 * 4096 * 4096 * 1e9)
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


def test_model_states_are_16_bytes_per_param() -> None:
    # Transformer Math 101: mixed-precision AdamW needs 16 bytes/param: 7B -> 112 GB of states.
    plan = plan_memory(resolve_shape(params=7e9), 80, 1, "bf16", 0, 1, 2048)
    states = sum(v for k, v in plan.breakdown_gb.items() if k in ("weights", "gradients",
                                                                  "optimizer"))
    assert states * GIB == pytest.approx(112e9, rel=1e-6)
    assert not plan.fits


def test_zero3_shards_every_state() -> None:
    one = plan_memory(resolve_shape(params=7e9), 80, 1, "bf16", 3, 1, 2048)
    eight = plan_memory(resolve_shape(params=7e9), 80, 8, "bf16", 3, 1, 2048)
    for key in ("weights", "gradients", "optimizer"):
        assert eight.breakdown_gb[key] == pytest.approx(one.breakdown_gb[key] / 8)
    assert eight.breakdown_gb["activations"] == pytest.approx(one.breakdown_gb["activations"])


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


def test_min_count_is_smallest_that_fits() -> None:
    # Without recomputation, 70B activations at 4096 tokens (91 GB) overflow an 80 GB GPU.
    assert plan_memory(zoo_model("llama-2-70b"), 80, None, "bf16", 3, 1, 4096).min_count is None
    plan = plan_memory(zoo_model("llama-2-70b"), 80, None, "bf16", 3, 1, 4096, "full")
    assert plan.min_count is not None
    smaller = plan_memory(zoo_model("llama-2-70b"), 80, plan.min_count - 1, "bf16", 3, 1, 4096,
                          "full")
    assert not smaller.fits
    at = plan_memory(zoo_model("llama-2-70b"), 80, plan.min_count, "bf16", 3, 1, 4096, "full")
    assert at.fits


def test_qlora_fits_70b_on_one_80gb_gpu() -> None:
    # QLoRA paper: a 65B model fine-tunes on one 48 GB GPU (4-bit weights + adapters).
    plan = plan_memory(zoo_model("llama-2-70b"), 80, 1, "bf16", 0, 1, 512, recompute="full",
                       finetune="qlora")
    assert plan.fits
    full = plan_memory(zoo_model("llama-2-70b"), 80, 1, "bf16", 0, 1, 512, recompute="full")
    assert not full.fits


def test_frozen_weight_bits_order_memory() -> None:
    shape = zoo_model("llama-2-13b")
    gb = {mode: plan_memory(shape, 80, 1, "bf16", 0, 1, 512, "full", finetune=mode)
          .breakdown_gb["weights"] for mode in ("lora", "lora-8bit", "qlora")}
    assert gb["lora"] > gb["lora-8bit"] > gb["qlora"]
    assert gb["qlora"] == pytest.approx(13e9 * 0.5 / GIB, rel=0.05)
