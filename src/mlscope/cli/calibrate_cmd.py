"""`mlscope calibrate -- CMD ...`: time a training command on data fractions and extrapolate."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from mlscope.cli.output import console, fmt_hours, fmt_money, json_option, print_json

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
EXIT_TERMINATED = 143  # 128 + SIGTERM


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
            what = ("warm-up" if planned.warmup else "fixed cost" if planned.fixed
                    else f"repeat {planned.repeat + 1}")
            threads = ", 1 thread" if planned.threads == 1 else ""
            bar.update(task, total=total, completed=done,
                       description=f"fraction {planned.fraction:g} ({what}{threads})")
        return bar, update

    def log(planned: Any, run: Any, done: int, total: int) -> None:
        if run is not None:
            err.print(_progress_line(planned, run, done), markup=False)
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
    size_col = "iterations" if result.target_iterations else "fraction"
    for col in (size_col, "run", "threads", "wall s", "CPU s", "peak RSS MB"):
        runs.add_column(col, justify="right")
    for r in result.runs:
        label = ("warm-up" if r.warmup else "fixed" if r.fixed else "over budget"
                 if r.over_budget else str(r.repeat + 1))
        size = str(r.iterations) if r.iterations is not None else f"{r.fraction:g}"
        runs.add_row(size, label, "1" if r.threads == 1 else "all",
                     f"{r.wall_s:.2f}", f"{r.cpu_s:.2f}", f"{r.peak_rss_mb:.0f}")
    out.print(runs)
    fit, pred = result.seconds, result.seconds.prediction
    params = ", ".join(f"{k}={v:.4g}" for k, v in fit.curve.parameters().items())
    k = fit.exponent
    out.print(f"Fit (seconds): {fit.curve.model} {escape('[' + params + ']')}, exponent at the "
              f"target {k.p50:.2f} (P10 {k.p10:.2f} - P90 {k.p90:.2f}), leave-one-out error "
              f"{fit.loo_error:.1%} (log), target is {fit.extrapolation_ratio:.1f}x the largest "
              "size")
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
    for line in _plan_lines(result):
        out.print(line, markup=False)
    out.print(f"runs saved in {result.state_file}")


def _plan_lines(result: Any) -> list[str]:
    plan = result.plan
    if not plan:
        return []
    if plan.get("mode") != "budget":
        return [f"Plan: the given fractions ({plan.get('stop_reason')}), "
                f"{plan.get('spent_s', 0):.1f} s spent"]
    grown = [s for s in plan.get("steps", []) if s["kind"] == "grow"]
    sizes = ", ".join(f"{s['size']:g}" for s in grown)
    what = "iterations" if plan.get("axis") == "iterations" else "fractions"
    if plan.get("axis") == "iterations" and result.target_iterations:
        sizes = ", ".join(str(round(s["size"] * result.target_iterations)) for s in grown)
    lines = [f"Plan: budget {plan['budget_s']:.0f} s for the whole calibration, "
             f"{plan.get('spent_s', 0):.1f} s spent on {len(plan.get('steps', []))} runs plus "
             f"mlscope's start-up and a reserve for the fit ({plan.get('overhead_s', 0):.1f} s); "
             f"growing {what} {sizes}; stopped because {plan.get('stop_reason')}"]
    if plan.get("serial_check"):
        lines.append(f"Serial check {plan['serial_check']}")
    return lines


def _progress_line(planned: Any, run: Any, done: int) -> str:
    kind = ("warm-up" if planned.warmup else "fixed cost" if planned.fixed
            else "1 thread" if planned.threads == 1 else f"repeat {planned.repeat + 1}")
    over = " (stopped: end of the budget)" if run.over_budget else ""
    size = f"iterations {run.iterations}" if run.iterations is not None else (
        f"fraction {planned.fraction:g}")
    return (f"run {done}: {size} {kind}: {run.wall_s:.2f} s, {run.peak_rss_mb:.0f} MB{over}")


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--budget", "budget", default=None, metavar="DURATION",
              help="Time for the whole calibration (the runs, mlscope's own start-up and the "
                   "fit), e.g. 60s, 5m (default 3m when no --fractions are given): sizes grow "
                   "geometrically while it allows.")
@click.option("--fractions", default=None,
              help="Instead of a budget: data fractions to run at, comma-separated, each in "
                   "(0, 1] (1% also works).")
@click.option("--repeats", default=None, type=click.IntRange(1, 100),
              help="Runs per size [default: 2 with --fractions, 1 with a budget, which spends "
                   "what is left on repeats].")
@click.option("--axis", type=click.Choice(["fraction", "iterations"]), default="fraction",
              show_default=True,
              help="What grows: the data fraction, or iterations (epochs, boosting rounds, ALS "
                   "iterations) at full data; the command then takes {iterations}.")
@click.option("--target-iterations", type=click.IntRange(2), default=None,
              help="With --axis iterations: the iterations of the real job.")
@click.option("--iterations", "iteration_list", default=None,
              help="With --axis iterations, instead of a budget: iteration counts to run, "
                   "e.g. 1,2,4,8.")
@click.option("--fixed-fraction", type=click.FloatRange(0, 1), default=0.001, show_default=True,
              help="Size of the run that measures the fixed cost (start-up, loading); 0 = none.")
@click.option("--size-by", default=None, metavar="COLUMNS",
              help="Columns whose distinct counts drive the cost (e.g. user,item), counted "
                   "in each --data sample; the fit follows them instead of rows.")
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
              help="The command reads MLSCOPE_FRACTION (or MLSCOPE_ITERATIONS) itself.")
@click.option("--seed", default=0, show_default=True, help="Seed of the data samples and ranges.")
@click.option("--warmup/--no-warmup", default=None,
              help="One unmeasured run first (fills disk and import caches) [default: on with "
                   "--fractions; off with a budget, where the fixed-cost run is repeated "
                   "instead and its fastest run counts].")
@click.option("--serial-check/--no-serial-check", default=None,
              help="Also run on 1 thread to measure CPU scaling (default: on with --instance).")
@click.option("--speed-factor", "speed_factors", multiple=True, metavar="FAMILY=X",
              help="Override an instance family's speed relative to this machine, e.g. c6i=0.9.")
@click.option("--basis", type=click.Choice(["auto", "cpu", "wall"]), default="auto",
              show_default=True,
              help="Fit CPU seconds (then x the measured wall/CPU ratio) or wall seconds; auto "
                   "picks CPU for CPU-bound jobs, whose wall time on a shared machine follows "
                   "the neighbours' load.")
@click.option("--extra-runs", default=8, show_default=True, type=click.IntRange(0, 1000),
              help="With --fractions: at most this many extra repeats at fractions whose runs "
                   "disagree by over 25 % (a busy machine slows some runs down).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True),
              default=None, help="Stop a run after this many seconds (counts as a failure).")
@click.option("--resume", is_flag=True, help="Continue the saved runs of this same calibration.")
@click.option("--on", "where", type=click.Choice(["local", "sagemaker"]), default="local",
              show_default=True,
              help="Where the runs execute: here, or as SageMaker training jobs on --instance.")
@click.option("--sagemaker-image", default=None, help="With --on sagemaker: the training image.")
@click.option("--sagemaker-role", default=None, help="With --on sagemaker: the execution role ARN.")
@click.option("--sagemaker-output", default=None, metavar="S3_URI",
              help="With --on sagemaker: where the jobs write their output.")
@json_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def calibrate(budget: str | None, fractions: str | None, repeats: int | None, axis: str,
              target_iterations: int | None, iteration_list: str | None, fixed_fraction: float,
              size_by: str | None, target_fraction: float, epochs: float,
              instances: tuple[str, ...], region: str | None, data: str | None, uses_env: bool,
              seed: int, warmup: bool | None, serial_check: bool | None,
              speed_factors: tuple[str, ...], basis: str, extra_runs: int,
              timeout_s: float | None, resume: bool, where: str,
              sagemaker_image: str | None, sagemaker_role: str | None,
              sagemaker_output: str | None, as_json: bool, command: tuple[str, ...]) -> None:
    """Run COMMAND on growing sizes, fit how time and memory grow, predict the full job.

    Put the command after `--`. `{fraction}` in it (and the variable MLSCOPE_FRACTION) carries
    the fraction; with --data, `{sample_path}` is replaced by a seeded sample of the data;
    with --axis iterations, `{iterations}` carries the iteration count.

    \b
    Examples:
      mlscope calibrate --budget 60s --json -- python train.py --fraction {fraction}
      mlscope calibrate --axis iterations --target-iterations 30 --budget 2m \\
          -- python train_als.py --iterations {iterations}
    """
    import time

    entered = time.monotonic()
    from mlscope.catalog import get_catalog
    from mlscope.errors import ConflictError, require
    from mlscope.estimate.empirical.budget import DEFAULT_BUDGET_S, parse_budget
    from mlscope.estimate.empirical.plan import check_fraction, parse_fractions
    from mlscope.estimate.empirical.session import CalibrationPlan, CommandFailedError, run_plan
    from mlscope.estimate.empirical.targets import parse_speed_factors

    require("psutil", "calibrate")  # measures every run: fail before starting any
    if fractions is not None and budget is not None:
        raise ConflictError("--fractions and --budget both choose the runs",
                            "give one of them")
    chosen = parse_fractions(fractions) if fractions is not None else None
    if axis == "iterations":
        if fractions is not None:
            raise ConflictError("--fractions is for --axis fraction",
                                "with --axis iterations give --iterations 1,2,4 or --budget")
        if target_iterations is None:
            from mlscope.errors import InputError

            raise InputError("--axis iterations needs the iterations of the real job",
                             "add --target-iterations N, e.g. 30")
        if iteration_list is not None:
            chosen = _iteration_sizes(iteration_list, target_iterations)
    elif iteration_list is not None or target_iterations is not None:
        raise ConflictError("--iterations and --target-iterations need --axis iterations",
                            "add --axis iterations")
    budget_s = None
    if chosen is None:
        budget_s = parse_budget(budget) if budget is not None else DEFAULT_BUDGET_S
    check_fraction(target_fraction, "target fraction")
    overrides = parse_speed_factors(speed_factors)
    for name in instances:  # fail on a typo before spending minutes on runs
        get_catalog().instance(name, region)
    runner = None
    if where == "sagemaker":
        from mlscope.estimate.empirical.sagemaker import sagemaker_runner

        runner = sagemaker_runner(instances, region, sagemaker_image, sagemaker_role,
                                  sagemaker_output)
    from mlscope.estimate.empirical.drivers import parse_columns

    plan = CalibrationPlan(
        command=list(command), fractions=chosen,
        repeats=repeats or (2 if chosen is not None else 1), uses_env=uses_env, data=data,
        seed=seed, warmup=(chosen is not None) if warmup is None else warmup,
        serial_check=(bool(instances) and where == "local") if serial_check is None
        else serial_check,
        timeout_s=timeout_s, extra_runs=extra_runs, budget_s=budget_s, axis=axis,
        target_iterations=target_iterations, fixed=fixed_fraction or None,
        size_by=parse_columns(size_by) if size_by is not None else None)
    from mlscope.estimate.empirical.measure import stop_signals_interrupt

    if budget_s is not None:
        plan.overhead_s = _overhead_s(entered)

    bar, update = _progress_printer(as_json)
    extra: dict[str, Any] = {} if runner is None else {"runner": runner}
    try:
        # Ctrl-C (or SIGTERM) stops the run in progress and keeps the finished ones, even
        # where this process was started with SIGINT ignored (a script's background job).
        with stop_signals_interrupt():
            if bar is not None:
                bar.start()
            try:
                result = run_plan(plan, resume=resume, progress=update,
                                  target_fraction=target_fraction, epochs=epochs,
                                  instances=instances, region=region,
                                  speed_overrides=overrides, seed=seed, basis=basis, **extra)
            finally:
                if bar is not None:
                    bar.stop()
    except CommandFailedError as exc:
        _print_failure(exc, plan, as_json)
        raise
    except KeyboardInterrupt as exc:
        click.echo(f"Interrupted: finished runs are kept in {plan.state_path()}; continue with "
                   "the same command plus --resume", err=True)
        sys.exit(EXIT_TERMINATED if getattr(exc, "signum", None) == signal.SIGTERM
                 else EXIT_INTERRUPTED)
    if as_json:
        print_json(result.to_dict())
    else:
        _table(result)


# The fit and the output after the runs cost less than mlscope's start-up (measured: ~0.1 s
# against ~0.2 s on a quiet machine, both slower alike on a busy one): reserve half the
# start-up, and no less than FIT_RESERVE_MIN_S.
FIT_RESERVE_FACTOR = 0.5
FIT_RESERVE_MIN_S = 0.3


def _overhead_s(entered: float) -> float:
    """The budget spent before the first run plus the reserve for the fit: `--budget` covers
    it all. Spent before: since this process started (the kernel's record) when the process
    is mlscope itself; since the command was entered (`entered`, monotonic) when mlscope runs
    inside another program (a test runner, a notebook), whose start-up is not ours."""
    import contextlib
    import time
    from pathlib import Path

    import psutil

    startup = time.monotonic() - entered
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if Path(sys.argv[0]).name == "mlscope" or getattr(spec, "name", None) == "mlscope.__main__":
        with contextlib.suppress(psutil.Error):
            startup = max(time.time() - psutil.Process().create_time(), startup)
    return startup + max(FIT_RESERVE_MIN_S, FIT_RESERVE_FACTOR * startup)


def _iteration_sizes(text: str, target: int) -> list[float]:
    from mlscope.errors import InputError

    values = []
    for item in text.split(","):
        try:
            n = int(item.strip())
        except ValueError:
            n = 0
        if not 1 <= n <= target:
            raise InputError(f"iteration count '{item.strip()}' is not in 1..{target}",
                             "give whole counts up to --target-iterations, e.g. 1,2,4,8")
        values.append(n / target)
    if len(set(values)) < 2:
        raise InputError("need at least two different iteration counts", "e.g. --iterations 1,2,4")
    return sorted(set(values))
