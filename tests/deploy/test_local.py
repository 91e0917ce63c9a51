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
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.npz").write_bytes(b"not a zip file")
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
    with pytest.raises(InputError, match="no model artifact"):
        deploy_local("rec", "1", tmp_path, "dev")


def test_a_first_version_that_fails_to_load_fails_fast(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.npz").write_bytes(b"not a zip file")
    with pytest.raises(DeployError, match="version 1 did not load"):
        deploy_local("rec", "1", broken, "dev", ready_timeout_s=30)
    assert running_server("dev") is None
