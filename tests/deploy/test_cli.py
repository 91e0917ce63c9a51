"""`mlscope deploy` and `mlscope serve` through the real CLI entry point."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlscope.cli.deploy_cmd import parse_weights
from mlscope.errors import InputError


def test_deploy_local_status_and_stop_via_the_cli(run: Callable[..., Any], registered: str) -> None:
    res = run("deploy", registered, "1", "--env", "dev", "--reason", "first", "--json")
    assert res.code == 0, res.err
    url = res.json()["url"]
    try:
        assert httpx.get(f"{url}/readyz", timeout=5).json()["model_version"] == "1"
        res = run("deploy", "run", registered, "2", "--env", "dev", "--json")
        assert res.code == 0 and res.json()["action"] == "hot_swap"
        status = run("deploy", "status", "--json").json()
        assert [(s["env"], s["serving_version"]) for s in status["servers"]] == [("dev", "2")]
    finally:
        stopped = run("deploy", "stop", "--env", "dev", "--json")
    assert stopped.code == 0 and stopped.json()["stopped"] is True
    assert run("deploy", "status", "--json").json()["servers"] == []


@pytest.mark.parametrize(("args", "message"), [
    (["deploy", "rec", "1", "--env", "dev", "--target", "gcp"], "--target"),
    (["deploy", "rec", "0", "--env", "dev"], "VERSION"),
    (["deploy", "rec", "1", "--env", "dev", "--weight", "0.5"], "aws target only"),
    (["deploy", "stop", "--env", "dev"], "no local server is running"),
    (["deploy", "shift", "--weights", "v1=lots", "--endpoint-name", "e"], "VARIANT=SHARE"),
    (["deploy", "status", "--target", "aws"], "--endpoint-name is needed"),
    (["serve", "--model", "rec", "--alias", "prod", "--artifact", "."], "exactly one of"),
    (["serve", "--artifact", ".", "--port", "70000"], "out of range"),
])
def test_errors_are_one_line_with_exit_2(run: Callable[..., Any], args: list[str],
                                         message: str) -> None:
    res = run(*args)
    assert res.code == 2
    assert message in res.err and "Traceback" not in res.err
    assert len(res.err.strip().splitlines()) == 1


def test_deploy_of_an_unknown_model_suggests_the_known_one(
        run: Callable[..., Any], registered: str) -> None:
    res = run("deploy", "recc", "1", "--env", "dev")
    assert res.code == 2 and "did you mean rec" in res.err


def test_serve_an_alias_that_holds_nothing_exits_2(run: Callable[..., Any],
                                                   registered: str) -> None:
    res = run("serve", "--model", registered, "--alias", "prod")
    assert res.code == 2 and "holds no version" in res.err


@pytest.mark.slow
def test_serve_follows_the_alias_in_a_real_process(registered: str, tmp_path: Path) -> None:
    from mlscope.release.registry import Registry

    registry = Registry()
    registry.set_alias(registered, "prod", 1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlscope", "serve", "--model", registered, "--alias",
         "prod", "--port", str(port), "--poll", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for_version(url, "1", proc)
        registry.set_alias(registered, "prod", 2)  # a promotion: the server swaps by itself
        assert wait_for_version(url, "2", proc)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def wait_for_version(url: str, version: str, proc: subprocess.Popen[bytes],
                     timeout_s: float = 120) -> bool:  # a loaded CI machine is slow to start
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        try:
            if httpx.get(f"{url}/readyz", timeout=1).json().get("model_version") == version:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
                       st.floats(min_value=0, max_value=1e6), min_size=1, max_size=5))
def test_weights_round_trip(weights: dict[str, float]) -> None:
    text = ",".join(f"{k}={v!r}" for k, v in weights.items())
    assert parse_weights(text) == weights


@given(st.text(max_size=30))
def test_weights_parser_never_crashes(text: str) -> None:
    try:
        parsed = parse_weights(text)
    except InputError:
        return
    assert all(v >= 0 and math.isfinite(v) for v in parsed.values())


def test_aws_deploy_status_and_shift_via_the_cli(
        run: Callable[..., Any], registered: str, clients: Any, settings: Any) -> None:
    aws = ["--target", "aws", "--endpoint-url", settings.endpoint_url, "--region", "us-east-1"]
    res = run("deploy", registered, "1", "--env", "dev", *aws, "--endpoint-name", "rec-prod",
              "--bucket", "models", "--role-arn", settings.role_arn, "--image",
              settings.image_uri, "--json")
    assert res.code == 0, res.err
    assert res.json()["after"] == {"endpoint": "rec-prod", "status": "InService",
                                   "config": res.json()["endpoint_config"],
                                   "weights": {"v1": 1.0}}
    where = ["--endpoint-name", "rec-prod", "--endpoint-url", settings.endpoint_url]
    res = run("deploy", "status", "--target", "aws", *where, "--json")
    assert res.code == 0 and res.json()["status"] == "InService"
    res = run("deploy", "shift", "--weights", "v1=2", *where, "--json")
    assert res.code == 0 and res.json()["weights"] == {"v1": 2.0}
    res = run("deploy", "shift", "--weights", "v9=1", *where)
    assert res.code == 2 and "did you mean v1" in res.err


def test_serve_without_the_serving_extra_says_how_to_install_it(
        run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "uvicorn" else real(name, *a))
    res = run("serve", "--artifact", ".")
    assert res.code == 2 and "pip install 'mlscope[serving]'" in res.err
