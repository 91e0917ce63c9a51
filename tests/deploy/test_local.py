"""The local target: a real background uvicorn process started, hot-swapped and stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mlscope.errors import ConflictError, InputError
from mlscope.release.audit import default_audit_log
from mlscope.release.deploy import DeployError
from mlscope.release.deploy.local import deploy_local, local_status, running_server, stop_local


@pytest.fixture
def cleanup() -> Iterator[None]:
    yield
    for env in ("dev", "qa"):
        if running_server(env) is not None:
            stop_local(env)


def _broken_copy(src: Path, tmp_path: Path) -> Path:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(src, broken)
    (broken / "python_model.pkl").write_bytes(b"not a pickle")
    return broken


def served_version(url: str) -> str:
    res = httpx.post(f"{url}/recommend", json={"user_id": "u1", "k": 3}, timeout=5)
    assert res.status_code == 200
    return str(res.json()["model_version"])


def test_start_hot_swap_and_stop(artifacts: dict[str, Path], cleanup: None) -> None:
    first = deploy_local("rec", "1", artifacts["1"], "dev")
    assert first["action"] == "start" and served_version(first["url"]) == "1"
    assert [s["env"] for s in local_status()] == ["dev"]

    second = deploy_local("rec", "2", artifacts["2"], "dev")
    assert second["action"] == "hot_swap" and second["pid"] == first["pid"]
    assert second["previous_version"] == "1"
    assert served_version(first["url"]) == "2"

    stopped = stop_local("dev")
    assert stopped["stopped"] is True
    assert running_server("dev") is None and local_status() == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{first['url']}/healthz", timeout=1)

    log = default_audit_log()
    entries = log.entries()
    assert [e["action"] for e in entries] == ["deploy", "deploy", "undeploy"]
    assert {e["actor"] for e in entries} == {"deployer@example.com"}
    assert entries[1]["before"]["version"] == "1" and entries[1]["after"]["version"] == "2"
    assert log.verify().ok


def test_a_version_that_fails_to_load_leaves_the_old_one_serving(
        artifacts: dict[str, Path], tmp_path: Path, cleanup: None) -> None:
    first = deploy_local("rec", "1", artifacts["1"], "dev")
    broken = _broken_copy(artifacts["2"], tmp_path)
    with pytest.raises(DeployError, match="version 3 did not load") as failed:
        deploy_local("rec", "3", broken, "dev")
    assert "version 1 is still serving" in failed.value.one_line()
    assert served_version(first["url"]) == "1"
    assert running_server("dev").version == "1"  # type: ignore[union-attr]
    assert [e["action"] for e in default_audit_log().entries()] == ["deploy", "deploy_failed"]


def test_another_model_in_a_busy_environment_conflicts(
        artifacts: dict[str, Path], cleanup: None) -> None:
    deploy_local("rec", "1", artifacts["1"], "qa")
    with pytest.raises(ConflictError, match="already serves model rec"):
        deploy_local("other", "1", artifacts["2"], "qa")


def test_stop_without_a_server_says_so() -> None:
    with pytest.raises(InputError, match="no local server is running"):
        stop_local("dev")


def test_a_directory_without_an_artifact_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no MLflow Model"):
        deploy_local("rec", "1", tmp_path, "dev")


def test_a_first_version_that_fails_to_load_fails_fast(artifacts: dict[str, Path],
                                                       tmp_path: Path) -> None:
    broken = _broken_copy(artifacts["2"], tmp_path)
    with pytest.raises(DeployError, match="version 1 did not load"):
        deploy_local("rec", "1", broken, "dev", ready_timeout_s=30)
    assert running_server("dev") is None


CRASHING_MODEL = """\
import os
import sys

import mlflow.pyfunc
from mlflow.models import set_model


class Crash(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        # only inside the server process (python -m mlscope.serving), wherever the checkout is
        if os.path.basename(os.path.dirname(sys.argv[0])) == "serving":
            os._exit(1)  # the server dies in the middle of the swap

    def predict(self, context, model_input):
        return model_input


set_model(Crash())
"""


def test_a_server_that_dies_mid_swap_comes_back_on_the_last_good_version(
        artifacts: dict[str, Path], tmp_path: Path, cleanup: None) -> None:
    import mlflow.pyfunc
    import pandas as pd

    code = tmp_path / "crash_model.py"
    code.write_text(CRASHING_MODEL)
    crash = tmp_path / "crash"
    mlflow.pyfunc.save_model(str(crash), python_model=str(code),
                             input_example=pd.DataFrame({"x": [1.0]}))
    first = deploy_local("rec", "1", artifacts["1"], "dev")
    with pytest.raises(DeployError, match="died while loading version 2") as failed:
        deploy_local("rec", "2", crash, "dev")
    assert "restarted on the last good version 1" in failed.value.one_line()
    assert served_version(first["url"]) == "1"
    actions = [e["action"] for e in default_audit_log().entries()]
    assert actions == ["deploy", "deploy_failed"]


def test_hot_swaps_work_with_the_admin_token_set(artifacts: dict[str, Path],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 cleanup: None) -> None:
    monkeypatch.setenv("MLSCOPE_ADMIN_TOKEN", "t0ken-for-this-test")
    first = deploy_local("rec", "1", artifacts["1"], "dev")
    assert httpx.post(f"{first['url']}/admin/reload", timeout=5).status_code == 403
    second = deploy_local("rec", "2", artifacts["2"], "dev")
    assert second["action"] == "hot_swap" and served_version(first["url"]) == "2"
