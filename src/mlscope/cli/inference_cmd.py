"""`mlscope estimate inference|speech|voice-loop|serving|edge-vs-cloud`: inference estimates.

Attached to the `estimate` group by `attach()` (one line in estimate_cmd.py). Each command only
parses, calls `mlscope.estimate.inference`, and prints a table or `--json`.
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from mlscope.cli.output import console, json_option, print_json
from mlscope.cli.params import QUANTITY
from mlscope.core import fmt

QUANTS = ["q4_0", "q4_k_m", "q5_k_m", "q8_0", "f16"]
LLM_RUNTIMES = ["llama.cpp", "ollama", "mlc"]


def _rng(d: dict[str, float] | None, f: Any = fmt.num) -> str:
    if not d:
        return "n/a"
    return f"{f(d['p50'])}  ({f(d['p10'])} – {f(d['p90'])})"


def _secs(v: float) -> str:
    if v < 1:
        return f"{v * 1000:,.0f} ms"
    return f"{v:,.2f} s" if v < 60 else f"{v / 60:,.1f} min"


def _device_options(func: Any) -> Any:
    for opt in reversed([
        click.option("--device", "device_name", required=True,
                     help="Device id (raspberry-pi-5, apple-m2-max, jetson-orin-nano, ...) or an "
                     "AWS instance type (g5.xlarge)."),
        click.option("--memory-gb", type=QUANTITY, help="Memory of your configuration."),
        click.option("--bandwidth-gbs", type=QUANTITY, help="Override the memory bandwidth."),
        click.option("--compute-tflops", type=QUANTITY, help="Override the compute peak."),
    ]):
        func = opt(func)
    return func


def _print_assumptions(result: dict[str, Any]) -> None:
    c = console()
    c.print("[bold]Assumptions[/bold]")
    for a in result.get("assumptions", []):
        c.print(f"  • {a}")


@click.command("inference")
@click.option("--model", "model_name", help="Model name, e.g. llama-3.2-3b, llama-2-7b.")
@click.option("--params", type=QUANTITY, help="Parameter count instead of --model, e.g. 7e9.")
@click.option("--quant", "quant_name", type=click.Choice(QUANTS, case_sensitive=False),
              default="q4_k_m", show_default=True)
@_device_options
@click.option("--runtime", type=click.Choice(LLM_RUNTIMES), default="llama.cpp",
              show_default=True)
@click.option("--context", type=int, default=4096, show_default=True,
              help="Context length the KV cache is sized for.")
@click.option("--prompt-tokens", type=int, default=128, show_default=True,
              help="Prompt length for the time to first token.")
@click.option("--weights-gb", type=QUANTITY, help="Exact size of your GGUF file.")
@json_option
def inference_cmd(model_name: str | None, params: float | None, quant_name: str,
                  device_name: str, memory_gb: float | None, bandwidth_gbs: float | None,
                  compute_tflops: float | None, runtime: str, context: int, prompt_tokens: int,
                  weights_gb: float | None, as_json: bool) -> None:
    """Will an LLM run on a device, and how fast: memory, decode and prefill tokens/s.

    Example: mlscope estimate inference --model llama-3.2-3b --quant q4_k_m
    --device raspberry-pi-5 --json
    """
    from mlscope.estimate.inference.llm import estimate_llm

    result = estimate_llm(model_name, params, quant_name, device_name, runtime, context,
                          prompt_tokens, weights_gb, memory_gb, bandwidth_gbs,
                          compute_tflops).to_dict()
    if as_json:
        print_json(result)
        return
    c = console()
    t = Table(title=f"{result['model']['name']} {result['quant']} on {result['device']['name']} "
              f"({result['runtime']})", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    mem = result["memory"]
    verdict = "fits" if result["fits"] else "[bold red]DOES NOT FIT[/bold red]"
    t.add_row("memory", f"{result['memory_gb']:.2f} GB of {mem['usable_gb']:.1f} GB usable: "
              f"{verdict} (weights {mem['weights_gb']:.2f}, KV cache {mem['kv_cache_gb']:.2f}, "
              f"overhead {mem['overhead_gb']:.2f})")
    t.add_row("decode tokens/s", _rng(result["decode_tokens_per_s"]))
    t.add_row(f"  at {result['context']:,} tokens of context",
              _rng(result["decode_tokens_per_s_full_context"]))
    t.add_row("prefill tokens/s", _rng(result["prefill_tokens_per_s"]))
    t.add_row(f"first token ({result['prompt_tokens']} prompt tokens)",
              _rng(result["time_to_first_token_s"], _secs))
    c.print(t)
    if result["finding"]:
        c.print(f"[bold red]Finding:[/bold red] {result['finding']}")
    _print_assumptions(result)


@click.command("speech")
@click.option("--model", "model_name", default="whisper-base", show_default=True,
              help="whisper-tiny|base|small|medium|large-v3|large-v3-turbo, distil-large-v3.")
@_device_options
@click.option("--runtime", type=click.Choice(["whisper.cpp"]), default="whisper.cpp",
              show_default=True)
@click.option("--audio-seconds", type=QUANTITY, default=5.0, show_default=True,
              help="Length of one utterance, for its latency.")
@json_option
def speech_cmd(model_name: str, device_name: str, memory_gb: float | None,
               bandwidth_gbs: float | None, compute_tflops: float | None, runtime: str,
               audio_seconds: float, as_json: bool) -> None:
    """Speech-to-text on a device: real-time factor and latency per utterance.

    Example: mlscope estimate speech --model whisper-base --device raspberry-pi-5 --json
    """
    from mlscope.estimate.inference.speech import estimate_speech

    result = estimate_speech(model_name, device_name, runtime, audio_seconds,
                             memory_gb=memory_gb, bandwidth_gbs=bandwidth_gbs,
                             compute_tflops=compute_tflops).to_dict()
    if as_json:
        print_json(result)
        return
    c = console()
    t = Table(title=f"{result['model']} on {result['device']['name']} ({runtime})",
              show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    t.add_row("real-time factor", _rng(result["real_time_factor"],
                                        lambda v: f"{v:.3f}"))
    t.add_row(f"latency, {result['utterance_seconds']:g} s utterance",
              _rng(result["utterance_latency_s"], _secs))
    t.add_row("encoder per 30 s window", _rng(result["encode_seconds_per_window"], _secs))
    verdict = "fits" if result["fits"] else "DOES NOT FIT"
    t.add_row("memory", f"{result['memory_gb']:.2f} GB ({verdict})")
    c.print(t)
    _print_assumptions(result)


COMMANDS: list[click.Command] = [inference_cmd, speech_cmd]


def attach(group: click.Group) -> None:
    """Add the inference commands to `mlscope estimate`."""
    for command in COMMANDS:
        group.add_command(command)
