"""Deploy tests: state and identity isolated per test; small artifacts on disk."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mlscope.release.deploy.aws import AwsClients, AwsSettings, make_clients
from mlscope.serving.synthetic import write_random_artifact

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _release_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("MLSCOPE_STATE_DIR", str(state))
    monkeypatch.setenv("MLSCOPE_USER", "deployer@example.com")
    monkeypatch.setenv("MLSCOPE_LOCAL_DEV", "1")  # library-level tests: flagged unsigned
    monkeypatch.delenv("MLSCOPE_SIGNING_KEY", raising=False)
    monkeypatch.delenv("MLSCOPE_SPEC", raising=False)
    return state


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, Path]:
    return {v: write_random_artifact(tmp_path / f"v{v}", v, seed=int(v)) for v in ("1", "2")}


@pytest.fixture
def registered(artifacts: dict[str, Path]) -> str:
    """Model `rec` with versions 1 and 2 in the (per-test) MLflow registry; returns its name."""
    from mlscope.release.registry import Registry

    registry = Registry()
    for version in ("1", "2"):
        run_id = registry.log_run(artifacts[version], run_name=f"v{version}")
        assert registry.register("rec", run_id, author="trainer@example.com") == int(version)
    return "rec"


@pytest.fixture
def settings(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> AwsSettings:
    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_SESSION_TOKEN", "testing"), ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(var, value)
    httpx.post(f"{moto_url}/moto-api/reset", timeout=10)
    return AwsSettings(region=REGION, bucket="models", role_arn=f"arn:aws:iam::{ACCOUNT}:role/sm",
                       image_uri=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/rec:1",
                       endpoint_url=moto_url, poll_s=0.05, wait_timeout_s=10)


@pytest.fixture
def clients(settings: AwsSettings) -> AwsClients:
    c = make_clients(settings)
    c.s3.create_bucket(Bucket="models")
    return c
