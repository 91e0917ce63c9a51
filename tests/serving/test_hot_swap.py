"""Hot swap under concurrent load against a real uvicorn: no request may fail."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mlscope.serving.app import create_app
from mlscope.serving.source import PointerFileSource, write_pointer


def test_swaps_under_load_without_failed_requests(
        live_server: Callable[[Any], str], source: PointerFileSource, pointer: Path,
        artifacts: dict[str, Path]) -> None:
    url = live_server(create_app(source, poll_s=0.05))
    stop = threading.Event()
    failures: list[str] = []
    versions: Counter[str] = Counter()
    lock = threading.Lock()

    def client_loop(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=5) as http:
            n = 0
            while not stop.is_set():
                n += 1
                user = f"u{(worker * 7 + n) % 60}"  # some unknown users: fallbacks are not failures
                try:
                    res = http.post("/recommend", json={"user_id": user, "k": 5})
                    ok = res.status_code == 200 and len(res.json()["items"]) == 5
                    with lock:
                        if ok:
                            versions[res.json()["model_version"]] += 1
                        else:
                            failures.append(f"{res.status_code} {res.text[:100]}")
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(repr(exc))

    workers = [threading.Thread(target=client_loop, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    try:
        # Promote back and forth a few times while the clients hammer the server; wait for
        # each swap so a slow poller on a loaded machine cannot skip a version.
        for version in ("2", "1", "2"):
            time.sleep(0.3)
            write_pointer(pointer, version, artifacts[version])
            deadline = time.monotonic() + 10
            while httpx.get(f"{url}/readyz").json()["model_version"] != version:
                assert time.monotonic() < deadline, f"version {version} was never picked up"
                time.sleep(0.02)
        time.sleep(0.3)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=10)

    assert failures == []
    assert versions["1"] > 0 and versions["2"] > 0
    metrics = httpx.get(f"{url}/metrics").text
    assert "mlscope_model_swaps_total 3.0" in metrics
