"""`mlscope calibrate -- CMD ...`: time a training command on data fractions and extrapolate."""

from __future__ import annotations

import sys
from typing import Any

import click

from mlscope.cli.output import console, fmt_hours, fmt_money, json_option, print_json

EXIT_INTERRUPTED = 130


def _progress_printer(as_json: bool) -> Any:
    """A rich progress bar on stderr when it is a terminal, else one line per finished run."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err = Console(stderr=True, highlight=False)
    if err.is_terminal:
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), console=err, transient=True)
        task = bar.add_task("calibrating", total=None)

        def update(planned: Any, run: Any, done: int, total: int) -> None:
            what = "warm-up" if planned.warmup else f"repeat {planned.repeat + 1}"
            threads = ", 1 thread" if planned.threads == 1 else ""
            bar.update(task, total=total, completed=done,
                       description=f"fraction {planned.fraction:g} ({what}{threads})")
        return bar, update

    def log(planned: Any, run: Any, done: int, total: int) -> None:
        if run is not None:
            err.print(f"run {done}/{total}: fraction {planned.fraction:g}"
                      f"{' warm-up' if planned.warmup else ''}"
                      f"{' 1 thread' if planned.threads == 1 else ''}: {run.wall_s:.2f} s, "
                      f"{run.peak_rss_mb:.0f} MB")
    return None, log


def _print_failure(exc: Any, plan: Any, as_json: bool) -> None:
    from mlscope.estimate.empirical.session import load_runs

    measured, planned = exc.measured, exc.planned
    if as_json:
        runs = [r.to_dict() for r in load_runs(plan).values()]
        print_json({"error": exc.one_line(), "fit": None, "runs": runs, "failed_run": {
            "fraction": planned.fraction, "repeat": planned.repeat,
            "exit_code": measured.exit_code, "stderr_tail": measured.stderr_tail}})
    else:
        click.echo(f"--- stderr of the failed run (last lines) ---\n{measured.stderr_tail}",
                   err=True)


def _duration(hours: float) -> str:
    # fmt_hours rounds to minutes; short jobs (and their instance estimates) need seconds.
    return f"{hours * 3600:,.0f} s" if hours < 1 / 60 else fmt_hours(hours)


def _table(result: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    runs = Table(title="Runs", title_justify="left")
    for col in ("fraction", "repeat", "threads", "wall s", "CPU s", "peak RSS MB"):
        runs.add_column(col, justify="right")
    for r in result.runs:
        label = "warm-up" if r.warmup else str(r.repeat + 1)
        runs.add_row(f"{r.fraction:g}", label, "1" if r.threads == 1 else "all",
                     f"{r.wall_s:.2f}", f"{r.cpu_s:.2f}", f"{r.peak_rss_mb:.0f}")
    out.print(runs)
    fit, pred = result.seconds, result.seconds.prediction
    params = ", ".join(f"{k}={v:.4g}" for k, v in fit.curve.parameters().items())
    out.print(f"Fit (seconds): {fit.curve.model} {escape('[' + params + ']')}, leave-one-out error "
              f"{fit.loo_error:.1%} (log), target is {fit.extrapolation_ratio:.1f}x the largest "
              "fraction")
    mem = result.memory.prediction
    out.print(f"Predicted at fraction {result.target_fraction:g}"
              f"{f' x {result.epochs:g} epochs' if result.epochs != 1 else ''} on this machine: "
              f"[bold]{pred.p50:,.1f} s[/] (P10 {pred.p10:,.1f} - P90 {pred.p90:,.1f} s), "
              f"peak RSS {mem.p50:,.0f} MB (P90 {mem.p90:,.0f} MB)")
    if result.instances:
        inst = Table(title="On AWS instances", title_justify="left")
        for col in ("instance", "vCPUs", "speed", "time P50 (P10-P90)", "on-demand P50",
                    "spot P50", "memory"):
            inst.add_column(col)
        for e in result.instances:
            h = e.hours
            inst.add_row(e.instance_type, str(e.vcpus), f"{e.speed_factor:g}",
                         f"{_duration(h['p50'])} ({_duration(h['p10'])}-{_duration(h['p90'])})",
                         fmt_money(e.usd_on_demand["p50"] if e.usd_on_demand else None),
                         fmt_money(e.usd_spot["p50"] if e.usd_spot else None),
                         "fits" if e.fits_memory else "[red]too small[/]")
        out.print(inst)
        p = result.parallel
        out.print(f"Parallel fraction {p.fraction:.2f} ({p.method}: {p.detail})")
    for w in result.warnings:
        out.print(f"[yellow]warning:[/] {w}")
    for a in result.assumptions:
        out.print(f"assumption: {a}")
    out.print(f"runs saved in {result.state_file}")


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--fractions", default="0.01,0.02,0.05,0.1", show_default=True,
              help="Data fractions to run at, comma-separated, each in (0, 1] (1% also works).")
@click.option("--repeats", default=2, show_default=True, type=click.IntRange(1, 100),
              help="Runs per fraction; repeats show how noisy the timings are.")
@click.option("--target-fraction", default=1.0, show_default=True, type=float,
              help="The fraction to predict (1.0 = all the data).")
@click.option("--epochs", default=1.0, show_default=True, type=click.FloatRange(min=0,
              min_open=True), help="Epochs of the real job when each run is one epoch.")
@click.option("--instance", "instances", multiple=True,
              help="AWS instance type to convert to hours and dollars (repeatable).")
@click.option("--region", default=None, help="AWS region for prices (default us-east-1).")
@click.option("--data", type=click.Path(), default=None,
              help="Dataset file or folder; a sample per fraction replaces {sample_path}.")
@click.option("--uses-env", is_flag=True,
              help="The command reads MLSCOPE_FRACTION itself (no placeholder in it).")
@click.option("--seed", default=0, show_default=True, help="Seed of the data samples and ranges.")
@click.option("--warmup/--no-warmup", default=True, show_default=True,
              help="One unmeasured run first (fills disk and import caches).")
@click.option("--serial-check/--no-serial-check", default=None,
              help="Also run the largest fraction on 1 thread to measure CPU scaling "
                   "(default: on with --instance).")
@click.option("--speed-factor", "speed_factors", multiple=True, metavar="FAMILY=X",
              help="Override an instance family's speed relative to this machine, e.g. c6i=0.9.")
@click.option("--extra-runs", default=8, show_default=True, type=click.IntRange(0, 1000),
              help="At most this many extra repeats at fractions whose runs disagree by "
                   "over 25 % (a busy machine slows some runs down).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True),
              default=None, help="Stop a run after this many seconds (counts as a failure).")
@click.option("--resume", is_flag=True, help="Continue the saved runs of this same calibration.")
@json_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def calibrate(fractions: str, repeats: int, target_fraction: float, epochs: float,
              instances: tuple[str, ...], region: str | None, data: str | None, uses_env: bool,
              seed: int, warmup: bool, serial_check: bool | None, speed_factors: tuple[str, ...],
              extra_runs: int, timeout_s: float | None, resume: bool, as_json: bool,
              command: tuple[str, ...]) -> None:
    """Run COMMAND on data fractions, fit how time and memory grow, predict the full job.

    Put the command after `--`. `{fraction}` in it (and the variable MLSCOPE_FRACTION) carries
    the fraction; with --data, `{sample_path}` is replaced by a seeded sample of the data.

    \b
    Example:
      mlscope calibrate --instance c6i.4xlarge -- python train.py --fraction {fraction}
    """
    from mlscope.catalog import get_catalog
    from mlscope.estimate.empirical.plan import check_fraction, parse_fractions
    from mlscope.estimate.empirical.session import CalibrationPlan, CommandFailedError, run_plan
    from mlscope.estimate.empirical.targets import parse_speed_factors

    chosen = parse_fractions(fractions)
    check_fraction(target_fraction, "target fraction")
    overrides = parse_speed_factors(speed_factors)
    for name in instances:  # fail on a typo before spending minutes on runs
        get_catalog().instance(name, region)
    plan = CalibrationPlan(
        command=list(command), fractions=chosen, repeats=repeats, uses_env=uses_env, data=data,
        seed=seed, warmup=warmup,
        serial_check=bool(instances) if serial_check is None else serial_check,
        timeout_s=timeout_s, extra_runs=extra_runs)
    bar, update = _progress_printer(as_json)
    try:
        if bar is not None:
            bar.start()
        try:
            result = run_plan(plan, resume=resume, progress=update,
                              target_fraction=target_fraction, epochs=epochs,
                              instances=instances, region=region, speed_overrides=overrides,
                              seed=seed)
        finally:
            if bar is not None:
                bar.stop()
    except CommandFailedError as exc:
        _print_failure(exc, plan, as_json)
        raise
    except KeyboardInterrupt:
        click.echo(f"Interrupted: finished runs are kept in {plan.state_path()}; continue with "
                   "the same command plus --resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if as_json:
        print_json(result.to_dict())
    else:
        _table(result)

