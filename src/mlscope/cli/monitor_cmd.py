"""`mlscope monitor`: data drift between two windows (and health checks)."""

from __future__ import annotations

import click

from mlscope.cli.output import console, json_option, print_json


@click.group()
def monitor() -> None:
    """Drift and health monitoring."""


@monitor.command()
@click.argument("reference", type=click.Path(dir_okay=False))
@click.argument("current", type=click.Path(dir_okay=False))
@click.option("--columns", default=None, help="Comma-separated features (default: all shared).")
@json_option
def drift(reference: str, current: str, columns: str | None, as_json: bool) -> None:
    """Per-feature drift between a reference and a current window (CSV or Parquet)."""
    from mlscope.release.monitoring.report import drift_report

    result = drift_report(reference, current, columns.split(",") if columns else None)
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    table = Table("feature", "kind", "test", "statistic", "p-value / distance", "drift")
    for f in result["features"]:
        value = f.get("p_value", f.get("distance"))
        table.add_row(f["name"], f["kind"], f["test"], f"{f['statistic']:.4g}",
                      f"{value:.3g}", "DRIFT" if f["drift"] else "ok")
    out = console()
    out.print(table)
    out.print("Drift detected." if result["drift"] else "No drift detected.")
