"""`mlscope billing`: actual AWS cost from billing exports, against the plan."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mlscope.cli.output import Table, console, escape, fmt_money, json_option, print_json

PATHS_HELP = "Export files, folders, globs (quoted) or s3:// prefixes; .parquet, .csv, .csv.gz."
MONTH_HELP = "Month as YYYY-MM (default: all months for summary, the latest month otherwise)."
EXPORT_KWARGS: dict[str, Any] = {"nargs": -1, "required": True}


def _tag_keys(env_tags: tuple[str, ...], spec: Any = None) -> Any:
    from mlscope.costs.billing.actuals import tag_keys_of
    from mlscope.costs.billing.query import TagKeys

    keys = tag_keys_of(spec)
    if env_tags:
        keys = TagKeys(env=tuple(env_tags), project=keys.project, component=keys.component)
    return keys


env_tag_option = click.option(
    "--env-tag", "env_tags", multiple=True, metavar="KEY",
    help="Tag key naming the environment (repeatable; default env, environment).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def billing() -> None:
    """Actual AWS cost from billing exports (CUR 2.0, legacy CUR, FOCUS 1.0-1.2) vs the plan.

    DuckDB reads the exports (local files or s3://) into one normalized view with billed,
    effective (amortized) and list cost per line item; see docs/billing.md.
    """


@billing.command("summary")
@click.argument("paths", **EXPORT_KWARGS)
@click.option("--by", "by", multiple=True, metavar="DIM",
              help="Group by service, account, region, instance-type, usage-type, day, month, "
                   "env, project, component, job-kind, resource, charge-category or tag:NAME "
                   "(repeatable).")
@click.option("--month", help=MONTH_HELP)
@env_tag_option
@json_option
def summary_cmd(paths: tuple[str, ...], by: tuple[str, ...], month: str | None,
                env_tags: tuple[str, ...], as_json: bool) -> None:
    """Billed, effective and list cost of PATHS, grouped by --by dimensions."""
    from mlscope.costs.billing.dataset import open_billing
    from mlscope.costs.billing.query import Query, check_month

    if month is not None:
        check_month(month)
    for dim in by:  # a bad dimension is a usage error before any file is read
        Query(_dialect()).dim(dim)
    with open_billing(list(paths), _tag_keys(env_tags)) as data:
        result = data.summary(list(by), month)
    if as_json:
        print_json(result)
        return
    _print_summary(result)


def _dialect() -> Any:
    from mlscope.costs.billing.dialect import DUCKDB

    return DUCKDB


def _label(dim: str, value: Any) -> str:
    if value is not None:
        return str(value)
    return "(untagged)" if dim in ("env", "project", "component") or dim.startswith("tag:") \
        else "-"


def _print_summary(result: dict[str, Any]) -> None:
    out = console()
    month = f" {result['month']}" if result["month"] else ""
    out.print(f"[bold]{result['format']}[/bold]{month}: {result['rows']:,} line items, "
              f"billed {fmt_money(result['billed_cost'])}, effective (amortized) "
              f"{fmt_money(result['effective_cost'])} {result['currency'] or ''}")
    if result["by"]:
        table = Table(show_header=True, header_style="bold")
        for dim in result["by"]:
            table.add_column(dim)
        for name in ("line items", "billed", "effective"):
            table.add_column(name, justify="right")
        for group in result["groups"][:50]:
            table.add_row(*[escape(_label(d, group["key"][d])) for d in result["by"]],
                f"{group['rows']:,}", fmt_money(group["billed_cost"]),
                fmt_money(group["effective_cost"]))
        out.print(table)
        if len(result["groups"]) > 50:
            out.print(f"... {len(result['groups']) - 50} more groups (use --json for all)")
    untagged = result["untagged"]
    out.print(f"Untagged (no {'/'.join(untagged['tag_keys'])} tag): "
              f"{fmt_money(untagged['effective_cost'])} ({untagged['share']:.1%} of effective)")
    for res in untagged["top_resources"][:5]:
        out.print(f"  {escape(str(res['resource_id'] or '(no resource id)'))} "
                  f"[{escape(str(res['service']))}] {fmt_money(res['effective_cost'])}")


@billing.command("sql")
@click.argument("paths", **EXPORT_KWARGS)
@click.option("--dialect", type=click.Choice(["duckdb", "athena"]), default="duckdb",
              show_default=True, help="duckdb: what mlscope runs; athena: the same over a table.")
@click.option("--table", default="cur", show_default=True,
              help="Athena table of the export (the Glue table Data Exports or CUR created).")
@click.option("--by", "by", multiple=True, metavar="DIM", help="As in `billing summary`.")
@click.option("--month", help=MONTH_HELP)
@env_tag_option
def sql_cmd(paths: tuple[str, ...], dialect: str, table: str, by: tuple[str, ...],
            month: str | None, env_tags: tuple[str, ...]) -> None:
    """Print the queries `billing summary` runs (the normalized view, then the summary)."""
    from mlscope.costs.billing.dataset import VIEW, open_billing
    from mlscope.costs.billing.dialect import DIALECTS
    from mlscope.costs.billing.query import Query

    chosen = DIALECTS[dialect]
    with open_billing(list(paths), _tag_keys(env_tags)) as data:
        view = data.normalized_sql(chosen, table if dialect == "athena" else None)
        summary = Query(chosen, data.tag_keys, data.format).summary(VIEW, list(by), month)
    click.echo(f"-- mlscope billing: {data.format} export, {dialect} dialect")
    click.echo(f"CREATE OR REPLACE VIEW {VIEW} AS\n{view};\n")
    click.echo(f"-- the groups, the totals by currency and untagged cost by resource\n{summary};")



def _spec_and_paths(spec_path: Path, paths: tuple[str, ...]) -> tuple[Any, list[str]]:
    """The spec, and the exports: PATHS when given, else the spec's `billing.export`."""
    from mlscope.costs.billing.actuals import export_paths
    from mlscope.spec.loader import load_spec

    spec = load_spec(spec_path)
    return spec, list(paths) if paths else export_paths(spec)


@billing.command("anomalies")
@click.argument("paths", **EXPORT_KWARGS)
@click.option("--by", "by", default="service", show_default=True, metavar="DIM",
              help="Dimension whose daily series are watched (as in `billing summary`).")
@click.option("--month", help="Only days of this month (YYYY-MM); history still counts.")
@click.option("--spec", "spec_path", type=click.Path(path_type=Path),
              help="mlscope.yaml whose schedules are checked too (kind `schedule`).")
@click.option("--min-impact", type=float, default=10.0, show_default=True,
              help="Ignore anomalies costing less than this a day (USD).")
@env_tag_option
@json_option
def anomalies_cmd(paths: tuple[str, ...], by: str, month: str | None, spec_path: Path | None,
                  min_impact: float, env_tags: tuple[str, ...], as_json: bool) -> None:
    """Daily spikes, new services and schedule violations, sorted by cost impact."""
    from mlscope.costs.billing.actuals import anomalies
    from mlscope.costs.billing.anomalies import Settings
    from mlscope.costs.billing.dataset import open_billing
    from mlscope.costs.billing.query import Query, check_month
    from mlscope.errors import InputError
    from mlscope.spec.loader import load_spec

    Query(_dialect()).dim(by)
    if month is not None:
        check_month(month)
    if not min_impact >= 0 or min_impact == float("inf"):
        raise InputError(f"--min-impact must be a finite number >= 0 (got {min_impact})",
                         "pass e.g. --min-impact 10")
    spec = load_spec(spec_path) if spec_path is not None else None
    with open_billing(list(paths), _tag_keys(env_tags, spec)) as data:
        result = anomalies(data, by, month, spec, Settings(min_impact_usd=min_impact))
        if month is not None:
            result["anomalies"] = [a for a in result["anomalies"] if a["date"][:7] == month]
    if as_json:
        print_json(result)
        return
    out = console()
    if not result["anomalies"]:
        out.print(f"No anomalies by {by}.")
    table = Table(show_header=True, header_style="bold")
    for name in ("date", "kind", by, "actual", "expected", "impact"):
        table.add_column(name, justify="right" if name in ("actual", "expected", "impact")
                         else "left")
    for a in result["anomalies"][:50]:
        table.add_row(a["date"], a["kind"], escape(str(a["key"])), fmt_money(a["actual"]),
                      fmt_money(a["expected"]), fmt_money(a["impact"]))
    if result["anomalies"]:
        out.print(table)


@billing.command("forecast")
@click.argument("paths", **EXPORT_KWARGS)
@click.option("--month", help="YYYY-MM (default: the latest month in the export).")
@json_option
def forecast_cmd(paths: tuple[str, ...], month: str | None, as_json: bool) -> None:
    """Month-end (and next-month) effective cost, P10/P50/P90."""
    from mlscope.costs.billing.actuals import forecast
    from mlscope.costs.billing.dataset import open_billing

    with open_billing(list(paths)) as data:
        result = {"format": data.format, **forecast(data, month).to_dict()}
    if as_json:
        print_json(result)
        return
    f, n = result["forecast"], result["next_month"]
    console().print(
        f"{result['month']}: {fmt_money(result['to_date'])} to {result['through']}; month-end "
        f"{fmt_money(f['p50'])} (P10 {fmt_money(f['p10'])} – P90 {fmt_money(f['p90'])}); "
        f"{n.get('month', 'next month')}: {fmt_money(n['p50'])} "
        f"(P10 {fmt_money(n['p10'])} – P90 {fmt_money(n['p90'])})")


def _range(r: dict[str, float]) -> str:
    return f"{fmt_money(r['p50'])} ({fmt_money(r['p10'])} – {fmt_money(r['p90'])})"


@billing.command("compare")
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path))
@click.argument("paths", nargs=-1)
@click.option("--month", help="YYYY-MM (default: the latest month in the export).")
@env_tag_option
@json_option
def compare_cmd(spec_path: Path, paths: tuple[str, ...], month: str | None,
                env_tags: tuple[str, ...], as_json: bool) -> None:
    """Each environment's planned P10/P50/P90 beside its actual to date and forecast."""
    from mlscope.costs.billing.actuals import compare
    from mlscope.costs.billing.dataset import open_billing

    spec, exports = _spec_and_paths(spec_path, paths)
    with open_billing(exports, _tag_keys(env_tags, spec)) as data:
        result = compare(data, spec, month)
    if as_json:
        print_json(result)
        return
    table = Table(show_header=True, header_style="bold",
                  title=f"{result['month']}, actual through {result['through']}")
    for name in ("environment", "planned P50 (P10 – P90)", "actual to date",
                 "forecast P50 (P10 – P90)", "status"):
        table.add_column(name)
    for env in result["environments"]:
        table.add_row(escape(env["name"]), _range(env["planned"]),
                      fmt_money(env["actual_to_date"]), _range(env["forecast"]), env["status"])
    out = console()
    out.print(table)
    out.print(f"Untagged: {fmt_money(result['untagged']['actual_to_date'])} to date")


@billing.command("check")
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path))
@click.argument("paths", nargs=-1)
@click.option("--month", help="YYYY-MM (default: the latest month in the export).")
@click.option("--webhook", metavar="URL",
              help="POST the result (JSON with a Slack-compatible `text`) when the check fails.")
@click.option("--always-post", is_flag=True, help="Post to --webhook even when the check passes.")
@env_tag_option
@json_option
def check_cmd(spec_path: Path, paths: tuple[str, ...], month: str | None, webhook: str | None,
              always_post: bool, env_tags: tuple[str, ...], as_json: bool) -> None:
    """Exit 1 when an environment or the budget is forecast over, or a schedule is broken."""
    from mlscope.costs.billing.actuals import check
    from mlscope.costs.billing.dataset import open_billing
    from mlscope.costs.billing.webhook import message, post

    spec, exports = _spec_and_paths(spec_path, paths)
    with open_billing(exports, _tag_keys(env_tags, spec)) as data:
        result = check(data, spec, month)
    if webhook and (always_post or not result["ok"]):
        result["webhook_status"] = post(webhook, message(result, spec.project.name))
    if as_json:
        print_json({k: v for k, v in result.items()})
    else:
        out = console()
        out.print(f"billing check {result['month']}: " + ("OK" if result["ok"] else "FAILED"))
        for reason in result["reasons"]:
            out.print(f"  - {escape(reason)}")
    if not result["ok"]:
        sys.exit(1)
