"""Measure what one request to a served MLflow model costs on this machine (bounded load test).

The real prediction service (`create_app` over a `StaticSource`) runs under uvicorn in a thread
of this process on 127.0.0.1 (a free port); this thread sends `requests` requests one after the
other with httpx. The cost of a request is CPU time, not wall time: process CPU time (every
thread: event loop, thread pool, HTTP parsing, the model) minus the client thread's own CPU
time, divided by the requests. CPU time is what an instance must supply, and it stays close to
the truth on a machine other jobs are loading, where wall time does not. Latencies (client
wall clock, p50/p99) are reported beside it with the load average they were taken under.

Requests: the model's own input example. A recommender pyfunc (an example with `user_id`) is
driven through POST /recommend with its example users; any other pyfunc through POST
/invocations with `dataframe_records` of its example.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlscope.errors import InputError, require

MAX_REQUESTS = 20_000
WARMUP = 20  # first requests pay imports, lazy loads and JIT-like caches: not counted


@dataclass(frozen=True)
class LoadTest:
    route: str
    requests: int
    warmup: int
    concurrency: int
    cpu_s_per_request: float
    p50_ms: float
    p99_ms: float
    wall_s: float
    max_rss_mb: float
    machine: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: CPU model and flags family, CPUs, load average."""
    model, vendor, flags = platform.processor() or "unknown", "unknown", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name":
                model = value.strip()
            elif key == "vendor_id":
                vendor = value.strip()
            elif key == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    from mlscope.catalog.cpus import machine_family

    fam = machine_family(flags, vendor)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {"cpu_model": model, "vendor": vendor, "cpus": os.cpu_count(),
            "cpu_family": fam.family, "load_average_1m": round(load[0], 2),
            "load_average_5m": round(load[1], 2)}


def _requests_for(artifact: Path) -> tuple[str, list[dict[str, Any]]]:
    from mlscope.release.pyfunc import input_example

    example = input_example(artifact)
    records = example.to_dict(orient="records") if hasattr(example, "to_dict") else None
    if not records:
        raise InputError(f"the input example of {artifact} has no rows",
                         "log the model with input_example=... (a few real rows)")
    if "user_id" in records[0]:
        return "/recommend", [{"user_id": str(r["user_id"]), "k": int(r.get("k") or 10)}
                              for r in records]
    return "/invocations", [{"dataframe_records": [_plain(r)]} for r in records]


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in record.items():
        out[key] = value.item() if hasattr(value, "item") else value
    return out


def check_artifact(artifact: str | Path) -> Path:
    path = Path(artifact)
    if not path.is_dir():
        raise InputError(f"model artifact '{path}' does not exist or is not a folder",
                         "pass the folder of an MLflow Model (the one holding MLmodel)")
    if not (path / "MLmodel").exists():
        raise InputError(f"'{path}' holds no MLmodel file: not an MLflow Model",
                         "pass the folder of an MLflow Model (the one holding MLmodel)")
    return path


def measure(artifact: str | Path, requests: int = 300, warmup: int = WARMUP) -> LoadTest:
    """Serve `artifact` on 127.0.0.1 and send `requests` sequential requests (after `warmup`)."""
    if not isinstance(requests, int) or not 10 <= requests <= MAX_REQUESTS:
        raise InputError(f"--requests must be an integer between 10 and {MAX_REQUESTS} "
                         f"(got {requests})", "e.g. --requests 300")
    path = check_artifact(artifact)
    require("uvicorn", "serving")
    httpx = require("httpx", "serving")
    import uvicorn

    from mlscope.serving.app import create_app
    from mlscope.serving.source import StaticSource

    route, bodies = _requests_for(path)
    app = create_app(StaticSource(path), model_name="loadtest")
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="mlscope-loadtest")
    thread.start()
    try:
        deadline = time.monotonic() + 60  # generous: a loaded machine loads MLflow slowly
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise InputError(f"the model in {path} could not be served",
                                 "check it with `mlscope release check` or `mlscope serve`")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}{route}"
        latencies: list[float] = []
        with httpx.Client(timeout=30.0) as client:
            for i in range(warmup):
                _send(client, url, bodies[i % len(bodies)])
            cpu0, own0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
            for i in range(requests):
                t0 = time.perf_counter()
                _send(client, url, bodies[i % len(bodies)])
                latencies.append(time.perf_counter() - t0)
            cpu1, own1, wall1 = time.process_time(), time.thread_time(), time.perf_counter()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    server_cpu = (cpu1 - cpu0) - (own1 - own0)
    latencies.sort()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return LoadTest(route=route, requests=requests, warmup=warmup, concurrency=1,
                    cpu_s_per_request=max(server_cpu, 0.0) / requests,
                    p50_ms=_quantile(latencies, 0.50) * 1000,
                    p99_ms=_quantile(latencies, 0.99) * 1000, wall_s=wall1 - wall0,
                    max_rss_mb=rss_kb / 1024, machine=machine_info())


def _send(client: Any, url: str, body: dict[str, Any]) -> None:
    res = client.post(url, json=body)
    if res.status_code != 200:
        raise InputError(f"the served model answered {res.status_code} to its own input "
                         f"example at {url.rsplit('/', 1)[-1]}: {res.text[:120]}",
                         "check the model with `mlscope release check`")


def _quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile (p99 of 300 requests is the 297th)."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]
