"""`mlscope schema` and `mlscope validate`."""

from __future__ import annotations

import sys

import click

from mlscope.cli.output import json_option, print_json


@click.command()
def schema() -> None:
    """Print the JSON Schema of mlscope.yaml (point your editor's YAML plugin at it)."""
    from mlscope.spec import json_schema

    print_json(json_schema())


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@json_option
def validate(file: str, as_json: bool) -> None:
    """Validate FILE and list every problem with its file:line:column."""
    from mlscope.costs.spec_checks import COST_CHECKS
    from mlscope.spec import validate_file

    problems = validate_file(file, COST_CHECKS)
    if not problems:
        # Flows to missing components and cycles depend on the use case's blueprint.
        from mlscope.architecture.locate import architecture_problems

        problems = architecture_problems(file)
    if as_json:
        print_json({"file": file, "valid": not problems, "problems": problems})
    elif problems:
        for p in problems:
            click.echo(p, err=True)
        click.echo(f"{len(problems)} problem(s) in {file}", err=True)
    else:
        click.echo(f"{file}: valid")
    if problems:
        sys.exit(2)
