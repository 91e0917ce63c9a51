"""`mlscope dags generate`: the CLI contract, the DAG text, and the spec-derived settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlscope.dags.generate import generate
from mlscope.dags.plan import build_plan, retrain_cron
from mlscope.dags.render import render_retraining
from mlscope.spec.loader import load_spec

from .conftest import EXAMPLE_SPECS, EXAMPLES, REPO

RECOMMENDER = EXAMPLES / "recommender" / "mlscope.yaml"


def test_generate_prints_the_paths_of_py_files_it_wrote(run, tmp_path: Path) -> None:
    out = tmp_path / "dags"
    result = run("dags", "generate", RECOMMENDER, "-o", out)
    assert result.code == 0, result.err
    printed = [Path(line) for line in result.out.splitlines()]
    assert printed == [out / "retail_recs_retraining.py", out / "retail_recs_after_hours.py"]
    assert all(p.is_file() and p.suffix == ".py" and p.parent == out for p in printed)
    assert (out / "params" / "dev.json").is_file() and (out / "mwaa.yaml").is_file()


def test_generate_bad_spec_is_one_line_exit_2(run, tmp_path: Path) -> None:
    result = run("dags", "generate", tmp_path / "missing.yaml", "-o", tmp_path / "d")
    assert result.code == 2 and "does not exist" in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=lambda p: p.parent.name)
def test_generated_files_are_formatted_and_lint_clean(spec: Path, tmp_path: Path) -> None:
    files = [str(p) for p in generate(spec, tmp_path).dag_files]
    for args in (["format", "--check"], ["check", "--no-cache"]):
        done = subprocess.run([sys.executable, "-m", "ruff", *args, *files], cwd=REPO,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_generated_files_import_as_plain_python(tmp_path: Path) -> None:
    """Importable: each file compiles and imports (Airflow installed) without side effects."""
    files = generate(RECOMMENDER, tmp_path).dag_files
    for file in files:
        code = f"import runpy; runpy.run_path({str(file)!r})"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=False, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]


def test_checked_in_example_dags_are_up_to_date(tmp_path: Path) -> None:
    fresh = generate(RECOMMENDER, tmp_path / "dags")
    shipped = EXAMPLES / "recommender" / "dags"
    for path in fresh.dag_files + [p for p in fresh.other_files if p.name != "mwaa.yaml"]:
        rel = path.relative_to(tmp_path / "dags")
        assert (shipped / rel).read_text() == path.read_text(), (
            f"{rel} is stale: run `mlscope dags generate examples/recommender/mlscope.yaml "
            "-o examples/recommender/dags`")


def test_schedules_follow_the_spec() -> None:
    # Hand-computed: 4.3 runs a month is weekly; 30 daily; 2 twice a month; 0 manual only.
    assert retrain_cron(4.3) == "0 3 * * 1"
    assert retrain_cron(30) == "0 3 * * *"
    assert retrain_cron(2) == "0 3 1,15 * *"
    assert retrain_cron(0) is None
    plan = build_plan(load_spec(RECOMMENDER))
    assert plan.retrain.schedule == "0 3 * * 1"
    jobs = {(j.environment, j.action): (j.cron, j.timezone) for j in plan.after_hours}
    # dev: off=(M-F,19);on=(M-F,7);tz=et.  qa: Instance Scheduler 08:00-18:00 mon-fri.
    assert jobs == {
        ("dev", "stop"): ("0 19 * * MON-FRI", "America/New_York"),
        ("dev", "start"): ("0 7 * * MON-FRI", "America/New_York"),
        ("qa", "stop"): ("0 18 * * MON-FRI", "America/New_York"),
        ("qa", "start"): ("0 8 * * MON-FRI", "America/New_York"),
    }


def test_params_carry_targets_gates_and_small_dev_runs() -> None:
    plan = build_plan(load_spec(RECOMMENDER))
    dev, qa, prod = plan.params["dev"], plan.params["qa"], plan.params["prod"]
    assert dev["after_hours"]["notebooks"] == [
        "ds-notebooks-1", "ds-notebooks-2", "ds-notebooks-3", "ds-notebooks-4", "gpu-notebook"]
    assert dev["after_hours"]["holidays"] == ["2027-01-01", "2027-01-18", "2027-02-15"]
    assert qa["after_hours"]["endpoints"] == [
        {"name": "recs-endpoint-qa", "config": "recs-endpoint-qa-config"}]
    assert prod["after_hours"] == {}
    # Gates come from the committed spec (the release policy), never from a params file.
    assert "gates" not in prod["release"] and prod["release"]["spec"] is None
    # The spec's model (128 factors, 15 sweeps) in prod; dev runs small.
    assert (prod["train"]["factors"], prod["train"]["iterations"]) == (128, 15)
    assert dev["train"]["factors"] < 128 and dev["train"]["max_rows"]


def test_no_environment_names_or_buckets_are_hard_coded_in_dags() -> None:
    text = render_retraining(build_plan(load_spec(RECOMMENDER)), "mlscope.yaml")
    for literal in ("retail-recs-data", "aws_default", "s3://", "us-east-1"):
        assert literal not in text
    assert 'Variable.get("mlscope_env", default="dev")' in text
    assert "catchup=False" in text and '"retries": 2' in text


def test_airflow_2_flavour_uses_its_imports() -> None:
    text = render_retraining(build_plan(load_spec(RECOMMENDER)), "mlscope.yaml", major=2)
    assert "from airflow.decorators import dag, task" in text
    assert 'default_var="dev"' in text and "airflow.sdk" not in text


def test_generate_keeps_an_edited_mwaa_yaml(tmp_path: Path) -> None:
    generate(RECOMMENDER, tmp_path)
    (tmp_path / "mwaa.yaml").write_text("edited: true\n")
    generate(RECOMMENDER, tmp_path)
    assert (tmp_path / "mwaa.yaml").read_text() == "edited: true\n"
    assert json.loads((tmp_path / "params" / "qa.json").read_text())["environment"] == "qa"


def test_start_dags_skip_holidays_in_local_time() -> None:
    from mlscope.dags.runtime import is_working_day

    cfg = {"after_hours": {"holidays": ["2027-01-18"]}}
    tz = "America/New_York"
    assert not is_working_day(cfg, "2027-01-18T12:00:00+00:00", tz)
    assert is_working_day(cfg, "2027-01-19T12:00:00+00:00", tz)
    # 03:00 UTC on the 19th is 22:00 on the 18th in New York: still the holiday.
    assert not is_working_day(cfg, "2027-01-19T03:00:00+00:00", tz)


def test_findings_from_loader_facts_default_limit() -> None:
    """The policy side of `dags test` on facts as the loader reports them (no Airflow here)."""
    from mlscope.dags.integrity import PARSE_LIMIT_S, findings_of

    dag = {"dag_id": "d", "owner": "me", "task_owners": ["me"], "tasks": 1, "no_retries": [],
           "tags": ["t"], "catchup": False, "periodic": True, "start_date": "2026-01-01T00:00:00"}
    files = [{"file": "fast.py", "seconds": 0.49, "errors": [], "dags": [dag]},
             {"file": "slow.py", "seconds": 0.51, "errors": [], "dags": [{**dag, "dag_id": "e"}]},
             {"file": "dup.py", "seconds": 0.1, "errors": [], "dags": [dag]}]
    lines = [f.line() for f in findings_of(files)]
    assert PARSE_LIMIT_S == 0.5
    assert lines == ["slow.py: took 0.51 s to load (limit 0.5 s): move top-level work (calls, "
                     "I/O, heavy imports) into tasks", "dup.py: dag d is also defined in fast.py"]
