"""Shared test helpers: run the real CLI in-process and isolate user state per test."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlscope.catalog import reset_catalog
from mlscope.cli.main import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own MLSCOPE_HOME so catalog imports and registries never leak."""
    monkeypatch.setenv("MLSCOPE_HOME", str(tmp_path_factory.mktemp("mlscope_home")))
    reset_catalog()


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `mlscope ARGS...` through the real entry point; returns exit code and output."""

    def _run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


@contextmanager
def _moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@contextmanager
def _dummy_aws_credentials() -> Iterator[None]:
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_SESSION_TOKEN="testing", AWS_DEFAULT_REGION="us-east-1")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def start_moto() -> Callable[[], AbstractContextManager[str]]:
    """`with start_moto() as url:` runs moto's threaded server on a free loopback port."""
    return _moto_server


@pytest.fixture(scope="session")
def aws_test_credentials() -> Callable[[], AbstractContextManager[None]]:
    """`with aws_test_credentials():` sets dummy AWS keys (us-east-1) and restores the old."""
    return _dummy_aws_credentials


@pytest.fixture(scope="module")
def moto_url(start_moto: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    """moto's server for one test module (reset it between tests that need a clean state)."""
    with start_moto() as url:
        yield url
