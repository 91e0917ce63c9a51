"""DAG integrity checks on real Airflow: the tests teams copy from project to project, once.

Each file of a DAG folder is loaded by Airflow's own DagBag in a child process (see `_probe`)
with variables and connections stubbed. The findings, one line each:

- a file that does not import (the error's last line and the line in the file);
- a cycle (Airflow refuses the DAG);
- a file slower to load than 0.5 s (AWS's MWAA CI/CD sample fails DAGs over 0.5 s: top-level
  work runs at every parse, every 30 s per file, on the scheduler's machine); the time a busy
  machine kept the loader waiting for a CPU (Linux run-queue wait) is not counted, so a clean
  file does not fail because other jobs share the CI machine, while top-level calls, I/O and
  sleeps still count in full;
- per DAG, in one line: no owner (or Airflow's default `airflow`), tasks without retries, no
  tags, and schedule problems (catchup on with a start date in the past backfills every missed
  run on the first deploy);
- a dag_id defined twice;
- a file that did not finish loading in time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlscope.errors import EngineMissingError, InputError

PARSE_LIMIT_S = 0.5
FILE_TIMEOUT_S = 60.0
DEFAULT_OWNER = "airflow"  # what Airflow fills in when a DAG names no owner
STUB_ENV = {
    # Parse-time stubs: a DAG must load without AWS, a database or real secrets.
    "AWS_ACCESS_KEY_ID": "stub", "AWS_SECRET_ACCESS_KEY": "stub", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true", "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
}


@dataclass(frozen=True)
class Finding:
    file: str
    problem: str

    def line(self) -> str:
        return f"{self.file}: {self.problem}"


@dataclass
class CheckResult:
    folder: str
    files: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def dag_ids(self) -> list[str]:
        return sorted(d["dag_id"] for f in self.files for d in f["dags"])

    def as_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "ok": not self.findings,
                "parse_limit_s": PARSE_LIMIT_S,
                "files": [{"file": f["file"], "seconds": round(f["seconds"], 4),
                           "dags": [d["dag_id"] for d in f["dags"]]} for f in self.files],
                "findings": [asdict(x) | {"line": x.line()} for x in self.findings]}


def dag_problems(dag: dict[str, Any], now: datetime | None = None) -> list[str]:
    """Policy problems of one DAG (facts as `_probe` reports them)."""
    problems = []
    owner = dag.get("owner", "")
    owners = [o for o in dag.get("task_owners", []) if o and o != DEFAULT_OWNER]
    if (not owner or owner == DEFAULT_OWNER) and not owners:
        problems.append("no owner (set default_args={'owner': 'team@example.com'})")
    if dag.get("no_retries"):
        tasks = dag["no_retries"]
        shown = ", ".join(tasks[:3]) + (f" and {len(tasks) - 3} more" if len(tasks) > 3 else "")
        problems.append(f"no retries on {shown} (set default_args={{'retries': 2}})")
    if not dag.get("tags"):
        problems.append("no tags")
    start = dag.get("start_date")
    now = now or datetime.now(UTC)
    if dag.get("catchup") and dag.get("periodic") and start:
        began = datetime.fromisoformat(start)
        if began.tzinfo is None:
            began = began.replace(tzinfo=UTC)
        if began < now:
            problems.append(f"catchup=True with start_date {began.date()}: the first deploy "
                            "backfills every run since then (set catchup=False)")
    if dag.get("periodic") and not start:
        problems.append(f"schedule {dag.get('schedule')} but no start_date")
    if dag.get("tasks", 0) == 0:
        problems.append("no tasks")
    return problems


def findings_of(files: list[dict[str, Any]], limit_s: float = PARSE_LIMIT_S,
                now: datetime | None = None) -> list[Finding]:
    out: list[Finding] = []
    seen: dict[str, str] = {}
    for entry in files:
        name = entry["file"]
        for error in entry["errors"]:
            out.append(Finding(name, f"{error['kind']}: {error['message']}"))
        if not entry["errors"] and entry["seconds"] > limit_s:
            out.append(Finding(name, f"took {entry['seconds']:.2f} s to load (limit {limit_s:g} s):"
                                     " move top-level work (calls, I/O, heavy imports) into tasks"))
        for dag in entry["dags"]:
            if dag["dag_id"] in seen:
                out.append(Finding(name, f"dag {dag['dag_id']} is also defined in "
                                         f"{seen[dag['dag_id']]}"))
            seen.setdefault(dag["dag_id"], name)
            problems = dag_problems(dag, now)
            if problems:
                out.append(Finding(name, f"dag {dag['dag_id']}: " + "; ".join(problems)))
    return out


def _require_airflow() -> None:
    if importlib.util.find_spec("airflow") is None:
        raise EngineMissingError("Apache Airflow is not installed",
                                 "pip install 'mlscope[airflow]'")


def probe(folder: Path, timeout_s: float = FILE_TIMEOUT_S) -> list[dict[str, Any]]:
    """Load every DAG file of `folder` with Airflow's DagBag in a child process."""
    _require_airflow()
    with tempfile.TemporaryDirectory(prefix="mlscope-dags-") as tmp:
        out = Path(tmp) / "probe.json"
        env = {**os.environ, **STUB_ENV, "AIRFLOW_HOME": str(Path(tmp) / "airflow"),
               "AIRFLOW__CORE__DAGS_FOLDER": str(folder)}
        done = subprocess.run(
            [sys.executable, "-m", "mlscope.dags._probe", str(folder), str(out), str(timeout_s)],
            env=env, capture_output=True, text=True, check=False,
            timeout=timeout_s * 50 + 120)
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise InputError(f"Airflow could not load {folder}: {tail[0]}")
        files: list[dict[str, Any]] = json.loads(out.read_text())["files"]
        return files


def check_folder(folder: str | Path, limit_s: float = PARSE_LIMIT_S) -> CheckResult:
    """Integrity findings for a DAG folder; InputError when it is not a folder of .py files."""
    path = Path(folder)
    if not path.exists():
        raise InputError(f"DAG folder {path} does not exist", "pass the folder holding your DAGs")
    if not path.is_dir():
        raise InputError(f"{path} is not a folder", "pass the folder holding your DAG files")
    if not any(p.suffix == ".py" for p in path.rglob("*.py")):
        raise InputError(f"{path} holds no .py files", "pass the folder holding your DAG files")
    files = probe(path.resolve())
    return CheckResult(str(path), files, findings_of(files, limit_s))
