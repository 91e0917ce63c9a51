"""`mlscope dags`: generate DAGs from the spec, test them on real Airflow, promote them."""

from __future__ import annotations

import sys
from typing import Any

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
@click.argument("folder", required=False, type=click.Path())
@click.option("--max-parse-seconds", type=float, default=0.5, show_default=True,
              help="Fail files slower than this to load (MWAA's CI/CD sample uses 0.5 s).")
@click.option("--env", default=None,
              help="Test what this environment runs (its manifest's S3 object versions).")
@click.option("--config", "config_path", default="dags/mwaa.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The MWAA config (with --env).")
@json_option
def test_cmd(folder: str | None, max_parse_seconds: float, env: str | None, config_path: str,
             as_json: bool) -> None:
    """Integrity checks on real Airflow: exit 0 clean, 1 with findings (one line each)."""
    import math
    import tempfile
    from pathlib import Path

    from mlscope.dags.integrity import check_folder
    from mlscope.errors import InputError

    if not math.isfinite(max_parse_seconds) or max_parse_seconds <= 0:
        raise InputError("--max-parse-seconds must be a positive number")
    if (folder is None) == (env is None):
        raise InputError("give a DAG folder or --env (not both)",
                         "`mlscope dags test DIR` or `mlscope dags test --env dev`")
    with tempfile.TemporaryDirectory(prefix="mlscope-env-dags-") as tmp:
        if env is not None:
            _promoter(config_path).fetch(env, Path(tmp))
            folder = tmp
        assert folder is not None
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


@dags.command()
@click.option("--provider", type=click.Choice(["github"]), default="github", show_default=True)
@click.option("-o", "--output", default=".github/workflows/mlscope-dags.yml", show_default=True,
              type=click.Path(dir_okay=False), help="Where to write the workflow.")
@click.option("--dags-dir", default="dags", show_default=True, help="The DAG folder (repo path).")
@click.option("--spec", "spec_file", default="mlscope.yaml", show_default=True,
              help="The committed spec (repo path).")
@click.option("--force", is_flag=True, help="Overwrite an existing workflow file.")
def ci(provider: str, output: str, dags_dir: str, spec_file: str, force: bool) -> None:
    """Write a CI/CD workflow: lint, integrity, dev, qa, approval, prod."""
    from pathlib import Path

    from mlscope.dags.ci import github_workflow
    from mlscope.errors import InputError

    path = Path(output)
    if path.exists() and not force:
        raise InputError(f"{path} exists", "pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(github_workflow(dags_dir, spec_file))
    click.echo(str(path))


def _config_option(func: Any) -> Any:
    return click.option("--config", "config_path", default="dags/mwaa.yaml", show_default=True,
                        type=click.Path(dir_okay=False),
                        help="The MWAA config (buckets per environment; its `spec` names the "
                             "release policy).")(func)


def _promoter(config_path: str) -> Any:
    from mlscope.dags.promote import DagPromoter, load_config
    from mlscope.errors import require

    config = load_config(config_path)
    boto3 = require("boto3", "aws")
    # boto3 reads AWS_ENDPOINT_URL(_S3) itself, so a test or local stack needs no flag.
    return DagPromoter(config, boto3.client("s3", region_name=config.region))


def _print_outcome(outcome: Any, as_json: bool) -> None:
    if as_json:
        print_json(outcome.as_dict())
    else:
        lines = outcome.diff.lines()
        click.echo(f"{outcome.action} to {outcome.env}: bundle {outcome.bundle or '-'} "
                   f"({len(lines)} changes, {outcome.diff.unchanged} unchanged)")
        for line in lines:
            click.echo(f"  {line}")
        for refusal in outcome.refusals:
            click.echo(f"refused: {refusal}")
        if outcome.dry_run:
            click.echo("dry run: nothing changed")
        elif outcome.done:
            click.echo(f"done: manifest {outcome.manifest['seq']} in {outcome.env}")
    if outcome.refusals and not outcome.dry_run:
        sys.exit(1)


@dags.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--env", default="dev", show_default=True, help="The first environment.")
@click.option("--commit", default=None, help="Commit recorded in the manifest (default: git).")
@click.option("--dry-run", is_flag=True, help="Show the diff; change nothing.")
@_config_option
@json_option
def deploy(folder: str, env: str, commit: str | None, dry_run: bool, config_path: str,
           as_json: bool) -> None:
    """Upload a DAG folder to the first environment (a new, audited bundle)."""
    from pathlib import Path

    promoter = _promoter(config_path)
    actor = promoter.actor()
    _print_outcome(promoter.deploy(Path(folder), env, actor, commit, dry_run), as_json)


@dags.command()
@click.option("--from", "source", required=True, help="Environment to copy from (e.g. dev).")
@click.option("--to", "target", required=True, help="Environment to promote to (qa, prod).")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@click.option("--dry-run", is_flag=True, help="Show the diff and the gates; change nothing.")
@_config_option
@json_option
def promote(source: str, target: str, reason: str, dry_run: bool, config_path: str,
            as_json: bool) -> None:
    """Promote the bundle an environment runs to the next one, through its gates."""
    promoter = _promoter(config_path)
    actor = promoter.actor()
    _print_outcome(promoter.promote(source, target, actor, reason, dry_run), as_json)


@dags.command()
@click.argument("bundle", type=click.IntRange(min=1))
@click.option("--env", required=True, help="Environment the approval is for (e.g. prod).")
@click.option("--reason", required=True, help="Why this bundle is safe to ship.")
@click.option("--reject", is_flag=True, help="Record a rejection instead (it blocks).")
@_config_option
@json_option
def approve(bundle: int, env: str, reason: str, reject: bool, config_path: str,
            as_json: bool) -> None:
    """Record your signed approval of a DAG bundle for an environment."""
    from mlscope.release.approvals import APPROVE, REJECT

    promoter = _promoter(config_path)
    result = promoter.approve(bundle, env, promoter.actor(), reason,
                              REJECT if reject else APPROVE)
    if as_json:
        print_json(result.as_dict())
    else:
        click.echo(f"{result.decision}: {result.actor} for {env}, bundle {bundle} "
                   f"(expires {result.expires})")


@dags.command()
@click.option("--env", required=True, help="Environment to roll back (e.g. prod).")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@click.option("--dry-run", is_flag=True, help="Show the diff; change nothing.")
@_config_option
@json_option
def rollback(env: str, reason: str, dry_run: bool, config_path: str, as_json: bool) -> None:
    """Restore an environment's previous manifest (its exact S3 object versions)."""
    promoter = _promoter(config_path)
    actor = promoter.actor()
    _print_outcome(promoter.rollback(env, actor, reason, dry_run), as_json)


@dags.command()
@_config_option
@json_option
def status(config_path: str, as_json: bool) -> None:
    """Which bundle each environment runs (from its manifest)."""
    promoter = _promoter(config_path)
    rows = {}
    for env in promoter.config.environments:
        m = promoter.current(env)
        rows[env] = None if m is None else {k: m.get(k) for k in (
            "bundle", "digest", "commit", "seq", "by", "at")}
    if as_json:
        print_json({"environments": rows})
        return
    for env, row in rows.items():
        click.echo(f"{env}: " + ("nothing deployed" if row is None else
                                 f"bundle {row['bundle']} (manifest {row['seq']}, "
                                 f"commit {row['commit'] or '-'}, {row['digest'][:19]}...)"))


@dags.command("mwaa-cost")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--env", "env_name", default="dev", show_default=True,
              help="The environment whose schedule the pause follows.")
@click.option("--class", "environment_class", default=None,
              help="MWAA environment class (default: the spec's MWAA resource, or mw1.small).")
@json_option
def mwaa_cost(spec: str, env_name: str, environment_class: str | None, as_json: bool) -> None:
    """What pausing (delete + recreate) an MWAA environment off hours would save a month."""
    from mlscope.core import fmt
    from mlscope.dags.mwaa import pause_plan
    from mlscope.spec.loader import load_spec

    plan = pause_plan(load_spec(spec), env_name, environment_class)
    if as_json:
        print_json(plan.as_dict())
        return
    click.echo(f"MWAA {plan.environment_class} in {plan.region}: {fmt.money(plan.usd_per_hour)}"
               f"/h, {fmt.money(plan.always_on_usd)} a month always on (it cannot be stopped)")
    click.echo(f"Paused off hours like {plan.environment} ({plan.running_hours_per_week:g} h a "
               f"week up): {plan.paused_hours:.0f} h a month gone, {plan.cycles:.1f} "
               f"delete/create cycles -> saves {fmt.money(plan.saving_usd)} a month")
    click.echo("Plan: " + "; ".join(plan.plan))
    click.echo("Limits: " + "; ".join(plan.limits))
    click.echo(f"Price: {plan.price_source}")
