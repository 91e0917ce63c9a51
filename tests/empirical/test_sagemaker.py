"""`--on sagemaker`: calibration runs as SageMaker training jobs, against moto's server.

Limits of this test: moto accepts and describes training jobs but runs no container and
completes each job at once, so what is checked is the API conversation (job definition:
instance type, entrypoint and arguments with the fraction, environment, runtime limit;
polling; failure and timeout mapping; stopping the job on Ctrl-C), not measured durations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mlscope.estimate.empirical.measure import TIMEOUT_EXIT_CODE
from mlscope.estimate.empirical.sagemaker import SageMakerRunner, job_environment, measurement

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sm-calibrate"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1"


@pytest.fixture
def sent() -> Iterator[list[dict[str, Any]]]:
    """The CreateTrainingJob requests as boto3 sends them (moto keeps no Environment)."""
    import boto3

    boto3.setup_default_session()
    seen: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("provide-client-params.sagemaker.CreateTrainingJob",
                                          capture)
    yield seen
    boto3.DEFAULT_SESSION = None


@pytest.fixture
def sm(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import boto3
    import httpx

    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION),
                       ("AWS_ENDPOINT_URL_SAGEMAKER", moto_url)):
        monkeypatch.setenv(var, value)
    httpx.post(f"{moto_url}/moto-api/reset", timeout=10)
    return boto3.client("sagemaker", region_name=REGION)


def _jobs(sm: Any) -> list[dict[str, Any]]:
    names = [j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]]
    return [sm.describe_training_job(TrainingJobName=n) for n in names]


def test_calibration_runs_are_training_jobs_on_the_target_instance(
        run, sm: Any, sent: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_API_TOKEN", "do-not-ship-me")
    res = run("calibrate", "--on", "sagemaker", "--instance", "ml.c6i.4xlarge",
              "--sagemaker-image", IMAGE, "--sagemaker-role", ROLE,
              "--sagemaker-output", "s3://calib-bucket/out", "--fractions", "0.1,0.2,0.4",
              "--repeats", "1", "--no-warmup", "--fixed-fraction", "0", "--extra-runs", "0",
              "--json", "--", "python", "train.py", "--fraction", "{fraction}")
    assert res.code == 0, res.err
    jobs = _jobs(sm)
    assert len(jobs) == 3
    fractions = sorted(j["AlgorithmSpecification"]["ContainerArguments"][-1] for j in jobs)
    assert fractions == ["0.1", "0.2", "0.4"]
    for job in jobs:
        assert job["ResourceConfig"]["InstanceType"] == "ml.c6i.4xlarge"
        assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE
        assert job["AlgorithmSpecification"]["ContainerEntrypoint"] == ["python"]
        assert job["RoleArn"] == ROLE
        assert job["OutputDataConfig"]["S3OutputPath"] == "s3://calib-bucket/out"
        assert job["StoppingCondition"]["MaxRuntimeInSeconds"] >= 1
    assert len(sent) == 3
    for request in sent:
        env = request["Environment"]
        assert env["MLSCOPE_FRACTION"] == request["AlgorithmSpecification"][
            "ContainerArguments"][-1]
        # The local environment (credentials, tokens) never reaches the job.
        assert "MY_API_TOKEN" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    out = res.json()
    inst = out["instances"][0]
    assert inst["instance_type"] == "ml.c6i.4xlarge"
    assert inst["speed_basis"] == "measured on this instance type (--on sagemaker)"
    assert any("SageMaker training jobs" in a for a in out["assumptions"])
    assert out["fit"]["basis"] == "wall"  # no CPU time from the API


@pytest.mark.parametrize(("argv", "fix"), [
    (("--instance", "c6i.4xlarge"), "ml.c6i.4xlarge"),  # not a SageMaker type
    (("--instance", "ml.c6i.4xlarge", "--sagemaker-role", ROLE,
      "--sagemaker-output", "s3://b/o"), "--sagemaker-image"),
    (("--instance", "ml.c6i.4xlarge", "--sagemaker-image", IMAGE, "--sagemaker-role", ROLE,
      "--sagemaker-output", "/tmp/out"), "s3://"),
])
def test_bad_sagemaker_options_fail_before_any_job(run, sm: Any, argv: tuple[str, ...],
                                                   fix: str) -> None:
    res = run("calibrate", "--on", "sagemaker", *argv, "--fractions", "0.1,0.2", "--",
              "python", "train.py", "{fraction}")
    assert res.code == 2 and fix in res.err
    assert _jobs(sm) == []


class _InterruptAfterStart:
    """A moto client whose first describe says InProgress and whose second is a Ctrl-C."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.describes = 0
        self.stopped: list[str] = []

    def create_training_job(self, **kwargs: Any) -> Any:
        return self.client.create_training_job(**kwargs)

    def describe_training_job(self, TrainingJobName: str) -> Any:
        self.describes += 1
        if self.describes > 1:
            raise KeyboardInterrupt
        return {**self.client.describe_training_job(TrainingJobName=TrainingJobName),
                "TrainingJobStatus": "InProgress"}

    def stop_training_job(self, TrainingJobName: str) -> Any:
        self.stopped.append(TrainingJobName)
        return self.client.stop_training_job(TrainingJobName=TrainingJobName)  # moto: 500


def test_ctrl_c_stops_the_training_job(sm: Any) -> None:
    client = _InterruptAfterStart(sm)
    runner = SageMakerRunner("ml.c6i.4xlarge", REGION, IMAGE, ROLE, "s3://b/o", client=client,
                             poll_s=0.01)
    with pytest.raises(KeyboardInterrupt):  # moto answers StopTrainingJob with an error:
        runner(["python", "train.py", "0.1"], {"MLSCOPE_FRACTION": "0.1"}, 30.0)
    assert client.stopped == runner.jobs and len(runner.jobs) == 1  # the stop was sent
    job = sm.describe_training_job(TrainingJobName=runner.jobs[0])
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 30


def test_finished_jobs_become_measured_runs() -> None:
    start = datetime(2026, 1, 1, 12, 0, 0)
    done = measurement({"TrainingJobStatus": "Completed", "TrainingStartTime": start,
                        "TrainingEndTime": start + timedelta(seconds=95)})
    assert done.wall_s == 95 and done.exit_code == 0
    billed = measurement({"TrainingJobStatus": "Completed", "TrainingTimeInSeconds": 120,
                          "TrainingStartTime": start, "TrainingEndTime": start})
    assert billed.wall_s == 120
    failed = measurement({"TrainingJobStatus": "Failed", "FailureReason": "AlgorithmError: OOM"})
    assert failed.exit_code == 1 and "OOM" in failed.stderr_tail
    capped = measurement({"TrainingJobStatus": "Stopped",
                          "FailureReason": "Training job reached MaxRuntimeInSeconds"})
    assert capped.exit_code == TIMEOUT_EXIT_CODE


def test_only_mlscope_variables_are_passed_to_jobs() -> None:
    env = {"MLSCOPE_FRACTION": "0.1", "OMP_NUM_THREADS": "1", "AWS_SECRET_ACCESS_KEY": "x",
           "HOME": "/root", "GITHUB_TOKEN": "y"}
    assert job_environment(env) == {"MLSCOPE_FRACTION": "0.1", "OMP_NUM_THREADS": "1"}


def test_sagemaker_needs_boto3_named_as_an_extra(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    import sys

    from mlscope.errors import EngineMissingError

    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(EngineMissingError, match="boto3 is not installed"):
        SageMakerRunner("ml.c6i.4xlarge", REGION, IMAGE, ROLE, "s3://b/o")
