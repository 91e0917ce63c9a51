"""Release state in S3 between CI jobs and runs, under a lock, without lost entries.

`pull` takes a lock object with a conditional put (`If-None-Match: *`: only one writer can
create it) and copies the state down; `push` refuses when the remote audit log is not a prefix
of the local one (another writer appended meanwhile), uploads, and deletes the lock. A stale
lock (a job that died) expires after LOCK_TTL_S.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mlscope.errors import InputError, require
from mlscope.release.base import RefusedError
from mlscope.release.state import state_dir

LOCK_KEY = "LOCK"
LOCK_TTL_S = 3600
FILES = ("audit.jsonl", "audit.jsonl.head", "mlflow.db")
ARTIFACTS = "artifacts"


def _split(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise InputError(f"{url!r} is not an s3://bucket/prefix URL")
    return parsed.netloc, parsed.path.strip("/")


def _client(endpoint_url: str | None) -> Any:
    boto3 = require("boto3", "aws")
    return boto3.client("s3", endpoint_url=endpoint_url)


def _key(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _take_lock(s3: Any, bucket: str, prefix: str, owner: str) -> None:
    from botocore.exceptions import ClientError

    body = json.dumps({"owner": owner, "at": time.time()}).encode()
    for _ in range(2):
        try:
            s3.put_object(Bucket=bucket, Key=_key(prefix, LOCK_KEY), Body=body, IfNoneMatch="*")
            return
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise
            held = json.loads(s3.get_object(Bucket=bucket, Key=_key(prefix, LOCK_KEY))[
                "Body"].read())
            if time.time() - float(held.get("at", 0)) < LOCK_TTL_S:
                raise RefusedError(f"the release state in s3://{bucket}/{prefix} is locked by "
                                   f"{held.get('owner')}", "wait for that job to push") from exc
            s3.delete_object(Bucket=bucket, Key=_key(prefix, LOCK_KEY))  # stale: a dead job
    raise RefusedError("could not take the release state lock")


def pull(url: str, endpoint_url: str | None = None) -> dict[str, Any]:
    bucket, prefix = _split(url)
    s3 = _client(endpoint_url)
    owner = uuid.uuid4().hex
    _take_lock(s3, bucket, prefix, owner)
    local = state_dir()
    (local / ".s3lock").write_text(owner)
    count = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=_key(prefix, "")):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(_key(prefix, "")):]
            if rel == LOCK_KEY or not rel:
                continue
            target = local / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))
            count += 1
    return {"files": count, "lock": owner}


def _remote_log(s3: Any, bucket: str, prefix: str) -> bytes:
    from botocore.exceptions import ClientError

    try:
        return bytes(s3.get_object(Bucket=bucket, Key=_key(prefix, "audit.jsonl"))["Body"].read())
    except ClientError:
        return b""


def push(url: str, endpoint_url: str | None = None) -> dict[str, Any]:
    bucket, prefix = _split(url)
    s3 = _client(endpoint_url)
    local = state_dir()
    marker = local / ".s3lock"
    if not marker.is_file():
        raise RefusedError("this job does not hold the release state lock",
                           "run `mlscope release state pull` first")
    held = json.loads(s3.get_object(Bucket=bucket, Key=_key(prefix, LOCK_KEY))["Body"].read())
    if held.get("owner") != marker.read_text().strip():
        raise RefusedError("the release state lock was taken over by another job",
                           "pull again and redo the change")
    remote = _remote_log(s3, bucket, prefix)
    mine = (local / "audit.jsonl").read_bytes() if (local / "audit.jsonl").is_file() else b""
    if not mine.startswith(remote):
        raise RefusedError("the remote audit log has entries this job does not have",
                           "pull again; nothing was overwritten")
    count = 0
    for path in sorted(local.rglob("*")):
        rel = path.relative_to(local).as_posix()
        if path.is_file() and (rel in FILES or rel.startswith(ARTIFACTS + "/")):
            s3.upload_file(str(path), bucket, _key(prefix, rel))
            count += 1
    s3.delete_object(Bucket=bucket, Key=_key(prefix, LOCK_KEY))
    marker.unlink()
    return {"files": count}


def local_state() -> Path:
    return state_dir()
