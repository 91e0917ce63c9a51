"""`mlscope estimate training|spec`: the analytic training estimate and the config search."""

from __future__ import annotations

from typing import Any

import click

from mlscope.cli.output import console, fmt_hours, fmt_money, fmt_num, json_option, print_json
from mlscope.cli.params import DURATION, QUANTITY
from mlscope.errors import ConflictError, InputError


@click.group()
def estimate() -> None:
    """Estimate training FLOPs, memory, hours and cost as P10/P50/P90 ranges."""


def _range(d: dict[str, float] | None, fmt: Any) -> str:
    if not d:
        return "n/a"
    return f"{fmt(d['p50'])}  ({fmt(d['p10'])} – {fmt(d['p90'])})"


def render_estimate(result: dict[str, Any]) -> None:
    """Print an estimate as a readable table (P50 with the P10–P90 range)."""
    from rich.table import Table

    c = console()
    t = Table(title="Training estimate (P50, with P10 – P90)", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    if result["method"] == "analytic-als":
        inst = result["instance"]
        t.add_row("method", "ALS (analytic, CPU)")
        t.add_row("instance", f"{inst['type']} ({inst['vcpus']} vCPU) in {inst['region']}")
    else:
        acc = result["accelerator"]
        model = result["model"]
        t.add_row("model", f"{model['name']} ({fmt_num(model['params'])} params)")
        if "samples" in result:
            t.add_row("samples x epochs", f"{fmt_num(result['samples'])} x {result['epochs']:g}")
        else:
            t.add_row("tokens", fmt_num(result["tokens"]))
        t.add_row("training FLOPs", fmt_num(result["flops"]))
        t.add_row("accelerator", f"{result.get('count') or '?'} x {acc['name']} "
                  f"({acc['peak_tflops']:g} TFLOPS, {acc['memory_gb']:g} GB)")
        if "instance" in result:
            inst = result["instance"]
            t.add_row("instance", f"{inst['instances']} x {inst['type']} in {inst['region']} "
                      f"({inst['price_quality']} prices)")
        if "strategy" in result:
            t.add_row("parallel strategy", result["strategy"]["description"])
        t.add_row("utilization (MFU)", _range(result["mfu"], lambda v: f"{v:.2f}"))
        if "hfu" in result:
            t.add_row("hardware FLOPs util.", _range(result["hfu"], lambda v: f"{v:.2f}"))
        t.add_row("accelerator-hours", _range(result["accelerator_hours"], fmt_num))
    if "wall_clock_hours" in result:
        t.add_row("wall-clock", _range(result["wall_clock_hours"], fmt_hours))
    if "cost_usd" in result:
        t.add_row(f"cost ({result.get('purchase', 'on-demand')})",
                  _range(result["cost_usd"], fmt_money))
        walls = result.get("wall_clock_by_purchase", {})
        for option, rng in result.get("cost_by_purchase", {}).items():
            if option != result.get("purchase"):
                extra = (f"; wall-clock {_range(walls[option], fmt_hours)}"
                         if option == "spot" and option in walls else "")
                t.add_row(f"  if {option}", _range(rng, fmt_money) + extra)
    if "energy_kwh" in result:
        t.add_row("energy", _range(result["energy_kwh"], lambda v: f"{v:,.0f} kWh"))
    mem = result.get("memory", {})
    if "per_accelerator_gb" in mem:
        fits = "fits" if mem["fits"] else "DOES NOT FIT"
        t.add_row("memory / accelerator", f"{mem['per_accelerator_gb']:.1f} of "
                  f"{mem['capacity_gb']:g} GB: {fits} (smallest count that fits: "
                  f"{mem['min_count']})")
    elif "per_instance_gb" in mem:
        t.add_row("memory", f"{mem['per_instance_gb']:.1f} of {mem['capacity_gb']:g} GiB")
    c.print(t)
    best = result.get("best")
    if best:
        carried = f" ({best['count']} x {best['accelerator']})" if best["accelerator"] else ""
        c.print(f"[bold]Recommended:[/bold] {best['instances']} x {best['instance_type']}"
                f"{carried} {best['purchase']} in "
                f"{best['region']}: {_range(best['wall_clock_hours'], fmt_hours)}, "
                f"{_range(best['cost_usd'], fmt_money)}")
    if result.get("search"):
        s = result["search"]
        c.print(f"[dim]{s['best_reason']}; searched {s['searched']:,} configurations, "
                f"{s['feasible']:,} fit in memory; Pareto front of {len(s['options'])}.[/dim]")
    c.print("[bold]Assumptions[/bold]")
    for a in result.get("assumptions", []):
        c.print(f"  • {a}")


@estimate.command()
@click.option("--params", type=QUANTITY, help="Total parameters, e.g. 7e9 or 7B.")
@click.option("--active-params", type=QUANTITY, help="MoE: parameters active per token.")
@click.option("--model", "model_name", help="A model from the zoo, e.g. llama-2-7b.")
@click.option("--layers", type=click.IntRange(min=1))
@click.option("--hidden", type=click.IntRange(min=1))
@click.option("--heads", type=click.IntRange(min=1))
@click.option("--kv-heads", type=click.IntRange(min=1))
@click.option("--vocab", type=click.IntRange(min=1))
@click.option("--tokens", type=QUANTITY, help="Training tokens per epoch, e.g. 2e12 or 2T.")
@click.option("--samples", type=QUANTITY,
              help="Vision models (--model resnet-50, vit-b-16, vit-l-14): samples per epoch.")
@click.option("--dataset", "dataset_path", type=click.Path(exists=True),
              help="Measure tokens from a local file or folder instead of --tokens.")
@click.option("--bytes-per-token", type=QUANTITY, help="With --dataset and no tokenizer.")
@click.option("--epochs", type=QUANTITY, default=1.0, show_default=True)
@click.option("--accelerator", "hardware", help="Accelerator (H100, A100-80GB, TPU-v4) or "
              "instance type (p4d.24xlarge, ml.p5.48xlarge).")
@click.option("--count", type=int, help="Number of accelerators.")
@click.option("--region", default=None, help="AWS region for prices [default: us-east-1].")
@click.option("--purchase", type=click.Choice(["on-demand", "spot", "savings-1y", "savings-3y"]),
              default="on-demand", show_default=True)
@click.option("--precision", type=click.Choice(["bf16", "fp16", "fp8", "fp32", "tf32"]),
              default="bf16", show_default=True)
@click.option("--zero", "zero_stage", type=click.Choice(["auto", "0", "1", "2", "3"]),
              default="auto", show_default=True, help="ZeRO stage / FSDP (3).")
@click.option("--micro-batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seq-len", type=click.IntRange(min=1), help="Sequence length (default: context).")
@click.option("--recompute", type=click.Choice(["auto", "none", "selective", "full"]),
              default="auto", show_default=True,
              help="Activation recomputation; auto: the cheapest that fits.")
@click.option("--tensor-parallel", "tensor_parallel", type=click.IntRange(min=1),
              help="Pin the tensor-parallel degree (default: the cheapest that fits).")
@click.option("--pipeline-parallel", "pipeline_parallel", type=click.IntRange(min=1),
              help="Pin the pipeline-parallel degree (default: the cheapest that fits).")
@click.option("--no-flash-attention", is_flag=True)
@click.option("--software-era", type=click.Choice(["modern", "pre-2023"]), default="modern",
              show_default=True,
              help="Training stack: pre-2023 prices a run without today's fused kernels.")
@click.option("--finetune", type=click.Choice(["none", "full", "lora", "lora-8bit", "qlora"]),
              default="none", show_default=True,
              help="LoRA adapters over 16-bit (lora), 8-bit or 4-bit (qlora) frozen weights.")
@click.option("--lora-rank", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--deadline", type=DURATION, help="Find the cheapest setup meeting it (e.g. 14d).")
@click.option("--budget", type=QUANTITY, help="Budget in USD for the config search.")
@click.option("--search-purchase", multiple=True,
              type=click.Choice(["on-demand", "spot", "savings-1y", "savings-3y"]),
              help="Purchase options searched [default: on-demand, and spot below 16 nodes].")
@click.option("--interruptions-per-node-hour", "interruption_rate", type=QUANTITY,
              help="Spot: interruptions per node-hour [default: 3e-4 to 3e-3, P10-P90].")
@click.option("--checkpoint-interval", type=DURATION, default="1h", show_default=True,
              help="Spot: hours between checkpoints (work lost per interruption: half).")
@click.option("--restart-time", type=DURATION, default="15m", show_default=True,
              help="Spot: time to get capacity back and reload a checkpoint.")
@click.option("--storage", type=click.Choice(["s3", "fsx-lustre", "ebs-gp3"]), default="s3",
              show_default=True, help="Where data and checkpoints live (throughput, cost).")
@json_option
def training(params: float | None, active_params: float | None, model_name: str | None,
             layers: int | None, hidden: int | None, heads: int | None, kv_heads: int | None,
             vocab: int | None, tokens: float | None, samples: float | None,
             dataset_path: str | None,
             bytes_per_token: float | None, epochs: float, hardware: str | None,
             count: int | None, region: str | None, purchase: str, precision: str,
             zero_stage: str, micro_batch: int, seq_len: int | None, recompute: str,
             tensor_parallel: int | None, pipeline_parallel: int | None,
             no_flash_attention: bool, software_era: str, finetune: str, lora_rank: int,
             deadline: float | None, budget: float | None, search_purchase: tuple[str, ...],
             interruption_rate: float | None, checkpoint_interval: float, restart_time: float,
             storage: str, as_json: bool) -> None:
    """Estimate training a transformer: FLOPs, memory fit, hours, dollars, energy.

    Example: mlscope estimate training --params 13e9 --tokens 2e12 --accelerator A100-80GB
    --count 2048 --json
    """
    # Imported here, and the search and dataset engine only when used: start-up stays small.
    from mlscope.estimate.shapes import resolve_shape
    from mlscope.estimate.training import TrainingSetup, estimate_training

    if tokens is not None and dataset_path is not None:
        raise ConflictError("--tokens and --dataset both give the dataset size",
                            "pass one of them")
    if count is not None and count <= 0:
        raise InputError(f"--count must be a positive integer (got {count})",
                         "pass the number of accelerators, e.g. --count 64")
    if count is not None and hardware is None:
        raise ConflictError("--count needs --accelerator", "name the accelerator, e.g. "
                            "--accelerator H100")
    if hardware is None and deadline is None and budget is None:
        raise InputError("no hardware to estimate on",
                         "pass --accelerator H100 (or an instance type), or --deadline/--budget "
                         "to search the catalog")
    spot = _spot_assumptions(interruption_rate, checkpoint_interval, restart_time)
    if _is_vision(model_name) or samples is not None:
        _vision(model_name, samples, tokens, epochs, hardware, count, region, purchase,
                micro_batch, deadline, budget, spot, storage, as_json)
        return
    measured = None
    if dataset_path is not None:
        from mlscope.estimate.api import measure_dataset_tokens

        measured = measure_dataset_tokens(dataset_path, bytes_per_token)
        tokens = measured["tokens"]
    if tokens is None:
        raise InputError("the dataset size is missing", "pass --tokens 2e12 or --dataset PATH")
    shape = resolve_shape(model=model_name, params=params, active_params=active_params,
                          layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads,
                          vocab=vocab)
    setup = TrainingSetup(shape=shape, tokens=tokens * epochs, precision=precision,
                          zero_stage=None if zero_stage == "auto" else int(zero_stage),
                          micro_batch=micro_batch, seq_len=seq_len,
                          recompute=None if recompute == "auto" else recompute,
                          flash_attention=not no_flash_attention, finetune=finetune,
                          lora_rank=lora_rank, tensor_parallel=tensor_parallel,
                          pipeline_parallel=pipeline_parallel, software_era=software_era)
    searching = deadline is not None or budget is not None
    result: dict[str, Any] = {}
    if hardware is not None and (count is not None or not searching):
        result = estimate_training(setup, hardware, count, region, purchase, spot,
                                   storage=storage).to_dict()
    if searching:
        from mlscope.estimate.recommend import search

        is_acc = hardware is not None and _is_accelerator(hardware)
        rec = search(setup, deadline, budget, regions=[region] if region else None,
                     purchases=list(search_purchase) or None,
                     accelerators=[hardware] if hardware and count is None and is_acc
                     else None,
                     instance_types=[hardware] if hardware and not is_acc else None,
                     spot=spot, storage=storage)
        rec_dict = rec.to_dict()
        if not result and rec.best is not None:
            # The table shows the recommended configuration, so the two never disagree.
            result = estimate_training(setup, rec.best.instance.instance_type, rec.best.count,
                                       rec.best.instance.region, rec.best.purchase,
                                       spot, storage=storage).to_dict()
            result["count_source"] = "search"
        elif not result:
            result = {"method": "analytic-transformer", "flops": setup.flops().model_flops,
                      "assumptions": list(setup.flops().assumptions)}
        result.update({"search": rec_dict, "best": rec_dict["best"],
                       "options": rec_dict["options"]})
    if measured is not None:
        result["dataset"] = measured
        result.setdefault("assumptions", []).append(
            f"tokens measured from {dataset_path}: {measured.get('method')}")
    if epochs != 1.0:
        result.setdefault("assumptions", []).append(f"{epochs:g} epochs over the data")
    if as_json:
        print_json(result)
    elif "accelerator" in result:
        render_estimate(result)
    else:
        c = console()
        c.print(f"[bold red]No configuration found:[/bold red] {result['search']['best_reason']}")


def _is_vision(name: str | None) -> bool:
    if not name:
        return False
    from mlscope.estimate.vision import find_vision_model

    return find_vision_model(name) is not None


def _vision(model: str | None, samples: float | None, tokens: float | None, epochs: float,
            hardware: str | None, count: int | None, region: str | None, purchase: str,
            micro_batch: int, deadline: float | None, budget: float | None, spot: Any,
            storage: str, as_json: bool) -> None:
    from mlscope.estimate.vision import estimate_vision, vision_names

    if not model or not _is_vision(model):
        raise InputError("--samples is for vision models",
                         f"pass --model {' or '.join(vision_names()[:3])}, or --tokens for a "
                         "transformer")
    if tokens is not None:
        raise ConflictError("--tokens is for transformers; a vision model trains on --samples",
                            "pass --samples 1.28M")
    if samples is None:
        raise InputError("the dataset size is missing", "pass --samples 1.28M --epochs 90")
    if deadline is not None or budget is not None:
        raise InputError("the config search covers transformers only",
                         "pass --accelerator and --count for a vision model")
    if hardware is None or count is None:
        raise InputError("a vision estimate needs the hardware",
                         "pass --accelerator A100 --count 8")
    result = estimate_vision(model, samples, epochs, hardware, count, region, purchase,
                             micro_batch=micro_batch if micro_batch > 1 else 64, spot=spot,
                             storage=storage)
    if as_json:
        print_json(result)
    else:
        render_estimate(result)


def _spot_assumptions(rate: float | None, interval: float, restart: float) -> Any:
    from mlscope.core.ranges import Range
    from mlscope.pricing import DEFAULT_SPOT, SpotAssumptions

    return SpotAssumptions(
        Range(rate) if rate is not None else DEFAULT_SPOT.interruptions_per_node_hour,
        interval, restart)


def _is_accelerator(name: str) -> bool:
    from mlscope.catalog import get_catalog

    return get_catalog().find_accelerator(name) is not None


@estimate.command("spec")
@click.argument("file", type=click.Path())
@json_option
def spec_cmd(file: str, as_json: bool) -> None:
    """Estimate one training run of the project in FILE (mlscope.yaml)."""
    from mlscope.estimate.api import estimate_spec
    from mlscope.spec import load_spec

    result = estimate_spec(load_spec(file))
    if as_json:
        print_json(result)
    else:
        render_estimate(result)
__import__("mlscope.cli.inference_cmd", fromlist=["attach"]).attach(estimate)  # issue 19 commands
