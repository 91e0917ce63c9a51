"""`mlscope estimate inference|speech|voice-loop|serving|edge-vs-cloud`: inference estimates.

Attached to the `estimate` group by `attach()` (one line in estimate_cmd.py). Each command only
parses, calls `mlscope.estimate.inference`, and prints a table or `--json`.
"""

from __future__ import annotations

from typing import Any

import click

from mlscope.cli.output import Table, console, json_option, print_json
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


def render_voice_loop(result: dict[str, Any], compare: dict[str, Any] | None = None) -> None:
    c = console()
    st = result["settings"]
    c.print(f"[bold]Voice loop on {result['device']}[/bold]: {st['wake_word']} -> {st['stt']} -> "
            f"{st['llm']} {st['quant']} ({st['runtime']}) -> {st['tts']}")
    mem = result["memory"]
    c.print(f"memory: {mem['total_gb']:.2f} GB of {mem['usable_gb']:.1f} GB usable "
            f"(LLM {mem['llm_gb']:.2f}, STT {mem['stt_gb']:.2f}, TTS {mem['tts_gb']:.2f}, "
            f"wake word {mem['wake_word_gb']:.2f})")
    if result["finding"]:
        c.print(f"[bold red]Finding:[/bold red] {result['finding']}")
    else:
        t = Table(title="Latency per stage (P50, P10 – P90)")
        t.add_column("stage", style="bold")
        t.add_column("seconds")
        t.add_column("in the wait for the answer")
        for stg in result["stages"]:
            t.add_row(stg["stage"], _rng(stg["seconds"], _secs),
                      "yes" if stg.get("in_response_time") else stg.get("note", "no"))
        c.print(t)
        c.print(f"[bold]time to first audio:[/bold] {_rng(result['time_to_first_audio_s'], _secs)}"
                f"; answer done (spoken): {_rng(result['time_to_answer_done_s'], _secs)}")
        if result["energy_wh_per_answer"]:
            c.print(f"energy per answer: {_rng(result['energy_wh_per_answer'])} Wh at "
                    f"{result['power_w']:g} W")
    if compare:
        t = Table(title="On the device vs in the cloud")
        for col in ("", "where", "first audio", "monthly", "energy / answer (Wh)"):
            t.add_column(col)
        for key, row in compare.items():
            t.add_row(key, row["where"], _rng(row["time_to_first_audio_s"], _secs),
                      fmt.money(row["monthly_usd"]), _rng(row["energy_wh_per_answer"]))
        c.print(t)
        for key, row in compare.items():
            c.print(f"  [dim]{key}: {row['note']}[/dim]")
    _print_assumptions(result)


@click.command("voice-loop")
@_device_options
@click.option("--llm", "llm_model", default="qwen2.5-1.5b", show_default=True)
@click.option("--params", type=QUANTITY, help="LLM parameter count instead of --llm.")
@click.option("--quant", "quant_name", type=click.Choice(QUANTS, case_sensitive=False),
              default="q4_k_m", show_default=True)
@click.option("--runtime", type=click.Choice(LLM_RUNTIMES), default="llama.cpp",
              show_default=True)
@click.option("--stt", "stt_model", default="whisper-base", show_default=True)
@click.option("--context", type=int, default=2048, show_default=True)
@click.option("--question-seconds", type=QUANTITY, default=4.0, show_default=True)
@click.option("--prompt-tokens", type=int, default=200, show_default=True)
@click.option("--answer-tokens", type=int, default=60, show_default=True)
@click.option("--endpoint-silence", type=float, default=0.5, show_default=True,
              help="Seconds of silence that end a question.")
@click.option("--compare-cloud", "cloud", help="Instance type for the same loop in the cloud.")
@click.option("--answers-per-day", type=QUANTITY, default=50.0, show_default=True)
@json_option
def voice_loop_cmd(device_name: str, memory_gb: float | None, bandwidth_gbs: float | None,
                   compute_tflops: float | None, llm_model: str, params: float | None,
                   quant_name: str, runtime: str, stt_model: str, context: int,
                   question_seconds: float, prompt_tokens: int, answer_tokens: int,
                   endpoint_silence: float, cloud: str | None, answers_per_day: float,
                   as_json: bool) -> None:
    """Wake word -> speech-to-text -> LLM -> text-to-speech on a device, stage by stage.

    Example: mlscope estimate voice-loop --device raspberry-pi-5 --llm qwen2.5-1.5b
    --compare-cloud g5.xlarge
    """
    from mlscope.errors import InputError

    if bandwidth_gbs is not None or compute_tflops is not None:
        raise InputError("voice-loop takes --memory-gb only", "drop --bandwidth-gbs and "
                         "--compute-tflops (use `estimate inference` for them)")
    if context <= 0:
        raise InputError(f"--context must be positive (got {context})", "e.g. --context 2048")
    if cloud is None:
        from mlscope.estimate.inference.voice_loop import estimate_voice_loop

        result = estimate_voice_loop(device_name, llm_model, quant_name, runtime, stt_model,
                                     context, question_seconds, prompt_tokens, answer_tokens,
                                     endpoint_silence, memory_gb, params).to_dict()
        compare = None
    else:
        from mlscope.estimate.inference.assistant import assistant_estimate
        from mlscope.spec.inference import InferenceSection

        sec = InferenceSection.model_validate({
            "device": device_name, "memory_gb": memory_gb, "stt": stt_model,
            "llm": {"model": llm_model, "quant": quant_name.lower(), "runtime": runtime,
                    "context": context},
            "loop": {"question_seconds": question_seconds, "prompt_tokens": prompt_tokens,
                     "answer_tokens": answer_tokens, "endpoint_silence_s": endpoint_silence},
            "answers_per_day": answers_per_day, "cloud": {"instance": cloud}})
        full = assistant_estimate(sec)
        result, compare = full["voice_loop"], full["edge_vs_cloud"]
        result["edge_vs_cloud"] = compare
    if as_json:
        print_json(result)
    else:
        render_voice_loop(result, compare)


@click.command("serving")
@click.option("--model", "model_name", help="Model name, e.g. llama-3-8b.")
@click.option("--params", type=QUANTITY, help="Parameter count instead of --model.")
@click.option("--quant", "quant_name", type=click.Choice(QUANTS, case_sensitive=False),
              default="f16", show_default=True)
@click.option("--runtime", type=click.Choice(["vllm", "tensorrt-llm", "llama.cpp"]),
              default="vllm", show_default=True)
@click.option("--instance", "instances", multiple=True,
              help="Instance types to compare [default: every GPU instance in the region].")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--target-latency-ms", type=QUANTITY, default=50.0, show_default=True,
              help="Per-token latency each user must see.")
@click.option("--requests-per-s", "--rps", "requests_per_s", type=QUANTITY,
              help="Request rate (average for --artifact) [default: 1 for an LLM].")
@click.option("--tokens-per-request", type=QUANTITY, default=500.0, show_default=True)
@click.option("--context", type=int, default=4096, show_default=True)
@click.option("--artifact", help="Folder of an MLflow Model (a classic model such as the "
              "recommender): measure its per-request CPU cost here and size CPU instances.")
@click.option("--p99-ms", type=float, help="With --artifact: p99 latency target.")
@click.option("--target-utilization", type=float, default=0.6, show_default=True,
              help="With --artifact: CPU utilization each instance is sized to.")
@click.option("--peak-to-average", type=float, default=3.0, show_default=True,
              help="With --artifact: peak request rate over the average (autoscaling max).")
@click.option("--min-instances", type=int, default=2, show_default=True,
              help="With --artifact: autoscaling floor (2 spans two availability zones).")
@click.option("--service", type=click.Choice(["ec2", "sagemaker"]), default="ec2",
              show_default=True, help="With --artifact: price EC2 or SageMaker ml.* types.")
@click.option("--requests", "load_requests", type=int, default=300, show_default=True,
              help="With --artifact: requests in the load test.")
@json_option
def serving_cmd(model_name: str | None, params: float | None, quant_name: str, runtime: str,
                instances: tuple[str, ...], region: str, target_latency_ms: float,
                requests_per_s: float | None, tokens_per_request: float, context: int,
                artifact: str | None, p99_ms: float | None, target_utilization: float,
                peak_to_average: float, min_instances: int, service: str,
                load_requests: int, as_json: bool) -> None:
    """Serve on AWS: an LLM (tokens/s per instance, instances, $ per 1M tokens) or, with
    --artifact, a classic model (measured CPU per request -> instances, autoscaling, $/month).

    Examples: mlscope estimate serving --model llama-3-8b --requests-per-s 2 --json;
    mlscope estimate serving --artifact model/ --rps 200 --p99-ms 50
    """
    if artifact is not None:
        from mlscope.cli.serving_classic_cmd import run_classic
        from mlscope.errors import ConflictError

        if model_name or params:
            raise ConflictError("--artifact sizes a classic model; --model/--params an LLM",
                                "give one of them")
        if requests_per_s is None:
            from mlscope.errors import InputError

            raise InputError("--artifact needs --rps (average requests per second)",
                             "e.g. --rps 200")
        run_classic(artifact, requests_per_s, p99_ms, region, service, target_utilization,
                    peak_to_average, min_instances, list(instances) or None, load_requests,
                    as_json)
        return
    requests_per_s = 1.0 if requests_per_s is None else requests_per_s
    from mlscope.estimate.inference.serving import serving_options

    result = serving_options(model_name, params, quant_name.lower(), runtime,
                             list(instances) or None, region, target_latency_ms / 1000,
                             requests_per_s, tokens_per_request, context)
    if as_json:
        print_json(result)
        return
    c = console()
    t = Table(title=f"Serving {result['model']} {result['quant']} with {runtime} in {region}: "
              f"{result['needed_tokens_per_s']:,.0f} tokens/s needed, "
              f"{target_latency_ms:g} ms a token")
    for col in ("instance", "batch", "tok/s", "limit", "n", "$/month", "$/1M", "spot",
                "3y SP"):
        t.add_column(col, no_wrap=True)
    short = {"memory for KV caches": "KV mem", "the latency target": "latency",
             "compute": "compute", "memory bandwidth": "bandwidth"}
    for o in result["options"][:15]:
        p = o["usd_per_million_tokens"]
        t.add_row(o["instance_type"], str(o["batch"]), f"{o['tokens_per_s']:,.0f}",
                  short.get(o["limited_by"], o["limited_by"]), str(o["instances"]),
                  fmt.money(o["monthly_usd"]["on-demand"]), fmt.money(p["on-demand"]),
                  fmt.money(p["spot"]), fmt.money(p["savings-3y"]))
    c.print(t)
    c.print("[dim]batch = sequences per instance at the latency target; n = instances for the "
            "request rate; $/month on-demand for n; $/1M output tokens on-demand, spot, 3-year "
            "savings plan[/dim]")
    if result["skipped"]:
        c.print(f"[dim]Left out: {'; '.join(result['skipped'][:6])}"
                + (" ..." if len(result["skipped"]) > 6 else "") + "[/dim]")
    _print_assumptions(result)


def _render_assistant(result: dict[str, Any]) -> None:
    render_voice_loop(result["voice_loop"], result["edge_vs_cloud"])
    c = console()
    if result["candidates"]:
        t = Table(title=f"Other LLMs on {result['device']}")
        for col in ("model", "quant", "memory GB", "fits", "decode tokens/s"):
            t.add_column(col)
        for cand in result["candidates"]:
            if "error" in cand:
                t.add_row(cand["model"], cand["quant"], "", "", cand["error"])
                continue
            t.add_row(cand["model"], cand["quant"], f"{cand['memory_gb']:.2f}",
                      "yes" if cand["fits"] else "[bold red]NO[/bold red]",
                      _rng(cand["decode_tokens_per_s"]) if cand["fits"] else "does not fit")
        c.print(t)
    for f in result["findings"]:
        c.print(f"[bold red]Finding:[/bold red] {f}")


def _wrap_spec(group: click.Group) -> None:
    """`mlscope estimate spec` on a spec with an `inference:` section and no training model
    shows the on-device estimate; every other spec goes to the training estimate unchanged."""
    spec_cmd = group.commands.get("spec")
    if spec_cmd is None or spec_cmd.callback is None:
        return
    training = spec_cmd.callback

    def callback(file: str, as_json: bool) -> None:
        from mlscope.spec import load_spec

        spec = load_spec(file)
        if spec.inference is None or spec.model.name or spec.model.params:
            training(file=file, as_json=as_json)
            return
        from mlscope.estimate.inference.assistant import assistant_estimate

        result = assistant_estimate(spec.inference)
        if as_json:
            print_json(result)
        else:
            _render_assistant(result)

    spec_cmd.callback = callback


COMMANDS: list[click.Command] = [inference_cmd, speech_cmd, voice_loop_cmd, serving_cmd]


def attach(group: click.Group) -> None:
    """Add the inference commands to `mlscope estimate`."""
    for command in COMMANDS:
        group.add_command(command)
    _wrap_spec(group)
