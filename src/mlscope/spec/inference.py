"""Spec section `inference` (owned by the inference estimator, issue 19).

An on-device assistant: the device, the LLM and speech models it runs, the voice loop's shape,
how often it answers, and the cloud endpoint it is compared with. `candidates` lists other
LLMs to try on the same device (each gets its own fit / speed line, so a model that does not fit
shows as a finding).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlscope.spec.base import Quantity, SpecModel


class LlmChoice(SpecModel):
    model: str = Field("qwen2.5-1.5b", description="LLM name, e.g. llama-3.2-3b.")
    quant: Literal["q4_0", "q4_k_m", "q5_k_m", "q8_0", "f16"] = "q4_k_m"
    runtime: Literal["llama.cpp", "ollama", "mlc"] = "llama.cpp"
    context: int = Field(2048, gt=0, description="Tokens the KV cache is sized for.")


class VoiceLoopSection(SpecModel):
    question_seconds: float = Field(4.0, gt=0, description="Length of a spoken question.")
    prompt_tokens: int = Field(200, gt=0, description="System prompt + transcript tokens.")
    answer_tokens: int = Field(60, gt=0, description="Tokens in a spoken answer.")
    endpoint_silence_s: float = Field(0.5, ge=0, description="Silence that ends a question.")


class CloudSection(SpecModel):
    instance: str = Field("g5.xlarge", description="AWS instance type serving the same loop.")
    purchase: Literal["on-demand", "spot", "savings-1y", "savings-3y"] = "on-demand"
    network_rtt_ms: float = Field(100, ge=0, description="Round trip device <-> region.")
    hours_per_day: float = Field(24, gt=0, le=24, description="Hours a day the endpoint runs.")


class InferenceSection(SpecModel):
    device: str = Field(..., description="Device id, e.g. raspberry-pi-5, or an instance type.")
    memory_gb: Quantity | None = Field(None, gt=0, description="Memory of your configuration.")
    llm: LlmChoice = Field(default_factory=LlmChoice)
    stt: str = Field("whisper-base", description="Speech-to-text model (whisper.cpp).")
    loop: VoiceLoopSection = Field(default_factory=VoiceLoopSection)
    answers_per_day: float = Field(50, gt=0, description="Questions answered a day.")
    devices: int = Field(1, gt=0, description="Devices in the fleet.")
    electricity_usd_per_kwh: float = Field(0.15, ge=0, description="Your electricity price.")
    device_life_months: float = Field(36, gt=0, description="Months the hardware is used.")
    cloud: CloudSection | None = Field(default_factory=CloudSection)
    candidates: list[LlmChoice] = Field(default_factory=list)
