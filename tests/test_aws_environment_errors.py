"""Commands that call AWS without credentials, a region or a reachable endpoint: one line, exit 2.

Before, botocore's NoCredentialsError surfaced as a traceback with exit 1 (found by running the
docs' examples). The in-process `run` fixture goes through the real entry point.
"""

from __future__ import annotations

import pytest

from mlscope.cli.main import aws_environment_problem


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SAGEMAKER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata wait
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # boto3's default session caches the credentials it resolved for earlier tests (moto's
    # fixtures set stub keys): start from none, as a fresh process does.
    import boto3

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("args", [
    ["release", "state", "pull", "--url", "s3://acme-ml/release-state"],
    ["deploy", "shift", "--endpoint-name", "recommender-prod", "--weights", "v1=0.5"],
    ["deploy", "status", "--target", "aws", "--endpoint-name", "recommender-prod"],
])
def test_missing_credentials_is_one_line_exit_2(run, no_aws_credentials, args) -> None:  # type: ignore[no-untyped-def]
    res = run(*args)
    assert res.code == 2, (res.out, res.err)
    assert "no AWS credentials" in res.err and "Traceback" not in res.err
    assert res.err.strip().count("\n") == 0


def test_mapping_by_hand() -> None:
    from botocore.exceptions import ClientError, NoRegionError

    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
    assert "AccessDenied" in (aws_environment_problem(denied) or "")
    assert "region" in (aws_environment_problem(NoRegionError()) or "")
    # Anything else is not ours to reword: a bug stays a traceback.
    other = ClientError({"Error": {"Code": "ValidationException", "Message": "x"}}, "Op")
    assert aws_environment_problem(other) is None
    assert aws_environment_problem(ValueError("x")) is None
