"""`mlscope experiment`: analyze an A/B test, decide, and simulate bandit policies."""

from __future__ import annotations

from typing import Any

import click

from mlscope.cli.output import console, json_option, print_json


def _analysis_options(func: Any) -> Any:
    options = [
        click.argument("file", type=click.Path(dir_okay=False)),
        click.option("--metric", required=True, help="Column with the outcome (0/1 or numeric)."),
        click.option("--variant-col", default="variant", show_default=True,
                     help="Column with the variant each unit was assigned to."),
        click.option("--control", default=None,
                     help="Control variant (default: control, champion or A; else first by name)."),
        click.option("--weights", default=None,
                     help="Configured split, e.g. A=0.5,B=0.5 (default: equal)."),
        click.option("--sequential", is_flag=True,
                     help="Always-valid confidence sequences: safe to look every day."),
        click.option("--tuning", type=float, default=None,
                     help="Sequential tuning: planned total units (default: units seen)."),
        click.option("--alpha", type=float, default=0.05, show_default=True),
        click.option("--covariate", default=None,
                     help="Pre-period column for CUPED variance reduction."),
        click.option("--guardrail", "guardrails", multiple=True, metavar="COL[:higher-better]",
                     help="Metric that must not get worse (latency, error rate...)."),
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(file: str, metric: str, variant_col: str, control: str | None, weights: str | None,
         sequential: bool, tuning: float | None, alpha: float, covariate: str | None,
         guardrails: tuple[str, ...]) -> dict[str, Any]:
    from mlscope.errors import require

    require("scipy", "experiments")
    from mlscope.release.experiments.analysis import Guardrail, Settings, analyze, parse_weights
    from mlscope.release.experiments.decision import decide

    guards = tuple(Guardrail(g.split(":")[0], g.endswith(":higher-better")) for g in guardrails)
    settings = Settings(metric=metric, variant_col=variant_col, control=control,
                        weights=parse_weights(weights) if weights else None,
                        sequential=sequential, tuning=tuning, alpha=alpha,
                        covariate=covariate, guardrails=guards)
    analysis = analyze(file, settings)
    return analysis.as_dict(decide(analysis))


def _print(result: dict[str, Any]) -> None:
    from rich.table import Table

    out = console()
    srm = result["srm"]
    out.print(f"Method: {result['method']}; SRM p = {srm['p_value']:.3g}"
              + (" — MISMATCH, do not trust the comparison" if srm["mismatch"] else " (ok)"))
    table = Table("variant", "units", f"mean {result['metric']}", "lift vs control",
                  f"{1 - result['alpha']:.0%} interval", "p-value", "chance to win")
    table.add_row(result["control"], str(result["variants"][0]["n"]),
                  f"{result['variants'][0]['mean']:.4g}", "(control)", "", "", "")
    for v, c in zip(result["variants"][1:], result["comparisons"], strict=True):
        lift = c["lift"]
        table.add_row(v["name"], str(v["n"]), f"{v['mean']:.4g}", f"{lift['estimate']:+.2%}",
                      f"[{lift['ci_low']:+.2%}, {lift['ci_high']:+.2%}]",
                      f"{c['p_value']:.3g}", f"{c['chance_to_win']:.0%}")
    out.print(table)
    out.print(f"Decision: [bold]{result['decision']}[/bold]")
    for reason in result["reasons"]:
        out.print(f"  - {reason}")


@click.group()
def experiment() -> None:
    """A/B tests with sound statistics, decisions, and bandit simulations."""


@experiment.command()
@_analysis_options
def analyze(as_json: bool, **kwargs: Any) -> None:
    """Analyze a table with one row per unit: SRM, means, lift, p-value, chance to win."""
    result = _run(**kwargs)
    print_json(result) if as_json else _print(result)


@experiment.command("decide")
@_analysis_options
@click.option("--experiment", "name", default=None,
              help="Experiment name (as in `serve --experiment`), to record the decision.")
@click.option("--model", default=None, help="Registered model the challenger variant served.")
@click.option("--version", "version", type=click.IntRange(min=1), default=None,
              help="Its version: the decision is bound to this version's artifact digest.")
@click.option("--spec", "spec_path", default=None, type=click.Path(), envvar="MLSCOPE_SPEC",
              help="The committed mlscope.yaml (release policy and allowed signers).")
@click.option("--tracking-uri", default=None, metavar="URI")
def decide_cmd(as_json: bool, name: str | None, model: str | None, version: int | None,
               spec_path: str | None, tracking_uri: str | None, **kwargs: Any) -> None:
    """Ship, keep, continue or stop; with --experiment/--model/--version, signed into the
    audit log bound to that version's artifact, where `release promote` can require it."""
    result = _run(**kwargs)
    given = [n for n, v in (("--experiment", name), ("--model", model), ("--version", version))
             if v is not None]
    if given and len(given) != 3:
        from mlscope.errors import InputError

        raise InputError(f"{', '.join(given)} given without the others",
                         "to record the decision give --experiment, --model and --version")
    if given:
        from mlscope.release.experiments.record import record_decision
        from mlscope.release.promotion import Release

        rel = Release.open(spec_path, tracking_uri)
        assert name is not None and model is not None and version is not None
        result["audit"] = record_decision(rel.log, rel.entries(), rel.actor(), name, model,
                                          version, result, kwargs["file"])
    if as_json:
        print_json(result)
    else:
        _print(result)
        if "audit" in result:
            console().print(f"Recorded as audit entry {result['audit']['seq']}"
                            + ("" if result["audit"]["signed"] else " (UNSIGNED: local-dev)"))


@experiment.command()
@click.option("--arms", required=True, help="True success rate of each arm, e.g. 0.05,0.06,0.07.")
@click.option("--horizon", type=int, default=10_000, show_default=True)
@click.option("--policy", type=click.Choice(["thompson", "ucb1", "epsilon"]), required=True)
@click.option("--epsilon", type=float, default=0.1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@json_option
def simulate(arms: str, horizon: int, policy: str, epsilon: float, seed: int,
             as_json: bool) -> None:
    """Cumulative expected regret of a bandit policy on Bernoulli arms (seeded)."""
    from mlscope.release.experiments.bandits import parse_arms
    from mlscope.release.experiments.bandits import simulate as run

    result = run(parse_arms(arms), horizon, policy, seed, epsilon)
    if as_json:
        print_json(result)
        return
    console().print(f"{policy}: regret {result['regret']:.1f} after {horizon:,} pulls; "
                    f"best arm pulled {result['best_arm_share']:.0%} of the time")


@experiment.command()
@click.option("--store", "store_path", required=True, type=click.Path(dir_okay=False),
              help="The service's outcome log (SQLite).")
@click.option("--experiment", "name", required=True, help="Experiment name.")
@click.option("--metric", required=True)
@click.option("--aggregate", type=click.Choice(["sum", "mean"]), default="sum", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def export(store_path: str, name: str, metric: str, aggregate: str, output: str) -> None:
    """Write one row per unit (variant, metric) from the outcome log, for `analyze`."""
    from pathlib import Path

    from mlscope.release.experiments.store import OutcomeStore

    if not Path(store_path).is_file():
        from mlscope.errors import InputError

        raise InputError(f"no outcome log at {store_path}", "give the service's --store file")
    rows = OutcomeStore(store_path).export_units(name, metric, output, aggregate)
    console().print(f"{rows} units written to {output}")
