"""Run one DAG with Airflow's `dag.test()` in a fresh process; print task states as JSON.

Used by test_airflow.py: Airflow reads AIRFLOW_HOME and its config at import, so each run gets
its own process (and its own SQLite metadata database), never the pytest process.
Usage: python dagrun_driver.py DAG_FOLDER DAG_ID OUT.json
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main(folder: str, dag_id: str, out: str) -> int:
    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"],
                             capture_output=True, text=True, check=False)
    if migrate.returncode != 0:
        Path(out).write_text(json.dumps({"error": migrate.stderr[-2000:]}))
        return 1
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder, safe_mode=False)
    dag = bag.dags[dag_id]
    for task in dag.tasks:
        # dag.test() sleeps through retry delays in real time: a failure must fail at once.
        task.retries = 0
    run = dag.test()
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    Path(out).write_text(json.dumps({"state": str(run.state), "tasks": states,
                                     "import_errors": {str(k): str(v)
                                                       for k, v in bag.import_errors.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
