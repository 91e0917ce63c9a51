"""The `aws` target: a SageMaker real-time endpoint with weighted production variants.

One deploy = artifact tar.gz to S3 → SageMaker model → new endpoint config (production variants
and weights) → CreateEndpoint or UpdateEndpoint → wait. A canary (`weight` < 1) keeps the
variants already serving, scaled to the remaining share; traffic then moves with
UpdateEndpointWeightsAndCapacities (`shift_traffic`), which needs no new config.

Failure leaves the previous deployment serving: errors before the endpoint call change nothing
(the resources created so far are deleted); if the endpoint update fails, SageMaker normally
rolls back by itself, and when it does not (status Failed, or another config in service) we
update the endpoint back to the previous config. All calls go through boto3 with botocore's
retry modes (standard/adaptive: exponential back-off with jitter on throttling and 5xx).

Tested against moto's server. moto 5.x does not implement UpdateEndpoint, so the tests drive
that single call with botocore's Stubber (see tests/deploy/test_aws.py); everything else runs
against moto.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlscope.errors import EngineMissingError, InputError, UnknownNameError
from mlscope.release.deploy import DeployError, record, recorded_failure
from mlscope.release.deploy.pointer import check_artifact_dir
from mlscope.release.registry import validate_alias, validate_model_name

TRANSITIONAL = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
RETRY_MODES = ("standard", "adaptive")


@dataclass
class AwsSettings:
    region: str = "us-east-1"
    bucket: str | None = None
    prefix: str = "mlscope/models"
    role_arn: str | None = None  # SageMaker execution role (reads the artifact from S3)
    image_uri: str | None = None  # inference container image in ECR
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    endpoint_name: str | None = None  # default: "<model>-<env>"
    endpoint_url: str | None = None  # another API endpoint (moto in tests); None = AWS
    retry_mode: str = "adaptive"
    max_attempts: int = 8
    wait_timeout_s: float = 1800.0
    poll_s: float = 15.0

    def endpoint_for(self, model: str, env: str) -> str:
        return self.endpoint_name or _aws_name(f"{model}-{env}")

    def require_deploy_fields(self) -> None:
        missing = [flag for flag, v in (("--bucket", self.bucket), ("--role-arn", self.role_arn),
                                        ("--image", self.image_uri)) if not v]
        if missing:
            raise InputError(f"the aws target needs {', '.join(missing)}",
                             "pass them as flags or set MLSCOPE_AWS_BUCKET, "
                             "MLSCOPE_AWS_ROLE_ARN and MLSCOPE_AWS_IMAGE")
        if self.retry_mode not in RETRY_MODES:
            raise InputError(f"retry mode {self.retry_mode!r} is not known",
                             f"use one of {', '.join(RETRY_MODES)}")
        if self.instance_count < 1:
            raise InputError("instance count must be at least 1")


@dataclass
class AwsClients:
    s3: Any
    sagemaker: Any


def make_clients(settings: AwsSettings) -> AwsClients:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise EngineMissingError("boto3 is not installed", "pip install 'mlscope[aws]'") from exc
    config = Config(region_name=settings.region, connect_timeout=10, read_timeout=60,
                    retries={"mode": settings.retry_mode,
                             "total_max_attempts": settings.max_attempts})
    session = boto3.session.Session(region_name=settings.region)
    return AwsClients(
        s3=session.client("s3", config=config, endpoint_url=settings.endpoint_url),
        sagemaker=session.client("sagemaker", config=config, endpoint_url=settings.endpoint_url))


def _aws_name(text: str, limit: int = 63) -> str:
    """SageMaker names: letters, digits and hyphens, at most 63 characters."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-")
    return name[:limit].rstrip("-") or "mlscope"


def package_artifact(artifact_dir: Path) -> bytes:
    """The artifact as a reproducible model.tar.gz (sorted names, zeroed times and owners)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(p for p in Path(artifact_dir).rglob("*") if p.is_file()):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(artifact_dir)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with open(path, "rb") as fh:
                tar.addfile(info, fh)
    return buf.getvalue()


def _error_text(exc: Exception, limit: int = 300) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        text = f"{err.get('Code', type(exc).__name__)}: {err.get('Message', '')}".strip()
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())  # one line, even for an HTML error page
    return text if len(text) <= limit else text[:limit] + "..."


def describe_endpoint(sm: Any, endpoint: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return dict(sm.describe_endpoint(EndpointName=endpoint))
    except ClientError as exc:
        if "Could not find endpoint" in _error_text(exc):
            return None
        raise


def wait_endpoint(sm: Any, endpoint: str, settings: AwsSettings) -> dict[str, Any]:
    """Poll until the endpoint leaves Creating/Updating; DeployError on timeout."""
    deadline = time.monotonic() + settings.wait_timeout_s
    while True:
        desc = describe_endpoint(sm, endpoint)
        if desc is None:
            raise DeployError(f"endpoint {endpoint} disappeared while waiting")
        if desc["EndpointStatus"] not in TRANSITIONAL:
            return desc
        if time.monotonic() > deadline:
            raise DeployError(f"endpoint {endpoint} still {desc['EndpointStatus']} after "
                              f"{settings.wait_timeout_s:.0f} s",
                              "check `mlscope deploy status --target aws` later")
        time.sleep(settings.poll_s)


def _variant_summary(desc: dict[str, Any] | None) -> dict[str, Any]:
    if not desc:
        return {}
    return {"endpoint": desc["EndpointName"], "status": desc["EndpointStatus"],
            "config": desc.get("EndpointConfigName"),
            "weights": {v["VariantName"]: v.get("CurrentWeight", v.get("DesiredWeight"))
                        for v in desc.get("ProductionVariants", [])}}


def _variants(sm: Any, existing: dict[str, Any] | None, new: dict[str, Any],
              weight: float) -> list[dict[str, Any]]:
    """The new variant at `weight`; for a canary, the serving variants share 1 - weight."""
    if existing is None or weight >= 1.0:
        return [{**new, "InitialVariantWeight": 1.0}]
    config = sm.describe_endpoint_config(EndpointConfigName=existing["EndpointConfigName"])
    live = {v["VariantName"]: v.get("CurrentWeight", 1.0)
            for v in existing.get("ProductionVariants", [])}
    kept = [v for v in config["ProductionVariants"] if v["VariantName"] != new["VariantName"]]
    total = sum(live.get(v["VariantName"], v.get("InitialVariantWeight", 1.0)) for v in kept)
    out = []
    for v in kept:
        share = live.get(v["VariantName"], v.get("InitialVariantWeight", 1.0)) / (total or 1.0)
        out.append({key: v[key] for key in ("VariantName", "ModelName", "InstanceType",
                                            "InitialInstanceCount") if key in v}
                   | {"InitialVariantWeight": round(share * (1.0 - weight), 6)})
    return [*out, {**new, "InitialVariantWeight": weight}]


def _cleanup(sm: Any, created: list[tuple[str, str]]) -> None:
    """Best-effort delete of what this deploy created (the old deployment never references it)."""
    for kind, name in reversed(created):
        try:
            if kind == "config":
                sm.delete_endpoint_config(EndpointConfigName=name)
            elif kind == "model":
                sm.delete_model(ModelName=name)
            elif kind == "endpoint":
                sm.delete_endpoint(EndpointName=name)
        except Exception:  # cleanup must not hide the deploy error
            pass


def deploy_aws(model: str, version: str, artifact_dir: Path, env: str, settings: AwsSettings,
               *, weight: float = 1.0, reason: str = "",
               clients: AwsClients | None = None, digest: str | None = None) -> dict[str, Any]:
    """Deploy MODEL VERSION to ENV's SageMaker endpoint (canary when `weight` < 1)."""
    validate_model_name(model)
    validate_alias(env)
    check_artifact_dir(Path(artifact_dir))
    settings.require_deploy_fields()
    if not 0.0 < weight <= 1.0:
        raise InputError(f"weight {weight} is out of range", "use a share in (0, 1], e.g. 0.1")
    with recorded_failure(f"{model}/{version}", {"target": "aws", "env": env, "weight": weight}):
        return _deploy(model, version, Path(artifact_dir), env, settings, weight, reason,
                       clients or make_clients(settings), digest)


def _deploy(model: str, version: str, artifact_dir: Path, env: str, settings: AwsSettings,
            weight: float, reason: str, c: AwsClients,
            artifact_digest: str | None = None) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    sm = c.sagemaker
    endpoint = settings.endpoint_for(model, env)
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    body = package_artifact(Path(artifact_dir))
    digest = hashlib.sha256(body).hexdigest()
    model_name = _aws_name(f"{endpoint}-v{version}-{digest[:8]}")
    config_name = _aws_name(f"{endpoint}-v{version}-{stamp}")
    key = f"{settings.prefix.strip('/')}/{model}/{version}/{digest[:12]}/model.tar.gz"
    created: list[tuple[str, str]] = []
    existing: dict[str, Any] | None = None
    step = "describe endpoint"
    try:
        existing = describe_endpoint(sm, endpoint)
        if existing is not None and existing["EndpointStatus"] != "InService":
            raise DeployError(f"endpoint {endpoint} is {existing['EndpointStatus']}",
                              "wait until it is InService, then deploy again")
        step = "upload artifact"
        c.s3.put_object(Bucket=settings.bucket, Key=key, Body=body,
                        Metadata={"sha256": digest, "model": model, "version": str(version)})
        step = "create model"
        if not _model_exists(sm, model_name):
            sm.create_model(
                ModelName=model_name, ExecutionRoleArn=settings.role_arn,
                PrimaryContainer={"Image": settings.image_uri,
                                  "ModelDataUrl": f"s3://{settings.bucket}/{key}",
                                  "Environment": {"MLSCOPE_MODEL": model,
                                                  "MLSCOPE_VERSION": str(version)}},
                Tags=[{"Key": "mlscope:model", "Value": model},
                      {"Key": "mlscope:version", "Value": str(version)},
                      {"Key": "mlscope:artifact-digest",
                       "Value": (artifact_digest or "unknown")[:256]},
                      {"Key": "mlscope:env", "Value": env}])
            created.append(("model", model_name))
        step = "create endpoint config"
        new_variant = {"VariantName": _aws_name(f"v{version}"), "ModelName": model_name,
                       "InstanceType": settings.instance_type,
                       "InitialInstanceCount": settings.instance_count}
        variants = _variants(sm, existing, new_variant, weight)
        sm.create_endpoint_config(EndpointConfigName=config_name, ProductionVariants=variants)
        created.append(("config", config_name))
        step = "update endpoint" if existing else "create endpoint"
        if existing is None:
            sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
            created.append(("endpoint", endpoint))
        else:
            sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=config_name,
                               RetainAllVariantProperties=False)
    except (ClientError, BotoCoreError) as exc:
        _cleanup(sm, created)
        still = (f"{existing['EndpointConfigName']} is still serving" if existing
                 else "no endpoint was created")
        raise DeployError(f"deploy of {model} v{version} to {endpoint} failed at {step}: "
                          f"{_error_text(exc)}", f"nothing changed; {still}") from exc
    final = wait_endpoint(sm, endpoint, settings)
    if final["EndpointStatus"] != "InService" or final["EndpointConfigName"] != config_name:
        _recover(sm, endpoint, existing, final, settings, created)
    result = {"target": "aws", "env": env, "model": model, "version": str(version),
              "endpoint": endpoint, "endpoint_config": config_name, "model_name": model_name,
              "artifact_uri": f"s3://{settings.bucket}/{key}", "sha256": digest,
              "action": "update" if existing else "create", **{"after": _variant_summary(final)}}
    record("deploy", f"{model}/{version}", reason or f"deploy to {env} (aws {endpoint})",
           before=_variant_summary(existing), after=_variant_summary(final))
    return result


def _model_exists(sm: Any, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        sm.describe_model(ModelName=name)
        return True
    except ClientError:
        return False


def _recover(sm: Any, endpoint: str, existing: dict[str, Any] | None, final: dict[str, Any],
             settings: AwsSettings, created: list[tuple[str, str]]) -> None:
    """The new config did not come into service: make sure the previous one serves, then raise."""
    failure = final.get("FailureReason") or f"endpoint ended {final['EndpointStatus']}"
    if existing is None:
        _cleanup(sm, created)  # a first deploy that failed: nothing else to keep serving
        raise DeployError(f"endpoint {endpoint} failed to come into service: {failure}",
                          "no endpoint is serving; fix the cause and deploy again")
    old_config = existing["EndpointConfigName"]
    if final["EndpointStatus"] == "InService" and final["EndpointConfigName"] == old_config:
        _cleanup(sm, [c for c in created if c[0] != "endpoint"])
        raise DeployError(f"update of {endpoint} failed and SageMaker rolled back: {failure}",
                          f"{old_config} is still serving")
    try:
        sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=old_config,
                           RetainAllVariantProperties=False)
        restored = wait_endpoint(sm, endpoint, settings)
    except Exception as exc:
        raise DeployError(f"update of {endpoint} failed ({failure}) and restoring {old_config} "
                          f"failed too: {_error_text(exc)}",
                          "restore it by hand: aws sagemaker update-endpoint "
                          f"--endpoint-name {endpoint} --endpoint-config-name {old_config}"
                          ) from exc
    if restored["EndpointStatus"] != "InService":
        raise DeployError(f"update of {endpoint} failed ({failure}); the restore of "
                          f"{old_config} ended {restored['EndpointStatus']}",
                          "inspect the endpoint in the SageMaker console")
    _cleanup(sm, [c for c in created if c[0] != "endpoint"])
    raise DeployError(f"update of {endpoint} failed: {failure}",
                      f"restored {old_config}, which is serving again")


def shift_traffic(endpoint: str, weights: dict[str, float], settings: AwsSettings, *,
                  reason: str = "", clients: AwsClients | None = None) -> dict[str, Any]:
    """Set variant weights (UpdateEndpointWeightsAndCapacities) and wait for InService."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise InputError(f"weights {weights} are not valid",
                         "give non-negative weights with a positive sum, e.g. v1=0.9,v2=0.1")
    sm = (clients or make_clients(settings)).sagemaker
    before = describe_endpoint(sm, endpoint)
    if before is None:
        raise InputError(f"endpoint {endpoint} does not exist", "deploy a version first")
    known = [v["VariantName"] for v in before.get("ProductionVariants", [])]
    for name in weights:
        if name not in known:
            raise UnknownNameError("variant", name, known)
    try:
        sm.update_endpoint_weights_and_capacities(
            EndpointName=endpoint,
            DesiredWeightsAndCapacities=[{"VariantName": n, "DesiredWeight": float(w)}
                                         for n, w in weights.items()])
    except (ClientError, BotoCoreError) as exc:
        raise DeployError(f"traffic shift on {endpoint} failed: {_error_text(exc)}",
                          "the previous weights still apply") from exc
    after = wait_endpoint(sm, endpoint, settings)
    record("traffic_shift", endpoint, reason or "shift traffic between variants",
           before=_variant_summary(before), after=_variant_summary(after))
    return _variant_summary(after)


def aws_status(endpoint: str, settings: AwsSettings,
               clients: AwsClients | None = None) -> dict[str, Any]:
    sm = (clients or make_clients(settings)).sagemaker
    desc = describe_endpoint(sm, endpoint)
    if desc is None:
        raise InputError(f"endpoint {endpoint} does not exist", "deploy a version first")
    return {**_variant_summary(desc), "failure_reason": desc.get("FailureReason")}
