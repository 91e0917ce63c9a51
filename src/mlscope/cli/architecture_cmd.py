"""`mlscope init`, `diagram`, `check` and `explain`: the architecture engine's commands."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from mlscope.cli.output import console, fmt_money, json_option, print_json
from mlscope.errors import InputError

LEVEL = click.IntRange(0, 2)


@click.command()
@click.option("--use-case", required=True, help="recommender, tabular-classifier, forecasting, "
              "llm-rag, edge-voice-assistant, computer-vision, llm-pretrain or other.")
@click.option("--level", type=LEVEL, default=1, show_default=True,
              help="MLOps level: 0 manual, 1 continuous training, 2 CI/CD + CT.")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=".",
              show_default=True, help="Directory to write mlscope.yaml into.")
@click.option("--name", help="Project name (default: the directory's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing mlscope.yaml.")
@json_option
def init(use_case: str, level: int, directory: str, name: str | None, force: bool,
         as_json: bool) -> None:
    """Write an mlscope.yaml for a use case and MLOps level, ready to edit."""
    from mlscope.architecture.init_spec import write_spec

    path = write_spec(use_case, level, directory, name, force)
    if as_json:
        print_json({"file": str(path), "use_case": use_case, "level": level})
    else:
        click.echo(f"Wrote {path}. Next: mlscope check {path}")


_EXTENSIONS = {".svg": "svg", ".png": "png", ".mmd": "mermaid", ".mermaid": "mermaid",
               ".d2": "d2", ".dot": "dot", ".gv": "dot", ".dsl": "structurizr"}
VIEWS = ("container", "context", "stages", "system", "story")


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--format", "fmt", default=None,
              type=click.Choice(["svg", "png", "mermaid", "d2", "dot", "structurizr"]),
              help="Default: from the -o extension (.svg .png .mmd .d2 .dot .dsl), else svg.")
@click.option("--view", type=click.Choice(VIEWS), default="container", show_default=True,
              help="container: every component by stage (engineers); stages: Markdown with one "
                   "Mermaid diagram per stage; context: one box per stage; system: the one-slide "
                   "view for sponsors; story: the user-experience storyboard.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file (required for png; folders are created); default: stdout.")
@json_option
def diagram(file: str, fmt: str | None, view: str, output: str | None, as_json: bool) -> None:
    """Draw the architecture of FILE as SVG, PNG, Mermaid, D2, DOT or Structurizr DSL."""
    from mlscope.architecture import build_architecture, render
    from mlscope.architecture.locate import load_with_locator

    if fmt is None:
        suffix = Path(output).suffix.lower() if output else ""
        if output and suffix not in _EXTENSIONS and not (view == "stages" and suffix == ".md"):
            raise InputError(f"cannot tell the format from '{output}'",
                             "pass --format, or name the file .svg, .png, .mmd, .d2, .dot or "
                             ".dsl")
        fmt = "mermaid" if view == "stages" and suffix in ("", ".md") else \
            _EXTENSIONS.get(suffix, "svg")
    spec, locate = load_with_locator(file)
    graph = build_architecture(spec, locate)
    if not graph.components:
        raise InputError(f"{file}: the architecture is empty",
                         "pick a use case with a blueprint or add components under "
                         "architecture.add")
    if fmt == "png" and not output:
        raise InputError("PNG is binary and cannot go to the terminal", "pass -o FILE.png")
    result: str | bytes
    if view in ("system", "story"):
        from mlscope.architecture import views

        if fmt in ("d2", "structurizr"):
            raise InputError(f"the {view} view is drawn as svg, png, mermaid or dot",
                             f"pass --format svg|png|mermaid|dot with --view {view}")
        if view == "system":
            sv = views.system_view(graph, spec.project.description)
            result = views.render_view(views.system_dot(sv), views.system_mermaid(sv), fmt)
            counts = (len(sv.boxes), len(sv.flows))
        else:
            sb = views.storyboard(graph, spec.experience)
            result = views.render_view(views.story_dot(sb), views.story_mermaid(sb), fmt)
            counts = (len(sb.steps), len(sb.steps))
    elif view == "stages":
        if fmt != "mermaid":
            raise InputError("--view stages is Markdown with one Mermaid diagram per stage",
                             "pass --format mermaid (or -o FILE.md)")
        from mlscope.architecture.renderers.mermaid import emit_mermaid_stages

        result = emit_mermaid_stages(graph)
        counts = (len(graph.components), len(graph.flows))
    else:
        if view == "context":
            graph = graph.context_view()
        result = render(graph, fmt)
        counts = (len(graph.components), len(graph.flows))
    if output:
        data = result if isinstance(result, bytes) else result.encode()
        target = Path(output)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror or exc}",
                             "pass -o a file in a folder you can write to") from None
    elif not as_json:
        click.echo(result if isinstance(result, str) else "", nl=False)
    if as_json:
        payload = {"file": file, "format": fmt, "view": view, "output": output,
                   "components": counts[0], "flows": counts[1]}
        if not output and isinstance(result, str):
            payload["text"] = result
        print_json(payload)
    elif output:
        click.echo(f"Wrote {output} ({counts[0]} boxes, {counts[1]} flows)", err=True)


_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _schedule_findings(spec: Any, day: dt.date) -> list[Any]:
    """Off-hours schedules that never run a resource, or run it every hour (cost engine)."""
    from mlscope.architecture.readiness import Finding
    from mlscope.costs.runrate import schedule_problems
    from mlscope.errors import InputError

    try:
        problems = schedule_problems(spec, day.year, day.month)
    except InputError:
        return []  # nothing to price (no resources): the cost commands say so themselves
    return [Finding("warning", "schedule-runs", "cost", p, "a schedule that never runs makes "
                    "the resource useless and prices it at $0; one that always runs saves "
                    "nothing", "fix the schedule expression (`mlscope cost schedule --expr`)")
            for p in problems]


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--strict", is_flag=True,
              help="Warnings fail too (exit 1): the setting for CI.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Judge waiver expiry on this date (YYYY-MM-DD; default: today, UTC).")
@json_option
def check(file: str, strict: bool, as_of: dt.datetime | None, as_json: bool) -> None:
    """Readiness check: what the spec's MLOps level needs but its architecture lacks, and
    whether production can be reached around its gates.

    Exit code 1 when an error-level finding exists (with --strict: or a warning); waived
    findings are listed but do not count.
    """
    from rich.markup import escape

    from mlscope.architecture import build_architecture
    from mlscope.architecture.build import check_spec_graph
    from mlscope.architecture.locate import load_with_locator

    spec, locate = load_with_locator(file)
    graph = build_architecture(spec, locate)
    findings = check_spec_graph(spec, graph, locate, as_of.date() if as_of else None)
    findings += _schedule_findings(spec, as_of.date() if as_of else dt.date.today())
    live = [f for f in findings if f.waived is None]
    counts = {lv: sum(f.level == lv for f in live) for lv in ("error", "warning", "info")}
    waived = len(findings) - len(live)
    ready = not any(f.counts_at(strict) for f in findings)
    if as_json:
        print_json({"file": file, "use_case": graph.use_case, "level": graph.level,
                    "ready": ready, "strict": strict, "counts": counts, "waived": waived,
                    "findings": [f.to_dict() for f in findings]})
    else:
        out = console()
        out.print(f"[bold]{graph.heading}[/bold]: {len(graph.components)} components, "
                  f"{len(graph.flows)} flows")
        # One compiler-style line per finding (file:line:col: level: message [rule]), so CI
        # logs and editors can jump to the spec line; why and fix are indented below it.
        for f in findings:
            where = escape(f.location or file)
            parts = [f.rule] + ([f"components: {', '.join(f.components)}"] if f.components else [])
            head = (f"{where}: [{_STYLE[f.level]}]{f.level}[/]: {escape(f.message)} "
                    f"[dim]\\[{escape('; '.join(parts))}][/dim]")
            out.print(head, soft_wrap=True)
            if f.waived:
                out.print(f"    waived until {f.waived.expires}: {escape(f.waived.reason)}",
                          soft_wrap=True)
            out.print(f"    why: {escape(f.why)}", soft_wrap=True)
            out.print(f"    fix: {escape(f.fix)}", soft_wrap=True)
        verdict = "[green]ready[/green]" if ready else "[bold red]not ready[/bold red]"
        out.print(f"{verdict}: {counts['error']} error(s), {counts['warning']} warning(s), "
                  f"{counts['info']} note(s)" + (f", {waived} waived" if waived else "")
                  + (" (strict: warnings fail)" if strict else ""))
    if not ready:
        sys.exit(1)


@click.command()
@click.argument("component", required=False)
@click.option("--list", "list_all", is_flag=True, help="List every component kind.")
@click.option("--blueprint", help="List a use case's components (ids for spec overrides).")
@click.option("--region", default="us-east-1", show_default=True, help="Region for prices.")
@json_option
def explain(component: str | None, list_all: bool, blueprint: str | None, region: str,
            as_json: bool) -> None:
    """Explain a component kind: what it does, AWS and open-source options, what it costs."""
    from mlscope.architecture import explain as ex

    if list_all:
        rows = ex.list_kinds()
        _show(rows, as_json, {"kinds": rows}, ("kind", "title", "phase", "aws", "open_source"))
    elif blueprint:
        info = ex.describe_blueprint(blueprint)
        rows = [{**c, "levels": ",".join(str(lv) for lv in c["levels"])}
                for c in info["components"]]
        _show(rows, as_json, info, ("id", "kind", "label", "levels"))
    elif component:
        _explain_one(ex.explain_component(component, region), as_json)
    else:
        raise InputError("nothing to explain", "name a component kind, or pass --list or "
                         "--blueprint USE_CASE")


def _show(rows: list[dict[str, str]], as_json: bool, payload: object,
          columns: tuple[str, ...]) -> None:
    if as_json:
        print_json(payload)
        return
    from rich.table import Table

    table = Table()
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    console().print(table)


def _explain_one(info: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    cost = info["cost"]
    assert isinstance(cost, dict)
    if cost.get("priced") and "instance" in cost:
        price = (f"{fmt_money(cost['on_demand_usd_hr'])}/h on-demand for {cost['instance']} "
                 f"in {cost['region']} ({cost['basis']}); always on: "
                 f"{fmt_money(cost['always_on_usd_month'])}/month "
                 f"[{cost['price_quality']} price, {cost['date']}]")
    elif cost.get("priced"):
        price = (f"${cost['usd_per_unit']} per {cost['unit']} ({cost['item']}, {cost['region']}, "
                 f"{cost['date']})")
    else:
        price = f"no catalog price: {cost['note']}"
    out = console()
    lines = [
        f"{info['title']} ({info['kind']}, phase: {info['phase']})",
        f"What it does: {info['does']}",
        f"Why it matters: {info['why']}",
        f"AWS: {', '.join(info['aws']) or 'n/a'}",  # type: ignore[arg-type]
        f"Open source: {', '.join(info['open_source']) or 'n/a'}",  # type: ignore[arg-type]
        f"Cost: {price}",
    ]
    for line in lines:
        out.print(line, markup=False)
