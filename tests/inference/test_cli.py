"""The CLI contracts of issue 19, run through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlscope", *args], capture_output=True,
                          text=True, timeout=120)


def test_inference_json_contract() -> None:
    r = run("estimate", "inference", "--model", "llama-2-7b", "--quant", "q4_0", "--device",
            "apple-m1-max", "--runtime", "llama.cpp", "--context", "4096", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("memory_gb", "fits", "decode_tokens_per_s", "prefill_tokens_per_s",
                "assumptions"):
        assert key in out
    for key in ("decode_tokens_per_s", "prefill_tokens_per_s"):
        d = out[key]
        assert d["p10"] < d["p50"] < d["p90"]
    assert out["fits"] is True
    assert 40 < out["decode_tokens_per_s"]["p50"] < 80  # published: 61.19 (discussion 4167)


def test_params_and_instance_device() -> None:
    r = run("estimate", "inference", "--params", "8e9", "--quant", "q8_0", "--device",
            "g6.xlarge", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["device"]["id"] == "g6.xlarge"


def test_speech_json_contract() -> None:
    r = run("estimate", "speech", "--model", "whisper-base", "--device", "raspberry-pi-5",
            "--runtime", "whisper.cpp", "--json")
    assert r.returncode == 0, r.stderr
    rtf = json.loads(r.stdout)["real_time_factor"]
    assert rtf["p10"] < rtf["p50"] < rtf["p90"] < 1  # base keeps up on a Pi 5


@pytest.mark.parametrize("args,needle", [
    (["--model", "llama-2-7b", "--quant", "q3_k", "--device", "raspberry-pi-5"], "--quant"),
    (["--model", "llama-2-7b", "--quant", "q4_0", "--device", "raspberry-pi-5", "--context",
      "0"], "context"),
    (["--params", "4e12", "--quant", "f16", "--device", "raspberry-pi-5"], "more than any"),
    (["--model", "llama-2-7b", "--quant", "q4_0", "--device", "raspbery-pi-5"], "did you mean"),
])
def test_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    r = run("estimate", "inference", *args, "--json")
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
