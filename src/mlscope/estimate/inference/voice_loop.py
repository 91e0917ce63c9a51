"""The voice loop on one device: wake word -> speech-to-text -> LLM -> text-to-speech.

Per stage latency as a range, the total from the end of the user's question to the first word
of the answer (and to the end of the answer), memory of everything loaded at once, power and
energy per answer. Stages whose time comes from a fitted model (STT, LLM) carry its range;
stages set by configuration (end-of-speech silence) or by thin evidence (wake word frame, TTS
speed) say so in the assumptions. A model that does not fit is a finding: the loop's latency is
then not given, because a swapping LLM has no meaningful speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlscope.core.ranges import Range
from mlscope.errors import InputError
from mlscope.estimate.inference.llm import LlmEstimate, estimate_llm, usable_memory_gb
from mlscope.estimate.inference.speech import SpeechEstimate, estimate_speech

SEED = 19
DRAWS = 4000
WAKE_FRAME_S = 0.08  # openWakeWord scores 80 ms frames: detection lands within one frame
WAKE_MEMORY_GB = 0.05  # openWakeWord's ONNX models and audio features (small; rough)
# Piper (VITS, ONNX) on a Raspberry Pi 4: "about 200 % speed" for a medium voice (real-time
# factor 0.5), rhasspy/rhasspy3 issue 36; the author reports faster than real time for
# low/medium voices on a Pi 4 (rhasspy/piper issue 235). Other devices scale it by compute.
TTS_RTF_PI4 = Range.from_p10_p90(0.3, 0.8)
TTS_REFERENCE_TFLOPS = 0.096  # the Pi 4's compute figure in the devices catalog
# Off the Pi (Macs, Jetsons, GPU instances) Piper runs on a desktop-class CPU: a medium voice
# at real-time factor 0.034 on x86 (NixOS/nixpkgs PR 267529 log); range around it.
TTS_RTF_DESKTOP = Range.from_p10_p90(0.02, 0.08)
PI5_CPU_TFLOPS = 0.6144  # the Pi 5's compute figure, standing in for a Jetson's Arm cores
TTS_MEMORY_GB = 0.15  # a medium Piper voice (~63 MB ONNX) plus onnxruntime
SECONDS_PER_TOKEN_SPOKEN = 0.3  # ~0.75 words a token at ~2.5 spoken words a second
FIRST_SENTENCE_TOKENS = 15


@dataclass
class VoiceLoopEstimate:
    device_id: str
    llm: LlmEstimate
    stt: SpeechEstimate
    stages: list[dict[str, Any]]
    first_audio_s: dict[str, float] | None
    answer_done_s: dict[str, float] | None
    memory: dict[str, Any]
    power_w: float | None
    energy_wh_per_answer: dict[str, float] | None
    finding: str | None
    assumptions: list[str]
    settings: dict[str, Any]

    @property
    def fits(self) -> bool:
        return bool(self.memory["fits"])

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device_id, "settings": self.settings, "fits": self.fits,
                "finding": self.finding, "stages": self.stages,
                "time_to_first_audio_s": self.first_audio_s,
                "time_to_answer_done_s": self.answer_done_s, "memory": self.memory,
                "power_w": self.power_w, "energy_wh_per_answer": self.energy_wh_per_answer,
                "llm": self.llm.to_dict(), "stt": self.stt.to_dict(),
                "assumptions": self.assumptions}


def _draw(r: Range, rng: np.random.Generator) -> np.ndarray:
    return r.median * np.exp(r.sigma * rng.standard_normal(DRAWS))


def _pcts(x: np.ndarray) -> dict[str, float]:
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90)}


def estimate_voice_loop(device_name: str = "raspberry-pi-5", llm_model: str = "qwen2.5-1.5b",
                        quant_name: str = "q4_k_m", runtime: str = "llama.cpp",
                        stt_model: str = "whisper-base", context: int = 2048,
                        question_s: float = 4.0, prompt_tokens: int = 200,
                        answer_tokens: int = 60, endpoint_silence_s: float = 0.5,
                        memory_gb: float | None = None,
                        llm_params: float | None = None) -> VoiceLoopEstimate:
    for name, value in (("--question-seconds", question_s), ("--answer-tokens", answer_tokens),
                        ("--prompt-tokens", prompt_tokens)):
        if not math.isfinite(value) or value <= 0:
            raise InputError(f"{name} must be positive (got {value})", f"pass a positive {name}")
    if not math.isfinite(endpoint_silence_s) or endpoint_silence_s < 0:
        raise InputError("--endpoint-silence must be 0 or more seconds", "e.g. 0.5")
    llm = estimate_llm(None if llm_params else llm_model, llm_params, quant_name, device_name,
                       runtime, context, int(prompt_tokens), memory_gb=memory_gb)
    stt = estimate_speech(stt_model, device_name, audio_s=question_s, memory_gb=memory_gb)
    dev = llm.device
    usable, why = usable_memory_gb(dev)
    mem_parts = {"wake_word_gb": WAKE_MEMORY_GB, "stt_gb": stt.memory_gb,
                 "llm_gb": llm.memory.total_gb, "tts_gb": TTS_MEMORY_GB}
    total_mem = sum(mem_parts.values())
    fits = total_mem <= usable
    memory = {**mem_parts, "total_gb": total_mem, "usable_gb": usable,
              "device_memory_gb": dev.memory_gb, "fits": fits, "basis": why}
    assert dev.compute_tflops
    if dev.is_cpu:
        tts_rtf = TTS_RTF_PI4 * (TTS_REFERENCE_TFLOPS / dev.compute_tflops)
    elif dev.device_class == "jetson-gpu":  # Piper runs on its Cortex-A78AE: taken as a Pi 5
        tts_rtf = TTS_RTF_PI4 * (TTS_REFERENCE_TFLOPS / PI5_CPU_TFLOPS)
    else:
        tts_rtf = TTS_RTF_DESKTOP
    answer_audio_s = answer_tokens * SECONDS_PER_TOKEN_SPOKEN
    first_sentence = min(answer_tokens, FIRST_SENTENCE_TOKENS)
    settings = {"llm": llm.model.name, "quant": llm.quant.name, "runtime": runtime,
                "stt": stt.model.name, "tts": "piper (medium voice)",
                "wake_word": "openWakeWord", "question_seconds": question_s,
                "prompt_tokens": prompt_tokens, "answer_tokens": answer_tokens,
                "endpoint_silence_s": endpoint_silence_s, "context": context}
    assumptions = [
        f"wake word: openWakeWord scores {WAKE_FRAME_S * 1000:.0f} ms frames; it runs before "
        "the question and is not part of the response time",
        f"end of speech: {endpoint_silence_s:g} s of silence closes the question (a setting of "
        "the voice-activity detector, not a measurement)",
        f"speech-to-text: {stt.model.name} on a {question_s:g} s question (whisper.cpp pads to "
        "a 30 s window)",
        f"LLM: {prompt_tokens} prompt tokens (system prompt + transcript), then "
        f"{answer_tokens} answer tokens; the first sentence is {first_sentence} tokens",
        f"text-to-speech: Piper medium voice, real-time factor {tts_rtf.median:.2g} "
        + (f"({TTS_RTF_PI4.p10:g}-{TTS_RTF_PI4.p90:g} on a Pi 4 from one user report, scaled "
           "by compute; rough)" if dev.is_cpu else
           "(the Jetson's Arm cores taken as a Pi 5's; rough)"
           if dev.device_class == "jetson-gpu" else "(one x86 desktop log; rough)")
        + "; the answer streams sentence by sentence",
        f"answer audio: {SECONDS_PER_TOKEN_SPOKEN:g} s spoken per token",
        *llm.assumptions[:1], *stt.assumptions[:1],
    ]
    power = dev.power_load_w
    if not fits:
        finding = (f"{llm.model.name} {llm.quant.name} + {stt.model.name} + Piper need "
                   f"{total_mem:.1f} GB but {dev.id} has {usable:.1f} GB usable: the loop does "
                   "not fit (pick a smaller model or quantization, a shorter context, or a "
                   "device with more memory)")
        stages: list[dict[str, Any]] = [{"stage": s, "seconds": None} for s in
                  ("wake word", "end of speech", "speech-to-text", "LLM prompt",
                   "LLM first token", "LLM answer", "text-to-speech")]
        return VoiceLoopEstimate(dev.id, llm, stt, stages, None, None, memory, power, None,
                                 finding, assumptions, settings)
    rng = np.random.default_rng(SEED)
    # One draw of each fitted quantity per trial: decode speed is shared by first token and
    # answer (the same device), which keeps their sum's spread honest.
    decode_tps = _draw(llm.decode, rng)
    prefill_tps = _draw(llm.prefill, rng)
    stt_s = _draw(stt.utterance_latency_s, rng)
    rtf = _draw(tts_rtf, rng)
    prompt_s = prompt_tokens / prefill_tps
    first_token_s = 1.0 / decode_tps
    answer_s = (answer_tokens - 1) / decode_tps
    first_sentence_s = (first_sentence - 1) / decode_tps
    tts_first_s = rtf * first_sentence * SECONDS_PER_TOKEN_SPOKEN
    # Piper streams: the tail of the answer's audio is synthesised while earlier audio plays,
    # so only synthesis slower than real time adds to the end.
    tts_s = rtf * answer_audio_s
    endpoint = np.full(DRAWS, endpoint_silence_s)
    first_audio = endpoint + stt_s + prompt_s + first_token_s + first_sentence_s + tts_first_s
    done = endpoint + stt_s + prompt_s + first_token_s + answer_s + np.maximum(
        tts_first_s, tts_s - answer_s) + answer_audio_s
    stages = [
        {"stage": "wake word", "seconds": _pcts(np.full(DRAWS, WAKE_FRAME_S)),
         "in_response_time": False},
        {"stage": "end of speech", "seconds": _pcts(endpoint), "in_response_time": True},
        {"stage": "speech-to-text", "seconds": _pcts(stt_s), "in_response_time": True},
        {"stage": "LLM prompt", "seconds": _pcts(prompt_s), "in_response_time": True},
        {"stage": "LLM first token", "seconds": _pcts(first_token_s), "in_response_time": True},
        {"stage": "LLM answer", "seconds": _pcts(answer_s), "in_response_time": False,
         "note": f"{answer_tokens - 1} more tokens, spoken while generated"},
        {"stage": "text-to-speech", "seconds": _pcts(tts_s), "in_response_time": False,
         "note": "first sentence only delays the first audio"},
    ]
    busy = stt_s + prompt_s + first_token_s + answer_s + tts_s
    energy = _pcts(busy * power / 3600) if power else None
    if power is None:
        assumptions.append(f"no published power figure for {dev.id}: energy not given")
    else:
        assumptions.append(f"power {power:g} W while busy (published peak under LLM load); "
                           "energy = busy seconds x power")
    return VoiceLoopEstimate(dev.id, llm, stt, stages, _pcts(first_audio), _pcts(done), memory,
                             power, energy, None, assumptions, settings)
