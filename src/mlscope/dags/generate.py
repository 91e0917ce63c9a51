"""`mlscope dags generate SPEC -o DIR`: the project's pipelines as Airflow DAG files.

DIR receives the DAG files (`<project>_retraining.py`, and `<project>_after_hours.py` when the
spec has off-hours schedules), `params/<env>.json` (per-environment settings, read at run time),
`.airflowignore`, `requirements.txt` for MWAA, and `mwaa.yaml` (where each environment's MWAA
reads its DAGs; `dags promote` uses it). An existing mwaa.yaml is kept: it holds the user's
bucket names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mlscope.dags.plan import DagPlan, build_plan, slug
from mlscope.dags.render import (
    AIRFLOWIGNORE,
    render_after_hours,
    render_params,
    render_retraining,
)
from mlscope.errors import InputError
from mlscope.spec.loader import load_spec

CONFIG_FILE = "mwaa.yaml"


@dataclass
class Generated:
    dag_files: list[Path] = field(default_factory=list)
    other_files: list[Path] = field(default_factory=list)
    dag_ids: list[str] = field(default_factory=list)


def mwaa_config(plan: DagPlan, spec_rel: str) -> str:
    project = slug(plan.spec.project.name).replace("_", "-")
    body = {
        "spec": spec_rel,
        "region": plan.spec.project.region,
        "environments": {env: {"bucket": f"{project}-mwaa-{env}", "prefix": ""}
                         for env in plan.spec.release.environments},
    }
    return ("# Where each environment's MWAA reads its DAGs (the MWAA layout: dags/,\n"
            "# requirements.txt, plugins.zip under bucket/prefix). Edit the bucket names;\n"
            "# `mlscope dags generate` keeps this file. `spec` is relative to this file.\n"
            + yaml.safe_dump(body, sort_keys=False))


def requirements(plan: DagPlan) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("mlscope")
    except PackageNotFoundError:
        ours = "0.1.0"
    extras = "airflow,mlflow,recommender" if plan.retrain.local_training else "airflow,mlflow"
    return ("# MWAA installs these on its workers (the MWAA image already has Airflow and the\n"
            "# Amazon provider; pin them with MWAA's constraints file for your Airflow version).\n"
            f"mlscope[{extras}]=={ours}\n")


def generate(spec_path: str | Path, out_dir: str | Path, major: int | None = None) -> Generated:
    spec_file = Path(spec_path)
    spec = load_spec(spec_file)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a folder", "pass a folder for -o")
    plan = build_plan(spec)
    out.mkdir(parents=True, exist_ok=True)
    (out / "params").mkdir(exist_ok=True)
    result = Generated()

    def write(path: Path, text: str, dag: bool = False) -> None:
        path.write_text(text, encoding="utf-8")
        (result.dag_files if dag else result.other_files).append(path)

    name = spec_file.name
    base = slug(spec.project.name)
    write(out / f"{base}_retraining.py", render_retraining(plan, name, major), dag=True)
    result.dag_ids.append(plan.retrain.dag_id)
    after = render_after_hours(plan, name, major)
    if after is not None:
        write(out / f"{base}_after_hours.py", after, dag=True)
        result.dag_ids.extend(j.dag_id for j in plan.after_hours)
    for env, params in plan.params.items():
        write(out / "params" / f"{env}.json", render_params(params))
    write(out / ".airflowignore", AIRFLOWIGNORE)
    write(out / "requirements.txt", requirements(plan))
    config = out / CONFIG_FILE
    if not config.exists():
        rel = os.path.relpath(spec_file.resolve(), out.resolve())
        write(config, mwaa_config(plan, rel))
    return result
