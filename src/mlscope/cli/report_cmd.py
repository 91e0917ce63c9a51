"""`mlscope plan` (the time-boxed plan and its problems) and `mlscope report` (the sponsor page)."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from mlscope.cli.output import console, json_option, print_json
from mlscope.report.plan import Timeline, phase_when, summary_line, timeline_for
from mlscope.spec import load_spec

_LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _plan_table(t: Timeline) -> Table:
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
              help="Folder to write index.html (and report.pdf) to.")
@click.option("--pdf", is_flag=True,
              help="Also print the page to report.pdf with headless Chromium.")
@json_option
def report(file: str, out_dir: str, pdf: bool, as_json: bool) -> None:
    """Write the sponsor report for FILE: one self-contained HTML page (works offline)."""
    from mlscope.report.build import write_report

    written = write_report(file, out_dir, pdf=pdf)
    rep = written.report
    if as_json:
        print_json({**rep.to_dict(), "html": str(written.html_path),
                    "pdf": str(written.pdf_path) if written.pdf_path else None,
                    "size_bytes": written.size_bytes})
        return
    out = console()
    table = Table(title=f"{rep.spec.project.name}: at a glance", title_justify="left",
                  show_header=False)
    table.add_column("What", style="bold")
    table.add_column("Value")
    for label, value in rep.summary:
        table.add_row(label, value)
    out.print(table)
    for s in rep.sections:
        if s.status == "failed":
            click.echo(f"warning: section '{s.title}' {s.notice}", err=True)
    out.print(f"Report: {written.html_path} ({written.size_bytes / 1024:,.0f} KiB)")
    if written.pdf_path:
        out.print(f"PDF: {written.pdf_path}")
