"""Child process of `mlscope dags test`: load each DAG file with Airflow's own DagBag.

Run as `python -m mlscope.dags._probe FOLDER OUT.json TIMEOUT_S`. Airflow and its task SDK are
imported once (every DAG processor has them loaded); then each file is parsed in a forked child,
as Airflow's DAG processor does, so one file's imports, hangs or crashes cannot touch another's
result and the parse time of each file is its own. Variables and connections are stubbed, so a
DAG that reads them at parse time loads without a metadata database or AWS.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import sys
import time
import traceback
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

CYCLE = "AirflowDagCycleException"


def _stub_variables_and_connections() -> None:
    """Variable.get returns its default (or a stub); connections resolve to a dummy AWS one."""

    def _get(key: str, default: Any = None, *args: Any, **kwargs: Any) -> Any:
        default = kwargs.get("default_var", default)
        if kwargs.get("deserialize_json"):
            return default if default is not None else {}
        return default if default is not None else f"stub-{key}"

    targets: list[tuple[str, str]] = [("airflow.sdk", "Variable"),
                                      ("airflow.models.variable", "Variable")]
    for module_name, attr in targets:
        try:
            module = __import__(module_name, fromlist=[attr])
            getattr(module, attr).get = staticmethod(_get)
        except Exception:  # an Airflow without that class: nothing to stub there
            continue
    try:
        from airflow.sdk import BaseHook, Connection

        def _conn(conn_id: str, *args: Any, **kwargs: Any) -> Any:
            return Connection(conn_id=conn_id, conn_type="aws", login="stub", password="stub")

        BaseHook.get_connection = staticmethod(_conn)  # type: ignore[method-assign]
    except Exception:
        pass


def _one_line(message: str, path: str) -> str:
    """The last line of a traceback, plus the line in the DAG file where it started."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else "unknown error"
    where = re.findall(rf'File "{re.escape(path)}", line (\d+)', message)
    return f"{last} (line {where[-1]})" if where else last


def _dag_facts(dag: Any) -> dict[str, Any]:
    tasks = list(dag.tasks)
    start = getattr(dag, "start_date", None)
    timetable = getattr(dag, "timetable", None)
    return {
        "dag_id": dag.dag_id,
        "owner": str((dag.default_args or {}).get("owner") or ""),
        "task_owners": sorted({str(t.owner or "") for t in tasks}),
        "tasks": len(tasks),
        "no_retries": sorted(t.task_id for t in tasks if (t.retries or 0) < 1),
        "tags": sorted(str(t) for t in (dag.tags or [])),
        "catchup": bool(getattr(dag, "catchup", False)),
        # Airflow 2 timetables have summary/periodic; Airflow 3's SDK ones expression and
        # can_be_scheduled.
        "schedule": (getattr(timetable, "summary", None) or getattr(timetable, "expression", None)
                     or type(timetable).__name__),
        "periodic": bool(getattr(timetable, "periodic",
                                 getattr(timetable, "can_be_scheduled", False))),
        "start_date": start.isoformat() if isinstance(start, datetime) else None,
    }


def run_queue_wait_s() -> float | None:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux schedstat), or None.

    /proc/thread-self/schedstat holds: time on a CPU, time waiting on a run queue (ns), slices.
    """
    try:
        fields = Path("/proc/thread-self/schedstat").read_text().split()
        return int(fields[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def load_seconds(file_s: float | None, wall_s: float, waited_s: float | None) -> float:
    """A file's load time without the time a busy machine kept it off the CPU.

    `file_s` is Airflow's own duration for the file, `wall_s` the whole DagBag call and
    `waited_s` the run-queue wait during that call. The call's wall minus its wait still holds
    all of the file's own work (CPU, I/O, sleeps), so the smaller of the two never hides a
    slow top-level call; it only drops what other processes' load added.
    """
    measured = file_s if file_s is not None else wall_s
    if waited_s is None:
        return measured
    return min(measured, max(wall_s - waited_s, 0.0))


def _parse(path: str, bundle: str, out: Connection) -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag

        waited = run_queue_wait_s()
        started = time.perf_counter()
        bag = DagBag(dag_folder=path, safe_mode=False, bundle_path=Path(bundle))
        wall = time.perf_counter() - started
        after = run_queue_wait_s()
        stats = [s for s in bag.dagbag_stats if str(s.file).endswith(Path(path).name)]
        seconds = load_seconds(stats[0].duration.total_seconds() if stats else None, wall,
                               after - waited if after is not None and waited is not None
                               else None)
        errors = []
        for file, message in bag.import_errors.items():
            text = str(message)
            kind = "cycle" if CYCLE in text else "import error"
            text = text.replace(f"{CYCLE}: ", "")
            errors.append({"kind": kind, "message": _one_line(text, str(file))})
        result = {"seconds": seconds, "errors": errors,
                  "dags": [_dag_facts(d) for d in bag.dags.values()]}
    except BaseException as exc:
        result = {"seconds": 0.0, "dags": [], "errors": [
            {"kind": "import error", "message": _one_line(traceback.format_exc(), path)
             or repr(exc)}]}
    out.send(result)
    out.close()


def _files(folder: Path) -> list[Path]:
    try:
        from airflow.utils.file import list_py_file_paths

        return sorted(Path(p) for p in list_py_file_paths(str(folder), safe_mode=False))
    except Exception:
        return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _load(context: Any, path: Path, folder: Path, timeout: float) -> dict[str, Any]:
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_parse, args=(str(path), str(folder), send))
    child.start()
    send.close()
    entry: dict[str, Any]
    if receive.poll(timeout):
        try:
            entry = receive.recv()
        except EOFError:
            entry = {"seconds": 0.0, "dags": [], "errors": [
                {"kind": "import error", "message": "the loader process died"}]}
    else:
        entry = {"seconds": timeout, "dags": [], "errors": [
            {"kind": "timeout", "message": f"did not finish loading in {timeout:g} s"}]}
        child.kill()
    child.join(10)
    receive.close()
    return entry


def main(argv: list[str]) -> int:
    folder, out_path, timeout = Path(argv[0]).resolve(), Path(argv[1]), float(argv[2])
    sys.path.insert(0, str(folder))  # Airflow puts the DAGs folder on sys.path
    import airflow.sdk  # noqa: F401 - loaded once, as in every DAG processor
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401

    _stub_variables_and_connections()
    context = multiprocessing.get_context("fork")
    results = []
    for path in _files(folder):
        # Two loads in fresh forks; the faster counts: a busy machine only ever adds time, and
        # a slow top-level call is slow both times.
        first = _load(context, path, folder, timeout)
        entry = first
        if not first["errors"]:
            second = _load(context, path, folder, timeout)
            if not second["errors"] and second["seconds"] < first["seconds"]:
                entry = second
        results.append({"file": str(path.relative_to(folder)), **entry})
    out_path.write_text(json.dumps({"files": results}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    sys.exit(main(sys.argv[1:]))
