"""Speech-to-text (Whisper) on a device: real-time factor and latency per utterance.

whisper.cpp pads every chunk to a 30 s window, so the encoder costs the same for a 3 s command
as for 30 s of speech: a short utterance pays the whole encoder, which is why latency per
utterance is reported beside the long-form real-time factor. The encoder is compute-bound
(FLOPs from the model's shape); the decoder is memory-bound like an LLM's (the device class's
decode fit, f16 weights, plus the cross-attention keys/values over 1,500 frames each token).
Encoder efficiency is fitted on whisper.cpp bench results (data/whisper_measurements.csv) for
the classes they cover; other classes use their LLM prefill efficiency, with a wider range.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from mlscope.catalog.devices import Device
from mlscope.core.ranges import Range
from mlscope.errors import InputError, UnknownNameError
from mlscope.estimate.inference.fit import Fits, default_fits, kind_of
from mlscope.estimate.inference.llm import resolve_device, usable_memory_gb

WINDOW_S = 30.0
FRAMES = 1500  # encoder positions per 30 s window
TOKENS_PER_AUDIO_S = 3.0  # English speech: ~150 words/min x ~1.3 tokens/word, plus timestamps
PROMPT_TOKENS = 4  # start-of-transcript, language, task, no-timestamps
RUNTIMES = ("whisper.cpp",)


@dataclass(frozen=True)
class WhisperModel:
    name: str
    params: float
    d_model: int
    encoder_layers: int
    decoder_layers: int
    n_mels: int = 80
    vocab: int = 51865

    def encoder_flops(self) -> float:
        """One 30 s window: two convolutions, then per layer 12 d^2 weights x 1,500 frames x 2
        and the attention scores/values (4 x frames^2 x d)."""
        d, n = self.d_model, FRAMES
        conv = 2 * self.n_mels * d * 3 * (2 * n) + 2 * d * d * 3 * n
        layers = self.encoder_layers * (2 * 12 * d * d * n + 4 * n * n * d)
        return float(conv + layers)

    def decoder_bytes_per_token(self, bytes_per_weight: float = 2.0) -> float:
        """Weights read per token (self-attn 4d^2 + cross-attn q,o 2d^2 + MLP 8d^2 per layer and
        the tied output matrix) plus the cross-attention K,V of every layer over 1,500 frames."""
        d = self.d_model
        weights = (self.decoder_layers * 14 * d * d + self.vocab * d) * bytes_per_weight
        cross_kv = self.decoder_layers * 2 * FRAMES * d * 2
        return float(weights + cross_kv)

    def memory_gb(self) -> float:
        # f16 weights, encoder activations for one window and the KV caches (~ whisper.cpp's
        # "mem required" line: base 215 MB, of which 140 MB weights).
        return (self.params * 2 + 4 * FRAMES * self.d_model * 4 * 4 + 60e6) / 1e9


# Shapes from the Whisper paper (Radford et al. 2022, Table 1) and the Hugging Face configs of
# openai/whisper-large-v3(-turbo) and distil-whisper/distil-large-v3 (2 decoder layers).
WHISPER: dict[str, WhisperModel] = {m.name: m for m in (
    WhisperModel("whisper-tiny", 39e6, 384, 4, 4),
    WhisperModel("whisper-base", 74e6, 512, 6, 6),
    WhisperModel("whisper-small", 244e6, 768, 12, 12),
    WhisperModel("whisper-medium", 769e6, 1024, 24, 24),
    WhisperModel("whisper-large-v3", 1550e6, 1280, 32, 32, 128, 51866),
    WhisperModel("whisper-large-v3-turbo", 809e6, 1280, 32, 4, 128, 51866),
    WhisperModel("distil-large-v3", 756e6, 1280, 32, 2, 128, 51866),
    WhisperModel("distil-medium.en", 394e6, 1024, 24, 2),
)}


def whisper_model(name: str) -> WhisperModel:
    key = name.strip().lower()
    key = key.removesuffix(".en") if key not in WHISPER else key
    if not key.startswith(("whisper-", "distil-")):
        key = f"whisper-{key}"
    if key not in WHISPER:
        raise UnknownNameError("speech model", name, WHISPER)
    return WHISPER[key]


@lru_cache(maxsize=1)
def whisper_rows() -> tuple[dict[str, str], ...]:
    text = (resources.files("mlscope.estimate.inference") / "data"
            / "whisper_measurements.csv").read_text()
    return tuple(csv.DictReader(text.splitlines()))


def encoder_efficiency(dev: Device, model: WhisperModel, encode_ms: float) -> float:
    assert dev.compute_tflops
    return model.encoder_flops() / (encode_ms / 1000) / (dev.compute_tflops * 1e12)


def fit_encoder(exclude_family: str | None = None) -> dict[str, tuple[float, float, int]]:
    """class -> (efficiency, sigma, rows) from the whisper.cpp bench rows."""
    from mlscope.catalog.devices import device
    from mlscope.estimate.inference.fit import ONE_FAMILY_SIGMA

    logs: dict[str, list[float]] = {}
    fams: dict[str, set[str]] = {}
    for r in whisper_rows():
        d = device(r["device"])
        if d.family == exclude_family:
            continue
        e = encoder_efficiency(d, whisper_model(r["model"]), float(r["encode_ms"]))
        logs.setdefault(d.device_class, []).append(math.log(e))
        fams.setdefault(d.device_class, set()).add(d.family)
    out = {}
    for cls, vals in logs.items():
        mu = sum(vals) / len(vals)
        rms = math.sqrt(sum((v - mu) ** 2 for v in vals) / len(vals))
        dof = math.sqrt(len(vals) / max(1, len(vals) - 1))
        floor = ONE_FAMILY_SIGMA if len(fams[cls]) < 2 else 0.2
        out[cls] = (math.exp(mu), max(floor, 1.5 * rms * dof), len(vals))
    return out


@dataclass
class SpeechEstimate:
    model: WhisperModel
    device: Device
    runtime: str
    audio_s: float
    encode_s: Range
    decode_token_s: Range
    rtf: Range
    utterance_latency_s: Range
    memory_gb: float
    usable_gb: float
    assumptions: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.name, "params": self.model.params,
            "device": {"id": self.device.id, "name": self.device.name,
                       "class": self.device.device_class},
            "runtime": self.runtime,
            "real_time_factor": self.rtf.to_dict(),
            "encode_seconds_per_window": self.encode_s.to_dict(),
            "decode_seconds_per_token": self.decode_token_s.to_dict(),
            "utterance_seconds": self.audio_s,
            "utterance_latency_s": self.utterance_latency_s.to_dict(),
            "memory_gb": self.memory_gb, "fits": self.memory_gb <= self.usable_gb,
            "assumptions": self.assumptions,
        }


def estimate_speech(model: str = "whisper-base", device_name: str = "raspberry-pi-5",
                    runtime: str = "whisper.cpp", audio_s: float = 5.0,
                    fits_data: Fits | None = None,
                    encoder_fit: dict[str, tuple[float, float, int]] | None = None,
                    memory_gb: float | None = None, bandwidth_gbs: float | None = None,
                    compute_tflops: float | None = None) -> SpeechEstimate:
    if runtime not in RUNTIMES:
        raise UnknownNameError("speech runtime", runtime, RUNTIMES)
    if not math.isfinite(audio_s) or audio_s <= 0:
        raise InputError(f"--audio-seconds must be positive (got {audio_s})", "e.g. 5")
    wm = whisper_model(model)
    dev = resolve_device(device_name, memory_gb, bandwidth_gbs, compute_tflops)
    fits = fits_data or default_fits()
    enc_fit = encoder_fit if encoder_fit is not None else fit_encoder()
    assert dev.compute_tflops and dev.bandwidth_gbs
    if dev.device_class in enc_fit:
        eff, sigma, rows = enc_fit[dev.device_class]
        basis = f"fitted on {rows} whisper.cpp bench results of {dev.device_class} devices"
    else:
        # No whisper.cpp rows for this class: its LLM prefill efficiency times the whisper /
        # prefill ratio the other classes show (a small encoder keeps a GPU far less busy
        # than a 7B prompt does).
        p = fits.prefill_for(dev.device_class)
        logs = [math.log(e / fits.prefill_for(c).efficiency) for c, (e, _, _) in enc_fit.items()]
        ratio = math.exp(sum(logs) / len(logs)) if logs else 1.0
        spread = (math.sqrt(sum((v - math.log(ratio)) ** 2 for v in logs) / len(logs))
                  if len(logs) > 1 else 0.5)
        eff, sigma, rows = p.efficiency * ratio, math.hypot(p.sigma, max(0.5, spread)), 0
        basis = (f"no whisper.cpp results gathered for {dev.device_class}: its LLM prefill "
                 f"efficiency x {ratio:.2f}, the whisper/prefill ratio of "
                 f"{', '.join(enc_fit) or 'no class'}")
    encode = Range(wm.encoder_flops() / (eff * dev.compute_tflops * 1e12), sigma)
    dfit = fits.decode_for(dev.device_class)
    overhead = (dfit.b * (2 * wm.d_model * wm.decoder_layers * 14 * wm.d_model)
                / (dev.compute_tflops * 1e12) if kind_of(dev.device_class) == "cpu"
                else dfit.b * wm.decoder_layers * 1e-3)
    token_s = dfit.a * wm.decoder_bytes_per_token() / (dev.bandwidth_gbs * 1e9) + overhead
    token = Range(token_s, dfit.sigma)
    window_tokens = TOKENS_PER_AUDIO_S * WINDOW_S + PROMPT_TOKENS
    per_window = encode.median + window_tokens * token.median
    rtf = Range(per_window / WINDOW_S, math.hypot(encode.sigma * encode.median / per_window,
                                                  token.sigma * (1 - encode.median / per_window)))
    windows = math.ceil(audio_s / WINDOW_S)
    utter_tokens = TOKENS_PER_AUDIO_S * audio_s + PROMPT_TOKENS * windows
    latency = encode.median * windows + utter_tokens * token.median
    utter = Range(latency, rtf.sigma)
    usable, _ = usable_memory_gb(dev)
    assumptions = [
        f"encoder: {wm.encoder_flops() / 1e9:,.0f} GFLOP per 30 s window at {eff:.3f} of "
        f"{dev.compute_tflops:.3g} TFLOPS ({basis})",
        f"decoder: f16 weights and cross-attention K,V read each token "
        f"({wm.decoder_bytes_per_token() / 1e6:,.0f} MB), the device's LLM decode fit",
        f"{TOKENS_PER_AUDIO_S:g} tokens per second of speech; whisper.cpp pads each chunk to "
        "30 s, so a short utterance pays a whole encoder pass (whisper.cpp --audio-ctx can "
        "shrink it at some accuracy cost)",
        "greedy decoding (beam search multiplies decoder work by the beam width)",
        "real-time factor = processing time / audio time over 30 s windows; below 1 keeps up",
    ]
    return SpeechEstimate(wm, dev, runtime, audio_s, encode, token, rtf, utter, wm.memory_gb(),
                          usable, assumptions)
