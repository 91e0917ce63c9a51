"""Fixtures: small artifacts on disk and a pointer source that a test can promote."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlscope.serving.source import PointerFileSource, write_pointer
from mlscope.serving.synthetic import write_random_artifact


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, Path]:
    return {v: write_random_artifact(tmp_path / f"v{v}", v, seed=int(v)) for v in ("1", "2")}


@pytest.fixture
def pointer(tmp_path: Path, artifacts: dict[str, Path]) -> Path:
    path = tmp_path / "current.json"
    write_pointer(path, "1", artifacts["1"])
    return path


@pytest.fixture
def source(pointer: Path) -> PointerFileSource:
    return PointerFileSource(pointer)


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], str]]:
    """Start an app under a real uvicorn on 127.0.0.1 (free port) in a thread; yields its URL."""
    import uvicorn

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> str:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        servers.append((server, thread))
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
