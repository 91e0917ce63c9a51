"""`mlscope cost` (run-rate, schedules, diff) and `mlscope export schedules`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from mlscope.cli.output import Table, console, escape, fmt_hours, fmt_money, json_option, print_json
from mlscope.errors import InputError

MONTH_HELP = "Month as YYYY-MM (default: the current month, UTC)."


def _month(value: str | None) -> tuple[int, int] | None:
    from mlscope.costs.schedules import parse_month

    return parse_month(value) if value else None


def _holidays(values: tuple[str, ...]) -> list[date]:
    out = []
    for value in values:
        try:
            out.append(date.fromisoformat(value))
        except ValueError:
            raise InputError(f"holiday '{value}' is not a date", "write it as YYYY-MM-DD") from None
    return out


class CostGroup(click.Group):
    """`mlscope cost FILE` runs the report; `mlscope cost schedule|diff ...` the subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["report", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "FILE [--month YYYY-MM] [--months N] "
                              "[--budget USD] [--json] | COMMAND ...")


@click.group(cls=CostGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cost() -> None:
    """Monthly run-rate, schedules, savings and budget risk.

    `mlscope cost FILE` prices every environment of the spec (with and without schedules),
    P10/P50/P90 from a seeded Monte Carlo, and with a budget the probability of overrun and
    what drives it. See `mlscope cost report --help` for its options.
    """


@cost.command("report")
@click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--month", help=MONTH_HELP)
@click.option("--months", type=int, default=1, show_default=True, help="Months to cover.")
@click.option("--budget", type=float, help="Monthly budget in USD (overrides budget.monthly_usd).")
@click.option("--draws", type=int, default=10_000, show_default=True, help="Monte Carlo draws.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@json_option
def report_cmd(file: Path, month: str | None, months: int, budget: float | None, draws: int,
               seed: int, as_json: bool) -> None:
    """Price the environments of FILE (the default `mlscope cost FILE`)."""
    from mlscope.costs.runrate import estimate_costs
    from mlscope.costs.spec_checks import COST_CHECKS
    from mlscope.spec.loader import load_spec

    if budget is not None and budget <= 0:
        raise InputError(f"--budget must be positive (got {budget})", "pass e.g. --budget 5000")
    spec = load_spec(file, COST_CHECKS)
    result = estimate_costs(spec, _month(month), months, draws, seed, budget)
    pauses = _mwaa_pauses(spec)
    if pauses:
        result["mwaa_pause"] = pauses
    if as_json:
        print_json(result)
        return
    _print_report(result)
    for p in pauses:
        console().print(
            f"MWAA: {p['environment']}'s {p['environment_class']} cannot be stopped; deleting it "
            f"off hours and recreating it would save {fmt_money(p['saving_usd'])}/month of "
            f"{fmt_money(p['always_on_usd'])} (`mlscope dags mwaa-cost {file}` gives the plan "
            "and its limits)")


def _mwaa_pauses(spec: Any) -> list[dict[str, Any]]:
    """What pausing each scheduled environment's MWAA environment would save (dags.mwaa)."""
    from mlscope.dags.mwaa import pause_plan
    from mlscope.spec.costs import MwaaResource

    out = []
    for env in spec.environments:
        # Only an environment that is itself off at night (dev, typically) can pause Airflow.
        if (not any(isinstance(r, MwaaResource) for r in env.resources)
                or env.schedule in (None, "always-on")):
            continue
        try:
            out.append(pause_plan(spec, env.name).as_dict())
        except InputError:
            continue  # no off-hours schedule for this environment: nothing to pause
    return out


def _print_report(result: dict[str, Any]) -> None:
    out = console()
    out.width = max(out.width, 120)  # nine money columns do not fit in 80
    first = result["months"][0]
    span = first if len(result["months"]) == 1 else f"{first} .. {result['months'][-1]}"
    table = Table(title=f"{result['project']}: monthly cost, {span} (averaged per month)")
    for col in ("resource", "kind", "typical", "always on", "saved", "P10", "P50", "P90"):
        table.add_column(col, justify="left" if col in ("resource", "kind") else "right")
    keys = ("point_usd", "always_on_usd", "savings_usd", "p10", "p50", "p90")

    def avg(rows: list[dict[str, Any]], key: str) -> float:
        return sum(r[key] for r in rows) / len(rows)

    for env in result["environments"]:
        for res in env["resources"]:
            table.add_row(escape(f"{env['name']}/{res['name']}"), res["kind"],
                          *(fmt_money(avg(res["monthly"], k)) for k in keys))
        table.add_row(f"[bold]{escape(env['name'])}[/bold]", "all",
                      *(fmt_money(avg(env["monthly"], k)) for k in keys), end_section=True)
    table.add_row("[bold]total[/bold]", "",
                  *(fmt_money(avg(result["total"]["monthly"], k)) for k in keys))
    out.print(table)
    out.print("typical: autoscaled counts at typical_instances, other ranges at their median "
              "(not a percentile); P10/P50/P90: Monte Carlo.")
    _print_prices(result["prices"])
    for warning in result.get("warnings", []):
        out.print(f"[bold yellow]warning:[/bold yellow] {escape(warning)}")
    budget = result.get("budget")
    if budget:
        worst = budget["worst_month"]
        out.print(f"Budget {fmt_money(budget['monthly_usd'])}/month: P(overrun) "
                  f"{max(budget['overrun_probability_by_month']):.0%} in {worst}, "
                  f"{budget['any_month_overrun_probability']:.0%} in any month, "
                  f"{budget['horizon_overrun_probability']:.0%} over the whole period.")
    drivers = [d for d in (budget["drivers"] if budget else result.get("drivers", []))
               if d["share_of_variance"] >= 0.005]
    if drivers:
        out.print("What drives the uncertainty: " + "; ".join(
            escape(f"{d['line']} ({', '.join(d['inputs'])}) {d['share_of_variance']:.0%}")
            for d in drivers[:4]))
    mc = result["monte_carlo"]
    out.print(f"Monte Carlo: {mc['draws']:,} draws, seed {mc['seed']}.")
    for note in result["assumptions"]:
        out.print(escape(f"- {note}"))


def short_source(source: str, date_text: str) -> str:
    """A price's provenance in a few words: the source's first clause and its date."""
    head = source.split(";")[0].split(" (")[0].strip()
    head = head if len(head) <= 48 else head[:47] + "…"
    return f"{head}, {date_text}" if date_text else head


def _print_prices(prices: list[dict[str, Any]]) -> None:
    table = Table(title="Prices used")
    for col in ("line", "unit", "USD", "quality", "source, date"):
        table.add_column(col, justify="right" if col == "USD" else "left")
    for p in prices:
        table.add_row(escape(p["line"]), p["unit"], f"{p['usd']:.4g}", p["quality"],
                      escape(short_source(p["source"], p["date"])))
    console().print(table)


@cost.command("schedule")
@click.option("--expr",
              help="Cloud Custodian offhours value, e.g. 'off=(M-F,19);on=(M-F,7);tz=pt'.")
@click.option("--period", "periods", multiple=True,
              help="Instance Scheduler period 'begintime=07:00;endtime=19:00;weekdays=mon-fri' "
                   "(repeatable; use with --tz).")
@click.option("--tz", help="Time zone of --period (IANA name or alias; default UTC).")
@click.option("--instance", required=True, help="Instance type, e.g. ml.t3.medium or m5.large.")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--month", required=True, help="Month as YYYY-MM.")
@click.option("--count", type=int, default=1, show_default=True, help="Number of instances.")
@click.option("--holiday", "holidays", multiple=True,
              help="A day kept off, YYYY-MM-DD (repeatable).")
@click.option("--spot", is_flag=True, help="Price at the catalog's spot price.")
@json_option
def schedule_cmd(expr: str | None, periods: tuple[str, ...], tz: str | None, instance: str,
                 region: str, month: str, count: int, holidays: tuple[str, ...], spot: bool,
                 as_json: bool) -> None:
    """Running hours, cost and savings of one schedule on one instance type for a month."""
    from mlscope.costs.schedule_cost import build_schedule, schedule_cost
    from mlscope.costs.schedules import parse_month

    schedule = build_schedule(expr, list(periods), tz, _holidays(holidays))
    year, mon = parse_month(month)
    result = schedule_cost(schedule, instance, region, year, mon, count, spot)
    if as_json:
        print_json(result)
        return
    out = console()
    out.print(f"{result['month']} in {result['timezone']}: runs "
              f"{fmt_hours(result['running_hours'])} "
              f"of {fmt_hours(result['always_on_hours'])} ({result['running_hours']:.1f} of "
              f"{result['always_on_hours']:.1f} h)")
    out.print(f"{count} × {instance} at {fmt_money(result['usd_per_hour'])}/h "
              f"({result['price_quality']}; "
              f"{escape(short_source(result['price_source'], result['price_date']))}): "
              f"{fmt_money(result['cost_usd'])} instead of "
              f"{fmt_money(result['always_on_cost_usd'])}, saves "
              f"{fmt_money(result['savings_usd'])} ({result['savings_pct']:.0f}%)")
    if result["custodian_tag"]:
        out.print(f"Custodian tag: {result['custodian_tag']}")
    for warning in result["warnings"]:
        out.print(f"[bold yellow]warning:[/bold yellow] {warning}")


@cost.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--month", help=MONTH_HELP)
@click.option("--months", type=int, default=1, show_default=True, help="Months to average.")
@click.option("--fail-above", help="Exit 1 when the increase exceeds this: 10% or $500 (for "
                                   "--on risk: percentage points, e.g. 5%).")
@click.option("--on", "on", type=click.Choice(["p50", "p90", "risk"]),
              help="What the gate compares (default: the one that changed most).")
@click.option("--budget", type=float, help="Monthly budget for the overrun probability "
                                           "(default: budget.monthly_usd of the specs).")
@click.option("--draws", type=int, default=10_000, show_default=True, help="Monte Carlo draws.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@json_option
def diff_cmd(old: Path, new: Path, month: str | None, months: int, fail_above: str | None,
             on: str | None, budget: float | None, draws: int, seed: int,
             as_json: bool) -> None:
    """Compare P50, P90 and overrun probability of two specs; exit 1 above --fail-above."""
    from mlscope.costs.diff import diff_specs, parse_threshold
    from mlscope.costs.runrate import current_month
    from mlscope.costs.spec_checks import COST_CHECKS
    from mlscope.spec.loader import load_spec

    threshold = parse_threshold(fail_above) if fail_above else None
    if not 1 <= months <= 36:
        raise InputError(f"months must be 1-36 (got {months})", "pass --months 12")
    if budget is not None and budget <= 0:
        raise InputError(f"--budget must be positive (got {budget})", "pass e.g. --budget 5000")
    result = diff_specs(load_spec(old, COST_CHECKS), load_spec(new, COST_CHECKS),
                        _month(month) or current_month(), months, threshold, on, budget,
                        draws, seed)
    if as_json:
        print_json(result)
    else:
        _print_diff(result, old, new)
    if result.get("fails"):
        sys.exit(1)


def _print_diff(result: dict[str, Any], old: Path, new: Path) -> None:
    out = console()
    out.width = max(out.width, 110)
    table = Table(title=f"Monthly cost: {old} → {new} (Monte Carlo, "
                        f"{result['monte_carlo']['draws']:,} draws)")
    for col in ("line", "status", "old P50", "new P50", "old P90", "new P90", "P90 change"):
        table.add_column(col, justify="left" if col in ("line", "status") else "right")
    for row in result["lines"]:
        table.add_row(escape(row["line"]), row["status"], fmt_money(row["old_p50_usd"]),
                      fmt_money(row["new_p50_usd"]), fmt_money(row["old_p90_usd"]),
                      fmt_money(row["new_p90_usd"]), fmt_money(row["delta_p90_usd"]))
    o, n = result["old"], result["new"]
    table.add_row("[bold]total[/bold]", "", fmt_money(o["p50"]), fmt_money(n["p50"]),
                  fmt_money(o["p90"]), fmt_money(n["p90"]), fmt_money(n["p90"] - o["p90"]))
    out.print(table)
    for name in ("p50", "p90"):
        c = result["change"][name]
        pct = f" ({c['pct']:+.1f}%)" if c["pct"] is not None else ""
        out.print(f"{name.upper()}: {fmt_money(c['old'])} → {fmt_money(c['new'])}{pct}")
    risk = result["change"]["risk"]
    if risk["old"] is not None:
        out.print(f"Overrun probability (budget {fmt_money(result['budget_usd'])}/month): "
                  f"{risk['old']:.0%} → {risk['new']:.0%} ({100 * risk['delta']:+.1f} points)")
    else:
        out.print("Overrun probability: no budget (set budget.monthly_usd or --budget)")
    gate = result.get("gate")
    if gate:
        verdict = "FAIL" if gate["fails"] else "ok"
        out.print(f"Gate on {gate['on'].upper()} ({gate['chosen']}): increase above "
                  f"{gate['threshold']}? {verdict}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def export() -> None:
    """Export schedules as Terraform, Cloud Custodian or Instance Scheduler."""


@export.command("schedules")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", required=True,
              type=click.Choice(["terraform", "custodian", "instance-scheduler"]))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to this file (default: print).")
@json_option
def export_schedules(file: Path, fmt: str, output: Path | None, as_json: bool) -> None:
    """Write FILE's schedules (and budget) in the chosen format."""
    from mlscope.costs.exports import export_schedules as render
    from mlscope.costs.spec_checks import COST_CHECKS
    from mlscope.spec.loader import load_spec

    result = render(load_spec(file, COST_CHECKS), fmt)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(result.text)
    if as_json:
        print_json({"format": fmt, "output": str(output) if output else None,
                    "schedules": result.summary, "warnings": result.warnings,
                    **({} if output else {"text": result.text})})
        return
    if output is None:
        click.echo(result.text, nl=False)
    else:
        click.echo(f"wrote {output} ({fmt}, {len(result.summary)} schedules)", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
