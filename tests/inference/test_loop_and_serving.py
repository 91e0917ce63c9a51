"""Voice loop, cloud serving and the edge-assistant spec, checked against hand computations
and the published measurements they rest on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlscope.catalog.core import get_catalog
from mlscope.core.units import HOURS_PER_MONTH
from mlscope.errors import InputError
from mlscope.estimate.inference.serving import serving_options
from mlscope.estimate.inference.speech import (
    encoder_efficiency,
    estimate_speech,
    whisper_model,
    whisper_rows,
)
from mlscope.estimate.inference.voice_loop import estimate_voice_loop
from mlscope.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "edge-assistant" / "mlscope.yaml"


def test_whisper_encoder_flops_by_hand() -> None:
    # base: d=512, 6 layers, 1,500 frames: 6 x (2 x 12 d^2 x 1500 + 4 x 1500^2 x d) + convs.
    d, n, layers = 512, 1500, 6
    by_hand = layers * (24 * d * d * n + 4 * n * n * d) + 2 * 80 * d * 3 * 3000 + 2 * d * d * 3 * n
    assert whisper_model("whisper-base").encoder_flops() == pytest.approx(by_hand)
    assert whisper_model("base.en").name == "whisper-base"


def test_pi5_whisper_against_bench() -> None:
    # whisper.cpp issue 89, Pi 5: base encoder 2,479.82 ms per 30 s window.
    est = estimate_speech("whisper-base", "raspberry-pi-5")
    assert est.encode_s.median == pytest.approx(2.48, rel=0.3)
    assert est.rtf.p90 < 1.0  # base keeps up with speech on a Pi 5
    # A short question still pays the whole 30 s window (whisper.cpp pads).
    assert est.utterance_latency_s.median > est.encode_s.median
    for r in whisper_rows():
        assert r["source"] and 0 < encoder_efficiency(
            __import__("mlscope.catalog.devices", fromlist=["device"]).device(r["device"]),
            whisper_model(r["model"]), float(r["encode_ms"])) < 1


def test_voice_loop_stages_add_up_and_fit() -> None:
    loop = estimate_voice_loop("raspberry-pi-5", "qwen2.5-1.5b", answer_tokens=60)
    d = loop.to_dict()
    assert d["fits"] and d["finding"] is None
    stages = {s["stage"]: s["seconds"]["p50"] for s in d["stages"]}
    assert stages["end of speech"] == pytest.approx(0.5)
    # The median wait is at least end of speech + STT + prompt (medians of positive parts).
    floor = stages["end of speech"] + stages["speech-to-text"] * 0.8 + stages["LLM prompt"] * 0.5
    assert d["time_to_first_audio_s"]["p50"] > floor
    # The LLM answer's stage is (N - 1) tokens at the decode speed the LLM estimate gives.
    assert stages["LLM answer"] == pytest.approx(59 / loop.llm.decode.median, rel=0.1)
    mem = d["memory"]
    assert mem["total_gb"] == pytest.approx(mem["llm_gb"] + mem["stt_gb"] + mem["tts_gb"]
                                            + mem["wake_word_gb"])
    # Energy = busy time x the published 13.9 W peak of a Pi 5 under Ollama.
    assert d["power_w"] == 13.9 and d["energy_wh_per_answer"]["p50"] > 0


def test_voice_loop_that_does_not_fit_is_a_finding() -> None:
    d = estimate_voice_loop("raspberry-pi-5", "llama-2-13b", quant_name="q8_0").to_dict()
    assert not d["fits"] and "does not fit" in d["finding"]
    assert d["time_to_first_audio_s"] is None
    assert all(s["seconds"] is None for s in d["stages"])


def test_serving_cost_by_hand() -> None:
    r = serving_options("llama-3-8b", quant_name="f16", instance_types=["g5.xlarge"],
                        requests_per_s=1.0, tokens_per_request=500)
    o = r["best"]
    price = get_catalog().instance("g5.xlarge", "us-east-1").on_demand_usd_hr
    assert price
    # $ per 1M tokens = $/h / (tokens/s x 3600) x 1e6; monthly = instances x 730 h x $/h.
    assert o["usd_per_million_tokens"]["on-demand"] == pytest.approx(
        price / (o["tokens_per_s"] * 3600) * 1e6)
    assert o["monthly_usd"]["on-demand"] == pytest.approx(o["instances"] * HOURS_PER_MONTH
                                                          * price)
    assert o["instances"] * o["tokens_per_s"] >= 500
    # A single A10G (600 GB/s) cannot stream 16 GB of f16 weights faster than 37.5 tokens/s
    # per sequence: one step is at least 16e9 / 600e9 s.
    assert o["token_latency_s"] >= 8.03e9 * 2 / 600e9
    with pytest.raises(InputError):
        serving_options("llama-3-8b", requests_per_s=0)


def test_example_spec_shows_loop_and_cloud() -> None:
    spec = load_spec(str(EXAMPLE))
    assert spec.inference is not None
    r = subprocess.run([sys.executable, "-m", "mlscope", "estimate", "spec", str(EXAMPLE),
                        "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["voice_loop"]["fits"]
    assert set(out["edge_vs_cloud"]) == {"device", "cloud"}
    assert any("does not fit" in f for f in out["findings"])  # the q8_0 8B candidate


def test_voice_loop_cli_bad_input() -> None:
    r = subprocess.run([sys.executable, "-m", "mlscope", "estimate", "voice-loop", "--device",
                        "raspberry-pi-5", "--context", "0"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_device_monthly_cost_by_hand() -> None:
    from mlscope.estimate.inference.assistant import assistant_estimate

    spec = load_spec(str(EXAMPLE))
    assert spec.inference is not None
    dev = assistant_estimate(spec.inference)["edge_vs_cloud"]["device"]
    # Raspberry Pi 5 8 GB: $80 over 36 months (devices.csv), electricity while answering.
    assert dev["hardware_usd_per_month"] == pytest.approx(80 / 36)
    energy = dev["energy_wh_per_answer"]["p50"]
    assert dev["electricity_usd_per_month"] == pytest.approx(
        energy * 50 * HOURS_PER_MONTH / 24 / 1000 * 0.15)


def test_batching_curve_trades_latency_for_throughput() -> None:
    r = serving_options("llama-3-8b", quant_name="f16", instance_types=["g5.xlarge"])
    curve = r["batching_curve"]
    tps = [c["tokens_per_s"] for c in curve]
    lat = [c["token_latency_s"] for c in curve]
    assert tps == sorted(tps) and lat == sorted(lat)
    # Doubling a memory-bound batch almost doubles throughput; compute-bound stops the gain.
    assert tps[1] / tps[0] > 1.8
    assert curve[-1]["bound"] == "compute" and tps[-1] / tps[-2] < 1.2
    assert curve[0]["kv_caches_fit"] and not curve[-1]["kv_caches_fit"]
