"""Calibration runs as SageMaker training jobs (`--on sagemaker --instance ml.c6i.4xlarge`).

Each planned run becomes one training job on the target instance type, so the measurement is
made on the hardware the real job will use. The command after `--` runs inside the training
image (`--sagemaker-image`) as its entrypoint and arguments, with `{fraction}` /
`{iterations}` filled in; only mlscope's own variables (MLSCOPE_*, thread counts) are passed
as the job's environment, never the local environment (it may hold secrets).

What is measured: the job's training time (`TrainingTimeInSeconds`, else TrainingEndTime -
TrainingStartTime), which leaves out provisioning and image download, as the real job's
training time does; CPU time and peak memory are not reported by the API, so the fit uses
wall time and memory is marked not measured. A failed job is a failed run (its FailureReason
is the error); a job stopped at its MaxRuntimeInSeconds is a timeout; Ctrl-C stops the job.

Tested against moto's server (API calls, job definitions, polling, failures, Ctrl-C), which
completes jobs instantly without running a container: durations are moto's, not a real
instance's; moto does not keep a job's Environment and answers StopTrainingJob with an error,
so those two are checked on the request mlscope sends, not on moto's state. Point boto3
elsewhere with AWS_ENDPOINT_URL_SAGEMAKER (boto3's own variable).
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mlscope.errors import InputError, require
from mlscope.estimate.empirical.measure import TIMEOUT_EXIT_CODE, ProcessMeasurement

POLL_S = 5.0
DONE = ("Completed", "Failed", "Stopped")
PASSED_ENV_PREFIXES = ("MLSCOPE_",)
PASSED_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
VOLUME_GB = 30
# A job needs a runtime limit; without a budget cap or --timeout, one day.
DEFAULT_MAX_RUNTIME_S = 86_400


def job_environment(env: Mapping[str, str]) -> dict[str, str]:
    """mlscope's variables only: the local environment may hold credentials."""
    return {k: v for k, v in env.items()
            if k.startswith(PASSED_ENV_PREFIXES) or k in PASSED_ENV}


class SageMakerRunner:
    """Runs one calibration command as a training job and waits for it (a `Runner`)."""

    def __init__(self, instance_type: str, region: str, image: str, role: str, output: str,
                 client: Any = None, poll_s: float = POLL_S) -> None:
        self.instance_type = instance_type
        self.image, self.role, self.output = image, role, output
        self.poll_s = poll_s
        if client is None:
            boto3 = require("boto3", "aws")
            client = boto3.client("sagemaker", region_name=region)
        self.client = client
        self.jobs: list[str] = []

    def job_name(self, argv: Sequence[str]) -> str:
        digest = hashlib.sha256(" ".join(argv).encode()).hexdigest()[:8]
        return f"mlscope-cal-{int(time.time())}-{len(self.jobs)}-{digest}"[:63]

    def __call__(self, argv: Sequence[str], env: Mapping[str, str],
                 timeout_s: float | None) -> ProcessMeasurement:
        name = self.job_name(argv)
        max_runtime = DEFAULT_MAX_RUNTIME_S if timeout_s is None else max(1, int(timeout_s))
        self.client.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": self.image, "TrainingInputMode": "File",
                                    "ContainerEntrypoint": [argv[0]],
                                    "ContainerArguments": list(argv[1:])},
            RoleArn=self.role,
            OutputDataConfig={"S3OutputPath": self.output},
            ResourceConfig={"InstanceType": self.instance_type, "InstanceCount": 1,
                            "VolumeSizeInGB": VOLUME_GB},
            StoppingCondition={"MaxRuntimeInSeconds": max_runtime},
            Environment=job_environment(env),
            Tags=[{"Key": "mlscope", "Value": "calibrate"}])
        self.jobs.append(name)
        try:
            while True:
                job = self.client.describe_training_job(TrainingJobName=name)
                if job["TrainingJobStatus"] in DONE:
                    return measurement(job)
                time.sleep(self.poll_s)
        except KeyboardInterrupt:
            # Stop the job: an abandoned training job keeps billing until its runtime limit.
            try:
                self.client.stop_training_job(TrainingJobName=name)
            except Exception as exc:  # the interrupt matters more; say what to stop by hand
                print(f"could not stop training job {name} ({type(exc).__name__}); stop it "
                      f"with: aws sagemaker stop-training-job --training-job-name {name}",
                      file=sys.stderr)
            raise


def measurement(job: Mapping[str, Any]) -> ProcessMeasurement:
    """A finished training job as a measured run."""
    seconds = job.get("TrainingTimeInSeconds")
    if seconds is None:
        start, end = job.get("TrainingStartTime"), job.get("TrainingEndTime")
        seconds = (end - start).total_seconds() if start and end else 0.0
    status = job["TrainingJobStatus"]
    reason = str(job.get("FailureReason", ""))
    code = 0
    if status == "Failed":
        code = 1
    elif status == "Stopped":
        code = TIMEOUT_EXIT_CODE if "MaxRuntime" in reason or "runtime" in reason.lower() else 130
    # Training time only: a zero-length job (e.g. moto's) is floored so a fit can take logs.
    return ProcessMeasurement(wall_s=max(float(seconds), 1e-3), cpu_s=0.0, peak_rss_mb=0.0,
                              exit_code=code, stderr_tail=reason or status)


def sagemaker_runner(instances: Sequence[str], region: str | None, image: str | None,
                     role: str | None, output: str | None) -> SageMakerRunner:
    """Check the options and build the runner (fails before any job is created)."""
    ml = [i for i in instances if i.startswith("ml.")]
    if len(ml) != 1:
        raise InputError("--on sagemaker needs exactly one SageMaker instance type",
                         "add --instance ml.c6i.4xlarge (one ml.* type: the jobs run there)")
    missing = [flag for flag, value in (("--sagemaker-image", image),
                                        ("--sagemaker-role", role),
                                        ("--sagemaker-output", output)) if not value]
    if missing:
        raise InputError(f"--on sagemaker needs {', '.join(missing)}",
                         "give the training image URI, the execution role ARN and an s3:// "
                         "output path")
    if not str(output).startswith("s3://"):
        raise InputError(f"--sagemaker-output '{output}' is not an S3 URI",
                         "give e.g. s3://my-bucket/mlscope-calibration")
    assert image and role and output
    return SageMakerRunner(ml[0], region or "us-east-1", image, role, output)
