"""`mlscope dags`: generate DAGs from the spec, test them on real Airflow, promote them."""

from __future__ import annotations

import sys

import click

from mlscope.cli.output import json_option, print_json


@click.group()
def dags() -> None:
    """Airflow DAGs: generate, test, deploy, promote, roll back, CI."""


@dags.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to write the DAG files into (created if missing).")
@click.option("--airflow-major", type=click.Choice(["2", "3"]), default=None,
              help="Write DAGs for this Airflow major version (default: the installed one).")
@json_option
def generate(spec: str, out_dir: str, airflow_major: str | None, as_json: bool) -> None:
    """Write the retraining (and after-hours) DAGs of SPEC into a folder; print their paths."""
    from mlscope.dags.generate import generate as run

    result = run(spec, out_dir, int(airflow_major) if airflow_major else None)
    if as_json:
        print_json({"dag_files": [str(p) for p in result.dag_files],
                    "other_files": [str(p) for p in result.other_files],
                    "dag_ids": result.dag_ids})
        return
    for path in result.dag_files:
        click.echo(str(path))
    click.echo(f"{len(result.dag_ids)} DAGs ({', '.join(result.dag_ids)}); params and "
               f"mwaa.yaml beside them", err=True)


@dags.command("test")
@click.argument("folder", type=click.Path())
@click.option("--max-parse-seconds", type=float, default=0.5, show_default=True,
              help="Fail files slower than this to load (MWAA's CI/CD sample uses 0.5 s).")
@json_option
def test_cmd(folder: str, max_parse_seconds: float, as_json: bool) -> None:
    """Integrity checks on real Airflow: exit 0 clean, 1 with findings (one line each)."""
    import math

    from mlscope.dags.integrity import check_folder
    from mlscope.errors import InputError

    if not math.isfinite(max_parse_seconds) or max_parse_seconds <= 0:
        raise InputError("--max-parse-seconds must be a positive number")
    result = check_folder(folder, max_parse_seconds)
    if as_json:
        print_json(result.as_dict())
    else:
        for finding in result.findings:
            click.echo(finding.line())
        files = len(result.files)
        summary = (f"{files} files, {len(result.dag_ids)} DAGs: "
                   + (f"{len(result.findings)} problems" if result.findings else "clean"))
        click.echo(summary, err=True)
    if result.findings:
        sys.exit(1)
