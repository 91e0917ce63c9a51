"""An on-device assistant from the spec's `inference:` section: the voice loop on the device,
other LLMs tried on it, and the same assistant on a cloud endpoint side by side."""

from __future__ import annotations

from typing import Any

from mlscope.core.units import HOURS_PER_MONTH
from mlscope.errors import InputError
from mlscope.estimate.inference.llm import estimate_llm
from mlscope.estimate.inference.voice_loop import VoiceLoopEstimate, estimate_voice_loop
from mlscope.spec.inference import InferenceSection

DAYS_PER_MONTH = HOURS_PER_MONTH / 24


def _loop(sec: InferenceSection, device_name: str, memory_gb: float | None) -> VoiceLoopEstimate:
    return estimate_voice_loop(
        device_name, sec.llm.model, sec.llm.quant, sec.llm.runtime, sec.stt, sec.llm.context,
        sec.loop.question_seconds, sec.loop.prompt_tokens, sec.loop.answer_tokens,
        sec.loop.endpoint_silence_s, memory_gb)


def edge_vs_cloud(sec: InferenceSection, edge: VoiceLoopEstimate) -> dict[str, Any] | None:
    """Latency, monthly cost and energy of the device against a cloud endpoint."""
    if sec.cloud is None:
        return None
    from mlscope.catalog.core import get_catalog
    from mlscope.pricing import instance_price

    cloud = _loop(sec, sec.cloud.instance, None)
    rtt = sec.cloud.network_rtt_ms / 1000
    answers_month = sec.answers_per_day * DAYS_PER_MONTH * sec.devices
    d = edge.llm.device
    rows: dict[str, Any] = {}
    energy = edge.energy_wh_per_answer
    hardware = (d.price_usd / sec.device_life_months * sec.devices) if d.price_usd else None
    electricity = (energy["p50"] * answers_month / 1000 * sec.electricity_usd_per_kwh
                   if energy else None)
    rows["device"] = {
        "where": d.id, "fits": edge.fits,
        "time_to_first_audio_s": edge.first_audio_s,
        "monthly_usd": (hardware or 0) + (electricity or 0) if hardware is not None else None,
        "hardware_usd_per_month": hardware, "electricity_usd_per_month": electricity,
        "energy_wh_per_answer": energy,
        "note": "hardware over its life plus electricity while answering (idle draw not "
                "included: no published idle figure)",
    }
    inst = get_catalog().instance(sec.cloud.instance, None)
    price = instance_price(inst, sec.cloud.purchase)
    hours = HOURS_PER_MONTH * sec.cloud.hours_per_day / 24
    monthly = price.usd_per_hour.median * hours if price else None
    first = ({k: v + rtt for k, v in cloud.first_audio_s.items()}
             if cloud.first_audio_s else None)
    rows["cloud"] = {
        "where": f"{sec.cloud.instance} ({sec.cloud.purchase})", "fits": cloud.fits,
        "time_to_first_audio_s": first, "monthly_usd": monthly,
        "usd_per_answer": monthly / answers_month if monthly else None,
        "energy_wh_per_answer": cloud.energy_wh_per_answer,
        "note": f"one instance {sec.cloud.hours_per_day:g} h a day serves the fleet "
                f"({answers_month:,.0f} answers a month); network round trip "
                f"{sec.cloud.network_rtt_ms:g} ms added",
    }
    return rows


def assistant_estimate(sec: InferenceSection) -> dict[str, Any]:
    edge = _loop(sec, sec.device, sec.memory_gb)
    candidates: list[dict[str, Any]] = []
    for c in sec.candidates:
        try:
            est = estimate_llm(c.model, None, c.quant, sec.device, c.runtime, c.context,
                               sec.loop.prompt_tokens, memory_gb=sec.memory_gb)
        except InputError as exc:
            candidates.append({"model": c.model, "quant": c.quant, "error": exc.one_line()})
            continue
        candidates.append({"model": est.model.name, "quant": est.quant.name,
                           "memory_gb": est.memory.total_gb, "usable_gb": est.usable_gb,
                           "fits": est.fits, "finding": est.finding(),
                           "decode_tokens_per_s": est.decode.to_dict() if est.fits else None})
    findings = [f for f in [edge.finding] + [c.get("finding") for c in candidates] if f]
    return {"method": "inference", "device": sec.device, "voice_loop": edge.to_dict(),
            "candidates": candidates, "edge_vs_cloud": edge_vs_cloud(sec, edge),
            "findings": findings, "assumptions": edge.assumptions}
