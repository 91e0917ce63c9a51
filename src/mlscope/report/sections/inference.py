"""Section: the on-device assistant (issue 19) — the voice loop stage by stage, what fits on the
device, and the same assistant in the cloud side by side."""

from __future__ import annotations

from typing import Any

from mlscope.core import fmt
from mlscope.estimate.inference.assistant import assistant_estimate
from mlscope.report import charts
from mlscope.report.model import Figure, FindingView, Section, Table
from mlscope.spec.models import ProjectSpec


def _secs(v: float) -> str:
    if v < 1:
        return f"{v * 1000:,.0f} ms"
    return f"{v:,.1f} s"


def _rng(q: dict[str, float] | None, f: Any = _secs) -> str:
    if not q:
        return "n/a"
    return f"{f(q['p50'])} (P10 {f(q['p10'])} – P90 {f(q['p90'])})"


def build(spec: ProjectSpec) -> Section:
    sec = Section("inference", "On-device assistant",
                  "Whether the assistant runs on the device, how long a user waits for an "
                  "answer, stage by stage, and what the same assistant costs in the cloud.")
    if spec.inference is None:
        return sec.unavailable("the spec has no `inference:` section (see docs/inference.md)",
                               "no-input")
    result: dict[str, Any] = assistant_estimate(spec.inference)
    sec.data = result
    loop = result["voice_loop"]
    st, mem = loop["settings"], loop["memory"]
    sec.facts = [
        ("Device", loop["device"]),
        ("Models", f"{st['wake_word']} → {st['stt']} → {st['llm']} {st['quant']} "
                   f"({st['runtime']}) → {st['tts']}"),
        ("Memory", f"{mem['total_gb']:.2f} GB of {mem['usable_gb']:.1f} GB usable: "
                   + ("fits" if loop["fits"] else "DOES NOT FIT")),
    ]
    if loop["fits"]:
        sec.facts.append(("Wait for the first word", _rng(loop["time_to_first_audio_s"])))
        if loop["energy_wh_per_answer"]:
            sec.facts.append(("Energy per answer",
                              _rng(loop["energy_wh_per_answer"], lambda v: f"{v:.3g} Wh")))
        rows = [charts.RangeRow(s["stage"], (s["seconds"]["p10"], s["seconds"]["p50"],
                                             s["seconds"]["p90"]))
                for s in loop["stages"]]
        rows.append(charts.RangeRow("first audio (total)", (
            loop["time_to_first_audio_s"]["p10"], loop["time_to_first_audio_s"]["p50"],
            loop["time_to_first_audio_s"]["p90"])))
        sec.figures.append(Figure(
            charts.range_bars(rows, x_label="seconds", title="Voice loop latency by stage",
                              fmt=_secs),
            "Each bar runs from P10 to P90 with the P50 dot. The wait for the first word is "
            "end of speech + speech-to-text + the LLM reading the prompt + the first sentence "
            "and its synthesis; the rest of the answer is spoken while it is generated."))
    else:
        sec.findings.append(FindingView("error", loop["finding"],
                                        "choose a smaller model or quantization, a shorter "
                                        "context, or a device with more memory",
                                        rule="inference-fit"))
    compare = result["edge_vs_cloud"]
    if compare:
        sec.tables.append(Table(
            ["", "Where", "Wait for the first word", "Monthly", "Energy per answer"],
            [[k, r["where"], _rng(r["time_to_first_audio_s"]),
              fmt.money(r["monthly_usd"]),
              _rng(r["energy_wh_per_answer"], lambda v: f"{v:.3g} Wh")]
             for k, r in compare.items()],
            "On the device vs in the cloud: " + "; ".join(f"{k}: {r['note']}"
                                                         for k, r in compare.items())))
    if result["candidates"]:
        sec.tables.append(Table(
            ["Model", "Quant", "Memory (GB)", "Fits", "Decode tokens/s"],
            [[c["model"], c["quant"], f"{c.get('memory_gb', 0):.2f}",
              "yes" if c.get("fits") else "no",
              _rng(c.get("decode_tokens_per_s"), lambda v: f"{v:.3g}") if c.get("fits")
              else c.get("error", "does not fit")] for c in result["candidates"]],
            f"Other LLMs on {result['device']}"))
        for c in result["candidates"]:
            if c.get("finding"):
                sec.findings.append(FindingView("warning", c["finding"], rule="inference-fit"))
    sec.assumptions = list(result["assumptions"])
    sec.sources = ["llama.cpp discussion 4167 (Apple Silicon), llama.cpp discussion 15013 "
                   "(CUDA), geerlingguy/ai-benchmarks (Raspberry Pi, Ollama), whisper.cpp "
                   "issue 89 (bench), justine.lol/matmul (Raspberry Pi), devices catalog "
                   "(catalog/data/devices.csv)"]
    return sec
