"""`mlscope plan` (the time-boxed plan and its problems) and `mlscope report` (the sponsor page)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Any

import click

from mlscope.cli.output import console, json_option, print_json

if TYPE_CHECKING:  # the spec and report modules load pydantic: only when a command runs
    from mlscope.report.plan import Timeline

_LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _plan_table(t: Timeline) -> Any:
    from rich.table import Table

    from mlscope.report.plan import phase_when

    table = Table(title="Plan", title_justify="left")
    for col in ("#", "Phase", "Kind", "When", "Time box", "Demo"):
        table.add_column(col)
    for i, p in enumerate(t.phases, 1):
        when = phase_when(t, p, year=True)
        table.add_row(str(i), p.name + (" (MVP)" if p.mvp else ""), p.kind, when,
                      p.time_box or "[red]none[/]",
                      p.demo or "[yellow]none[/]")
    return table


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--strict", is_flag=True, help="Exit 1 when the plan has errors or warnings.")
@json_option
def plan(file: str, strict: bool, as_json: bool) -> None:
    """Print the time-boxed plan of FILE and flag phases without a time box or a demo, and
    plans that end after the MVP date or the deadline."""
    from mlscope.report.plan import summary_line, timeline_for
    from mlscope.spec import load_spec

    t = timeline_for(load_spec(file))
    if as_json:
        print_json({"file": file, **t.to_dict()})
    else:
        out = console()
        if t.phases:
            out.print(_plan_table(t))
        out.print(f"Plan: {summary_line(t)}"
                  + (f"; MVP promised for {t.mvp_date:%d %b %Y}" if t.mvp_date else "")
                  + (f"; team {t.team_fte:g} FTE" if t.team else ""))
        for f in t.findings:
            out.print(f"[{_LEVEL_STYLE[f.level]}]{f.level}[/]: {f.message} (fix: {f.fix})")
        if not t.findings:
            out.print("[green]No problems found.[/]")
    if strict and any(f.level in ("error", "warning") for f in t.findings):
        sys.exit(1)


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("-o", "--out", "out_dir", default="build/report", show_default=True,
              type=click.Path(file_okay=False),
              help="Folder to write index.html (and report.pdf) to; created if missing.")
@click.option("--pdf", is_flag=True,
              help="Also print the page to report.pdf with headless Chromium.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The report's date (YYYY-MM-DD): months priced from the plan's start or this "
                   "month, waivers judged on it. Same spec and date, same bytes.")
@click.option("--loaded-rate", type=click.FloatRange(min=0, min_open=True),
              help="Loaded cost of one full-time person per year, USD (beats "
                   "plan.loaded_cost_usd_per_fte_year).")
@click.option("--billing", "billing_export", metavar="PATH",
              help="AWS billing export (CUR 2.0, legacy CUR or FOCUS: file, folder, glob or "
                   "s3://) for the actual-vs-plan section; beats the spec's billing.export.")
@json_option
def report(file: str, out_dir: str, pdf: bool, as_of: dt.datetime | None,
           loaded_rate: float | None, billing_export: str | None, as_json: bool) -> None:
    """Write the sponsor report for FILE: one self-contained HTML page (works offline).

    Exit code 1 when a section failed (the page is still written, the failure shown in it).
    """
    from mlscope.report.build import write_report

    written = write_report(file, out_dir, pdf=pdf, as_of=as_of.date() if as_of else None,
                           loaded_rate=loaded_rate, billing_export=billing_export)
    rep = written.report
    if as_json:
        print_json({**rep.to_dict(), "html": str(written.html_path),
                    "pdf": str(written.pdf_path) if written.pdf_path else None,
                    "size_bytes": written.size_bytes})
    else:
        from rich.table import Table

        out = console()
        table = Table(title=f"{rep.spec.project.name}: the decision", title_justify="left",
                      show_header=False)
        table.add_column("What", style="bold")
        table.add_column("Value")
        for label, value in rep.summary:
            table.add_row(label, value)
        out.print(table)
        out.print(f"Report: {written.html_path} ({written.size_bytes / 1024:,.0f} KiB)")
        if written.pdf_path:
            out.print(f"PDF: {written.pdf_path}")
    for s in rep.failed:
        click.echo(f"error: section '{s.title}' {s.notice}", err=True)
    if rep.failed:
        sys.exit(1)
