"""`mlscope billing`: actual AWS cost from billing exports, against the plan."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from mlscope.cli.output import console, fmt_money, json_option, print_json

PATHS_HELP = "Export files, folders, globs (quoted) or s3:// prefixes; .parquet, .csv, .csv.gz."
MONTH_HELP = "Month as YYYY-MM (default: all months for summary, the latest month otherwise)."
EXPORT_KWARGS: dict[str, Any] = {"nargs": -1, "required": True}


def _tag_keys(env_tags: tuple[str, ...], spec: Any = None) -> Any:
    from mlscope.costs.billing.query import TagKeys

    keys = TagKeys()
    if spec is not None and getattr(spec, "billing", None) is not None:
        keys = spec.billing.tag_keys_config()
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
            table.add_row(*[escape("(untagged)" if group["key"][d] is None else str(
                group["key"][d])) for d in result["by"]],
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
        summary = Query(chosen, data.tag_keys).summary(VIEW, list(by), month)
    click.echo(f"-- mlscope billing: {data.format} export, {dialect} dialect")
    click.echo(f"CREATE OR REPLACE VIEW {VIEW} AS\n{view};\n")
    click.echo(f"{summary};")

