"""What the generated DAGs' tasks run (imported inside task bodies, never at parse time).

Each function takes the environment's params (params/<env>.json) and small JSON values from
upstream tasks, and returns a small JSON value (XCom). Data and models travel through S3 under
the run's prefix, so tasks may run on different workers. AWS calls go through the Amazon
provider's hooks (S3Hook, GlueJobHook, SageMakerHook, EC2Hook) and the Airflow connection named
by params' aws_conn_id; the registry, gates and audit log are mlscope's release engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mlscope.errors import InputError


class StepFailed(Exception):
    """A check or gate said no: retrying cannot help (raised as AirflowFailException)."""


def _fail(message: str) -> Exception:
    """AirflowFailException (Airflow 3, else 2): a failure that retrying cannot fix."""
    import importlib

    for module in ("airflow.sdk.exceptions", "airflow.exceptions"):
        try:
            cls = importlib.import_module(module).AirflowFailException
        except (ImportError, AttributeError):
            continue
        error: Exception = cls(message)
        return error
    return StepFailed(message)


def load_config(params_dir: str | Path, env: str) -> dict[str, Any]:
    """params/<env>.json beside the DAG file."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,63}", env):
        raise InputError(f"environment {env!r} is not a plain name",
                         "set the Airflow Variable mlscope_env to e.g. dev, qa or prod")
    path = Path(params_dir) / f"{env}.json"
    if not path.is_file():
        known = sorted(p.stem for p in Path(params_dir).glob("*.json"))
        raise InputError(f"no parameter file {path} for environment {env!r}",
                         f"known: {', '.join(known) or 'none'}; regenerate with "
                         "`mlscope dags generate`")
    cfg: dict[str, Any] = json.loads(path.read_text())
    return cfg


def _s3(cfg: dict[str, Any]) -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=cfg["aws_conn_id"])


def _run_prefix(cfg: dict[str, Any], run_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", run_id).strip("-") or "run"
    return f"{cfg['data']['work_prefix'].strip('/')}/{safe}"


def _download(cfg: dict[str, Any], key: str, target: Path) -> Path:
    obj = _s3(cfg).get_key(key, bucket_name=cfg["data"]["bucket"])
    target.parent.mkdir(parents=True, exist_ok=True)
    obj.download_file(str(target))
    return target


# -- retraining ------------------------------------------------------------------------------
def extract(cfg: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Snapshot the raw data into the run's prefix (after the Glue job, if params name one)."""
    data = cfg["data"]
    job = (cfg.get("extract") or {}).get("glue_job")
    if job:
        from airflow.providers.amazon.aws.hooks.glue import GlueJobHook

        hook = GlueJobHook(job_name=job, aws_conn_id=cfg["aws_conn_id"],
                           region_name=cfg.get("region"))
        started = hook.initialize_job()
        hook.job_completion(job, started["JobRunId"])
    s3 = _s3(cfg)
    key = f"{_run_prefix(cfg, run_id)}/data/{Path(data['raw_key']).name}"
    if not s3.check_for_key(data["raw_key"], bucket_name=data["bucket"]):
        raise _fail(f"no training data at s3://{data['bucket']}/{data['raw_key']}")
    s3.copy_object(data["raw_key"], key, source_bucket_name=data["bucket"],
                   dest_bucket_name=data["bucket"])
    head = s3.head_object(key, bucket_name=data["bucket"])
    return {"bucket": data["bucket"], "key": key, "bytes": int(head["ContentLength"]),
            "etag": str(head.get("ETag", "")).strip('"')}


def validate_data(cfg: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Row count, value ranges and duplicate share; all failures in one message."""
    import numpy as np

    from mlscope.release.reference_app import load_ratings

    rules = cfg.get("validate") or {}
    with tempfile.TemporaryDirectory() as tmp:
        path = _download(cfg, data["key"], Path(tmp) / Path(data["key"]).name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        ratings = load_ratings(path)
    rows = len(ratings.users)
    pairs = np.unique(np.stack([ratings.users, ratings.items]), axis=1).shape[1]
    duplicate_share = 1.0 - pairs / rows if rows else 0.0
    low, high = float(ratings.ratings.min()), float(ratings.ratings.max())
    problems = []
    if rows < int(rules.get("min_rows", 1)):
        problems.append(f"{rows} rows, fewer than min_rows {rules['min_rows']}")
    if "value_min" in rules and low < float(rules["value_min"]):
        problems.append(f"values down to {low}, below value_min {rules['value_min']}")
    if "value_max" in rules and high > float(rules["value_max"]):
        problems.append(f"values up to {high}, above value_max {rules['value_max']}")
    limit = rules.get("max_duplicate_share")
    if limit is not None and duplicate_share > float(limit):
        problems.append(f"{duplicate_share:.1%} duplicate user-item rows, over {float(limit):.1%}")
    if problems:
        raise _fail("data checks failed: " + "; ".join(problems))
    return {**data, "rows": rows, "sha256": digest, "users": len(np.unique(ratings.users)),
            "items": len(np.unique(ratings.items)), "duplicate_share": duplicate_share}


HOLDOUT_FILE = "holdout.jsonl"


def _train_local(cfg: dict[str, Any], data: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from mlscope.release.evaluation import write_ranking_set
    from mlscope.release.reference_app import (
        Ratings,
        TrainConfig,
        load_ratings,
        save_version,
        train,
    )

    settings = cfg["train"]
    path = _download(cfg, data["key"], workdir / "data" / Path(data["key"]).name)
    ratings = load_ratings(path)
    cap = settings.get("max_rows")
    if cap and len(ratings.users) > int(cap):
        # Dev runs small: the most recent rows, so the temporal hold-out stays meaningful.
        keep = ratings.timestamps.argsort(kind="stable")[-int(cap):]
        ratings = Ratings(ratings.users[keep], ratings.items[keep], ratings.ratings[keep],
                          ratings.timestamps[keep],
                          {**ratings.data_version, "rows": len(keep), "sampled_from":
                           ratings.data_version["rows"]})
    result = train(TrainConfig(factors=int(settings["factors"]),
                               iterations=int(settings["iterations"])), ratings)
    save_version(result, workdir / "version")  # an MLflow pyfunc Model under version/model
    write_ranking_set(result.requests, workdir / "version" / HOLDOUT_FILE)
    return {"metrics": result.metrics, "seconds": result.seconds, "rows": len(ratings.users)}


def _train_sagemaker(cfg: dict[str, Any], data: dict[str, Any], job_name: str) -> dict[str, Any]:
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    sm = cfg["train"]["sagemaker"]
    if not sm.get("role_arn") or not sm.get("image_uri"):
        raise _fail("train.backend is sagemaker but train.sagemaker.role_arn or image_uri is "
                    "not set in the parameter file")
    bucket = data["bucket"]
    config = {
        "TrainingJobName": job_name,
        "AlgorithmSpecification": {"TrainingImage": sm["image_uri"], "TrainingInputMode": "File"},
        "RoleArn": sm["role_arn"],
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{data['key']}",
            "S3DataDistributionType": "FullyReplicated"}}}],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{cfg['data']['work_prefix']}/jobs"},
        "ResourceConfig": {"InstanceType": sm["instance_type"], "InstanceCount": 1,
                           "VolumeSizeInGB": 50},
        "StoppingCondition": {"MaxRuntimeInSeconds": int(sm["max_runtime_s"])},
        "HyperParameters": {"factors": str(cfg["train"]["factors"]),
                            "iterations": str(cfg["train"]["iterations"])},
    }
    hook = SageMakerHook(aws_conn_id=cfg["aws_conn_id"])
    hook.create_training_job(config, wait_for_completion=True, check_interval=30)
    done = hook.describe_training_job(job_name)
    metrics = {m["MetricName"]: float(m["Value"]) for m in done.get("FinalMetricDataList", [])}
    return {"job": job_name, "status": done.get("TrainingJobStatus"), "metrics": metrics,
            "model_uri": (done.get("ModelArtifacts") or {}).get("S3ModelArtifacts")}


def train(cfg: dict[str, Any], data: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Train on the validated snapshot; the model directory goes to the run's S3 prefix."""
    backend = cfg["train"].get("backend", "local")
    prefix = f"{_run_prefix(cfg, run_id)}/model"
    if backend == "sagemaker":
        job = re.sub(r"[^A-Za-z0-9-]+", "-", f"{cfg['project']}-{run_id}")[-63:].strip("-")
        return {**_train_sagemaker(cfg, data, job), "backend": backend}
    if backend != "local":
        raise _fail(f"train.backend {backend!r} is not local or sagemaker")
    s3 = _s3(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        out = _train_local(cfg, data, Path(tmp))
        root = Path(tmp) / "version"
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        for name in files:
            s3.load_file(str(root / name), f"{prefix}/{name}", bucket_name=data["bucket"],
                         replace=True)
    return {**out, "backend": backend, "bucket": data["bucket"], "prefix": prefix,
            "files": files}


def _fetch_model(cfg: dict[str, Any], model: dict[str, Any], target: Path) -> Path:
    for name in model["files"]:
        _download(cfg, f"{model['prefix']}/{name}", target / name)
    return target


def evaluate(cfg: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    """Score the held-out requests through the saved MLflow Model, as the gates do."""
    if model.get("backend") == "sagemaker":
        return {**model, "evaluated": model.get("metrics", {})}
    from mlscope.release.evaluation import evaluate as score
    from mlscope.release.evaluation import read_set
    from mlscope.release.pyfunc import load_pyfunc

    with tempfile.TemporaryDirectory() as tmp:
        local = _fetch_model(cfg, model, Path(tmp))
        result = score(load_pyfunc(local / "model"), read_set(local / HOLDOUT_FILE, "ranking"))
    evaluated = {"ndcg_at_10": result.mean("ndcg_at_10"),
                 "precision_at_10": result.mean("precision_at_10")}
    return {**model, "evaluated": evaluated}


def _release(cfg: dict[str, Any]) -> Any:
    """mlscope's release engine under the policy of the committed spec (params release.spec,
    else $MLSCOPE_SPEC): the gates are the policy's, never the caller's."""
    from mlscope.release.promotion import Release

    rel = cfg["release"]
    if rel.get("state_dir"):
        os.environ["MLSCOPE_STATE_DIR"] = str(rel["state_dir"])
    return Release.open(rel.get("spec"), rel.get("tracking_uri"))


def register(cfg: dict[str, Any], model: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Register the trained MLflow Model (the audit log records who, signed, and why)."""
    if model.get("backend") == "sagemaker":
        raise _fail("registering SageMaker-trained models is not supported yet: register the "
                    "model with `mlscope release register` from its artifact directory")
    name = cfg["release"]["model_name"]
    release = _release(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        local = _fetch_model(cfg, model, Path(tmp))
        info = release.register_dir(name, local / "model", release.actor(),
                                    reason=f"airflow run {run_id}", metrics=model["metrics"])
    return {"model": name, "version": int(info.version), "metrics": info.metrics}


def promote(cfg: dict[str, Any], version: dict[str, Any], env: str) -> dict[str, Any]:
    """Promote through the policy's gates for `env`; a refusal fails the task (no retries)."""
    release = _release(cfg)
    result = release.promote(version["model"], int(version["version"]), env, release.actor(),
                             reason=f"airflow {cfg['environment']}")
    out: dict[str, Any] = result.as_dict()
    if not result.promoted:
        raise _fail(f"{env} gates refused {version['model']} v{version['version']}: "
                    + "; ".join(result.refusals))
    return out


# -- after hours -----------------------------------------------------------------------------
def is_working_day(cfg: dict[str, Any], logical_date: str, timezone: str) -> bool:
    """False on the environment's holidays (local date); the cron already skips weekends."""
    holidays = {date.fromisoformat(d) for d in (cfg.get("after_hours") or {}).get("holidays", [])}
    try:
        when = datetime.fromisoformat(str(logical_date))
    except ValueError:
        when = datetime.now(ZoneInfo("UTC"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("UTC"))
    return when.astimezone(ZoneInfo(timezone)).date() not in holidays


def _targets(cfg: dict[str, Any], key: str) -> list[Any]:
    return list((cfg.get("after_hours") or {}).get(key, []))


def notebooks(cfg: dict[str, Any], action: str) -> dict[str, str]:
    """Stop InService notebook instances, start Stopped ones; anything else is left alone."""
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
    from botocore.exceptions import ClientError

    client = SageMakerHook(aws_conn_id=cfg["aws_conn_id"]).conn
    out = {}
    for name in _targets(cfg, "notebooks"):
        try:
            status = client.describe_notebook_instance(NotebookInstanceName=name)[
                "NotebookInstanceStatus"]
        except ClientError:
            out[name] = "missing"
            continue
        if action == "stop" and status == "InService":
            client.stop_notebook_instance(NotebookInstanceName=name)
            out[name] = "stopping"
        elif action == "start" and status == "Stopped":
            client.start_notebook_instance(NotebookInstanceName=name)
            out[name] = "starting"
        else:
            out[name] = f"left {status}"
    return out


def endpoints(cfg: dict[str, Any], action: str) -> dict[str, str]:
    """Real-time endpoints cannot stop: delete them off hours (the endpoint config stays) and
    create them again from the config in the morning."""
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
    from botocore.exceptions import ClientError

    client = SageMakerHook(aws_conn_id=cfg["aws_conn_id"]).conn
    out = {}
    for target in _targets(cfg, "endpoints"):
        name, config = target["name"], target["config"]
        try:
            client.describe_endpoint(EndpointName=name)
            exists = True
        except ClientError:
            exists = False
        if action == "stop" and exists:
            client.delete_endpoint(EndpointName=name)
            out[name] = "deleted"
        elif action == "start" and not exists:
            client.create_endpoint(EndpointName=name, EndpointConfigName=config)
            out[name] = "creating"
        else:
            out[name] = "present" if exists else "absent"
    return out


def ec2(cfg: dict[str, Any], action: str) -> dict[str, str]:
    from airflow.providers.amazon.aws.hooks.ec2 import EC2Hook

    ids = _targets(cfg, "ec2_instance_ids")
    if not ids:
        return {}
    client = EC2Hook(aws_conn_id=cfg["aws_conn_id"], api_type="client_type").conn
    if action == "stop":
        changes = client.stop_instances(InstanceIds=ids)["StoppingInstances"]
    else:
        changes = client.start_instances(InstanceIds=ids)["StartingInstances"]
    return {c["InstanceId"]: c["CurrentState"]["Name"] for c in changes}
