"""The inference model against independent figures: llama-bench file sizes, llama.cpp's KV
cache size, and published tokens/s the fit did not see (one device family left out)."""

from __future__ import annotations

import math

import pytest

from mlscope.catalog.devices import device, device_ids
from mlscope.core.units import GIB
from mlscope.errors import DoesNotFitError, InputError, UnknownNameError
from mlscope.estimate.inference.fit import fit, measurements
from mlscope.estimate.inference.llm import estimate_llm, memory_need
from mlscope.estimate.inference.models import resolve_model
from mlscope.estimate.inference.quant import quant

REQUIRED = ["raspberry-pi-4", "raspberry-pi-400", "raspberry-pi-5", "jetson-orin-nano",
            "jetson-agx-orin", "apple-m1", "apple-m1-pro", "apple-m1-max", "apple-m2",
            "apple-m2-pro", "apple-m2-max", "apple-m2-ultra", "apple-m3", "apple-m3-pro",
            "apple-m3-max", "apple-m4", "apple-m4-pro", "apple-m4-max"]


def test_required_devices_resolve_with_sources() -> None:
    for name in REQUIRED:
        d = device(name)
        assert d.bandwidth_gbs and d.compute_tflops and d.memory_gb, name
        assert d.source and d.date, name
    assert "g5.xlarge" in device_ids()


def test_aws_instance_is_a_device() -> None:
    g5 = device("g5.xlarge")
    assert g5.bandwidth_gbs == 600 and g5.memory_gb == 24  # one A10G
    p5 = device("p5.48xlarge")
    assert p5.accelerators == 8 and p5.memory_gb == 640 and p5.bandwidth_gbs == 3350


def test_unknown_and_unsupported_devices() -> None:
    with pytest.raises(UnknownNameError) as err:
        device("raspbery-pi-5")
    assert "did you mean raspberry-pi-5" in err.value.one_line()
    with pytest.raises(InputError, match="Neuron"):
        device("inf2.xlarge")


def test_file_size_matches_llama_bench() -> None:
    # llama-bench prints LLaMA-2 7B (6.74 B) as 3.56 GiB at Q4_0 and 3.80 GiB at Q4_K_M.
    llm = resolve_model("llama-2-7b")
    for q, gib in (("q4_0", 3.56), ("q4_k_m", 3.80)):
        size = llm.params * quant(q).bits_per_weight / 8 / GIB
        assert size == pytest.approx(gib, rel=0.01)


def test_kv_cache_matches_llama_cpp() -> None:
    # llama.cpp: LLaMA-2 7B at n_ctx 4096, f16 cache -> "KV self size = 2048.00 MiB".
    need = memory_need(resolve_model("llama-2-7b"), quant("q4_0"), 4096)
    assert need.kv_cache_gb * 1e9 / 2**20 == pytest.approx(2048, rel=1e-9)
    # Llama 3 8B has 8 KV heads: a quarter of that.
    need3 = memory_need(resolve_model("llama-3-8b"), quant("q4_0"), 4096)
    assert need3.kv_cache_gb == pytest.approx(need.kv_cache_gb / 4)


def test_held_out_family_is_predicted() -> None:
    """Fit without the M2 family, then predict the published M2 Max and Pi numbers."""
    fits = fit(keep=lambda m: not m.device.startswith("apple-m2"))
    est = estimate_llm("llama-2-7b", None, "q4_0", "apple-m2-max", fits_data=fits)
    assert est.decode.median == pytest.approx(65.95, rel=0.2)  # discussion 4167
    assert est.decode.p10 <= 65.95 <= est.decode.p90
    assert est.prefill.median == pytest.approx(671.31, rel=0.2)


def test_pi5_against_published_ollama_run() -> None:
    # geerlingguy/ai-benchmarks: Pi 5 8 GB, Ollama llama3.2:3b (Q4_K_M), 4.61 tokens/s.
    fits = fit(keep=lambda m: not (m.device == "raspberry-pi-5" and m.runtime == "ollama"))
    est = estimate_llm("llama-3.2-3b", None, "q4_k_m", "raspberry-pi-5", "ollama",
                       fits_data=fits)
    assert est.decode.median == pytest.approx(4.61, rel=0.25)


def test_does_not_fit_is_a_finding_and_too_big_is_an_error() -> None:
    est = estimate_llm("llama-2-70b", None, "q4_0", "raspberry-pi-5")
    assert not est.fits and "does not fit" in (est.finding() or "")
    with pytest.raises(DoesNotFitError):
        estimate_llm(None, 5e12, "f16", "raspberry-pi-5")
    with pytest.raises(InputError):
        estimate_llm("llama-2-7b", None, "q4_0", "raspberry-pi-5", context=0)
    with pytest.raises(UnknownNameError):
        estimate_llm("llama-2-7b", None, "q3_k", "raspberry-pi-5")


def test_every_measurement_has_a_source_and_a_known_device() -> None:
    rows = measurements()
    assert len(rows) >= 100
    for m in rows:
        assert m.source and m.value > 0 and math.isfinite(m.value)
        device(m.device)
        resolve_model(m.model)


def test_unseen_pi_runs() -> None:
    """/work/shared/reference README: published Raspberry Pi runs the fit never saw."""
    pi5 = estimate_llm("llama-3.1-8b", None, "q4_k_m", "raspberry-pi-5")
    assert pi5.decode.p10 <= 1.8 <= pi5.decode.p90
    # Pi 4 8 GB, Qwen3-4B Q4_K_M, about 1.6 tokens/s: a known miss (P50 about 1.05, P90
    # about 1.4; see docs/dev-notes/issue-19.md). Pinned to stay within a factor of two.
    pi4 = estimate_llm("qwen3-4b", None, "q4_k_m", "raspberry-pi-4")
    assert 1.6 / 2 <= pi4.decode.median <= 1.6 * 2


def test_jetson_held_out_device_family() -> None:
    # Jetson AI Lab (MLC INT4): Orin Nano Super, Llama 3.2 3B at 43.07 tokens/s. Fit without
    # any Orin Nano row; the AGX Orin and Orin NX rows and the MLC factor carry it.
    fits = fit(keep=lambda m: device(m.device).family != "jetson-orin-nano")
    est = estimate_llm("llama-3.2-3b", None, "q4_0", "jetson-orin-nano", "mlc", fits_data=fits)
    assert est.decode.p10 <= 43.07 <= est.decode.p90
    assert est.decode.median == pytest.approx(43.07, rel=0.4)


def test_instance_memory_adds_up_but_bandwidth_does_not() -> None:
    one = estimate_llm("llama-3-70b", None, "q4_k_m", "g5.xlarge")
    four = estimate_llm("llama-3-70b", None, "q4_k_m", "g5.12xlarge")
    assert not one.fits and four.fits  # 4 x 24 GB holds ~43 GB of weights
    # llama.cpp's layer split streams one GPU at a time: the same per-token speed.
    assert four.decode.median == pytest.approx(one.decode.median, rel=1e-9)
