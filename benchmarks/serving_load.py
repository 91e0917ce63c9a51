"""Load benchmark of the serving app during promotions (wrk, 127.0.0.1 only, bounded in time).

Two scenarios, each a wrk run of --seconds against a real uvicorn process on a free port:

  promotion  `python -m mlscope.serving --model rec --alias prod` (what `mlscope serve` runs):
             halfway through, the registry's `prod` alias moves from version 1 to 2 (the last
             step of `mlscope release promote`); the server notices by polling and hot-swaps.
  deploy     the local deploy target: `deploy_local` v1 starts the server, halfway through
             `deploy_local` v2 rewrites its pointer and calls /admin/reload (hot swap).

Prints requests/s, p50/p99 latency and failed requests (non-2xx + socket errors, from wrk) per
scenario, and checks from the server's own /metrics that the swap happened. Everything runs in a
temporary state directory; artifacts are random factors at MovieLens-100k's size (943 users,
1,682 items, 64 factors), with ~6% unknown users in the load, which get the fallback answer.

    .venv/bin/python benchmarks/serving_load.py [--seconds 10] [--connections 16] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  -- users u0..u999: u943 and above are unknown to the model (fallback answers, still 200)
  local body = '{"user_id":"u' .. (n * 7919 % 1000) .. '","k":10}'
  return wrk.format(nil, "/recommend", nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\"requests\":%d,\"duration_us\":%d,\"connect\":%d,\"read\":%d,\"write\":%d," ..
    "\"status\":%d,\"timeout\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def free_port() -> int:
    from mlscope.release.deploy.local import free_port as pick

    return pick()


def wait_version(url: str, version: str, timeout_s: float = 60) -> float:
    """Seconds until /readyz reports `version`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).json().get("model_version") == version:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} never served version {version}")


def run_wrk(url: str, seconds: int, connections: int, threads: int, script: Path,
            mid_run: Callable[[], None]) -> dict[str, Any]:
    """wrk for `seconds`; `mid_run` fires at half time (in a thread, while wrk keeps going)."""
    timer = threading.Timer(seconds / 2, mid_run)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
           "-s", str(script), url]
    timer.start()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30,
                              check=True)
    finally:
        timer.join()
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT "))
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    failed = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {"requests": raw["requests"],
            "requests_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "p50_ms": round(raw["p50_us"] / 1000, 2), "p99_ms": round(raw["p99_us"] / 1000, 2),
            "max_ms": round(raw["max_us"] / 1000, 2), "failed_requests": failed,
            "failed_detail": {k: raw[k] for k in ("connect", "read", "write", "status",
                                                  "timeout")}}


def server_counts(url: str) -> dict[str, Any]:
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, Any] = {"status": {}, "swaps": 0.0, "fallbacks": 0.0}
    for fam in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=5).text):
        for s in fam.samples:
            if s.name == "mlscope_requests_total" and s.labels.get("route") == "/recommend":
                code = s.labels["status"]
                out["status"][code] = out["status"].get(code, 0) + s.value
            elif s.name == "mlscope_model_swaps_total":
                out["swaps"] = s.value
            elif s.name == "mlscope_fallbacks_total":
                out["fallbacks"] += s.value
    return out


def scenario_promotion(work: Path, arts: dict[str, Path], args: argparse.Namespace,
                       script: Path) -> dict[str, Any]:
    from mlscope.release.registry import Registry

    registry = Registry()
    for v in ("1", "2"):
        registry.register("rec", registry.log_run(arts[v], run_name=f"v{v}"),
                          author="benchmark@localhost")
    registry.set_alias("rec", "prod", 1)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(work / "promotion-server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "mlscope.serving", "--model", "rec",
                             "--alias", "prod", "--port", str(port), "--poll-s", "1"],
                            stdout=log, stderr=subprocess.STDOUT)
    swap: dict[str, float] = {}
    try:
        wait_version(url, "1")

        def promote() -> None:
            registry.set_alias("rec", "prod", 2)
            swap["seconds_to_serve_new_version"] = round(wait_version(url, "2", 30), 2)

        result = run_wrk(url, args.seconds, args.connections, args.threads, script, promote)
        return {**result, **swap, "server": server_counts(url), "final_version":
                httpx.get(f"{url}/readyz").json()["model_version"]}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def scenario_deploy(arts: dict[str, Path], args: argparse.Namespace,
                    script: Path) -> dict[str, Any]:
    from mlscope.release.deploy.local import deploy_local, stop_local

    first = deploy_local("rec", "1", arts["1"], "bench", port=free_port(), poll_s=0)
    url = first["url"]
    swap: dict[str, Any] = {}
    try:
        def redeploy() -> None:
            t0 = time.monotonic()
            second = deploy_local("rec", "2", arts["2"], "bench")
            swap["seconds_to_serve_new_version"] = round(time.monotonic() - t0, 2)
            swap["action"] = second["action"]

        result = run_wrk(url, args.seconds, args.connections, args.threads, script, redeploy)
        return {**result, **swap, "server": server_counts(url), "final_version":
                httpx.get(f"{url}/readyz").json()["model_version"]}
    finally:
        stop_local("bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 2 <= args.seconds <= 60:
        parser.error("--seconds must be between 2 and 60")
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk); no figures measured", file=sys.stderr)
        return 2
    from mlscope.serving.synthetic import write_random_artifact

    with tempfile.TemporaryDirectory(prefix="mlscope-bench-") as tmp:
        work = Path(tmp)
        os.environ["MLSCOPE_STATE_DIR"] = str(work / "state")
        os.environ.setdefault("MLSCOPE_USER", "benchmark@localhost")
        os.environ["MLSCOPE_LOCAL_DEV"] = "1"  # a benchmark on this machine: flagged, unsigned
        arts = {v: write_random_artifact(work / f"v{v}", v, users=943, items=1682, factors=64,
                                         seed=int(v)) for v in ("1", "2")}
        script = work / "recommend.lua"
        script.write_text(LUA)
        results = {"promotion": scenario_promotion(work, arts, args, script),
                   "deploy": scenario_deploy(arts, args, script)}
    settings = {"seconds": args.seconds, "connections": args.connections,
                "threads": args.threads, "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps({"settings": settings, "results": results}, indent=2))
    else:
        print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s POST /recommend "
              f"on 127.0.0.1, one uvicorn worker, {os.cpu_count()} CPUs (shared)")
        head = (f"{'scenario':<10} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'failed':>6} {'swap s':>6} {'final v':>7}  server status counts")
        print(head)
        for name, r in results.items():
            print(f"{name:<10} {r['requests']:>9} {r['requests_per_s']:>8} {r['p50_ms']:>7} "
                  f"{r['p99_ms']:>7} {r['failed_requests']:>6} "
                  f"{r.get('seconds_to_serve_new_version', 'n/a'):>6} {r['final_version']:>7}  "
                  f"{ {k: int(v) for k, v in r['server']['status'].items()} } "
                  f"swaps={int(r['server']['swaps'])} fallbacks={int(r['server']['fallbacks'])}")
    failed = sum(r["failed_requests"] for r in results.values())
    swapped = all(r["final_version"] == "2" for r in results.values())
    return 0 if failed == 0 and swapped else 1


if __name__ == "__main__":
    sys.exit(main())
