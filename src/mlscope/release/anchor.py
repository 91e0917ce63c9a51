"""Anchors: the audit log's head (sequence number and hash) recorded where the log's writer
cannot rewrite it, so truncation, deletion and wholesale rewrites of the log are caught.

* git: a commit per anchor on branch `mlscope-audit` of a remote whose branch protection
  forbids force pushes and deletions (GitHub branch protection; `receive.denyNonFastForwards`
  and `receive.denyDeletes` on a bare repository). The history of that branch is the record.
* s3: one object per anchor in a bucket with Object Lock in compliance mode: no one, the root
  account included, can delete or overwrite an object version before its retention date.

Verification compares every anchored (seq, hash) with the log: a hash that is not the log's
entry at that seq means the log was rewritten; an anchored seq past the log's end means entries
were cut off or the log was deleted.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from mlscope.errors import InputError
from mlscope.spec.release import AnchorConfig, S3Anchor

BRANCH = "mlscope-audit"


@dataclass(frozen=True)
class AnchorRecord:
    seq: int
    hash: str


class Anchor(Protocol):
    def publish(self, record: AnchorRecord) -> None: ...

    def records(self) -> list[AnchorRecord]: ...

    def describe(self) -> str: ...


def _git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
         stdin: str | None = None) -> str:
    import os

    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          input=stdin, env={**os.environ, **(env or {})}, check=False)
    if done.returncode != 0:
        raise InputError(f"git {args[0]} failed for the audit anchor: "
                         f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}",
                         "check the anchor remote and your push rights to it")
    return done.stdout


class GitAnchor:
    """Anchors as commits on a protected branch of a git remote."""

    def __init__(self, remote: str) -> None:
        self.remote = remote

    def describe(self) -> str:
        from mlscope.release.redact import mask_url

        return f"git:{mask_url(self.remote)}#{BRANCH}"

    def _fetch(self, scratch: Path) -> str | None:
        _git("init", "-q", "--bare", str(scratch))
        heads = _git("ls-remote", self.remote, f"refs/heads/{BRANCH}", cwd=scratch)
        if not heads.strip():
            return None
        _git("fetch", "-q", self.remote, f"refs/heads/{BRANCH}", cwd=scratch)
        return heads.split()[0]

    def publish(self, record: AnchorRecord) -> None:
        with tempfile.TemporaryDirectory(prefix="mlscope-anchor-") as tmp:
            scratch = Path(tmp) / "a.git"
            parent = self._fetch(scratch)
            ident = {"GIT_AUTHOR_NAME": "mlscope", "GIT_AUTHOR_EMAIL": "mlscope@localhost",
                     "GIT_COMMITTER_NAME": "mlscope", "GIT_COMMITTER_EMAIL": "mlscope@localhost"}
            tree = _git("mktree", cwd=scratch, stdin="").strip()
            message = json.dumps({"seq": record.seq, "hash": record.hash})
            args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
            commit = _git(*args, cwd=scratch, env=ident).strip()
            # A plain (fast-forward) push: the remote refuses anything that rewrites history.
            _git("push", "-q", self.remote, f"{commit}:refs/heads/{BRANCH}", cwd=scratch)

    def records(self) -> list[AnchorRecord]:
        with tempfile.TemporaryDirectory(prefix="mlscope-anchor-") as tmp:
            scratch = Path(tmp) / "a.git"
            if self._fetch(scratch) is None:
                return []
            out = _git("log", "--format=%B%x00", "FETCH_HEAD", cwd=scratch)
        return sorted((_parse(m) for m in out.split("\0") if m.strip()),
                      key=lambda r: (r.seq, r.hash))


class S3ObjectLockAnchor:
    """Anchors as Object-Lock (compliance mode) objects in S3."""

    def __init__(self, cfg: S3Anchor, client: Any | None = None) -> None:
        self.cfg = cfg
        self._client = client

    def describe(self) -> str:
        return f"s3://{self.cfg.bucket}/{self.cfg.prefix.strip('/')}/ (Object Lock)"

    @property
    def client(self) -> Any:
        if self._client is None:
            from mlscope.errors import require

            boto3 = require("boto3", "aws")
            self._client = boto3.client("s3", region_name=self.cfg.region,
                                        endpoint_url=self.cfg.endpoint_url)
        return self._client

    def check_locked(self) -> None:
        """Refuse a bucket without compliance-mode Object Lock: it would not protect anything."""
        conf = self.client.get_object_lock_configuration(Bucket=self.cfg.bucket)
        rule = conf.get("ObjectLockConfiguration", {})
        if rule.get("ObjectLockEnabled") != "Enabled":
            raise InputError(f"bucket {self.cfg.bucket} has no Object Lock",
                             "create it with Object Lock enabled (compliance mode)")

    def publish(self, record: AnchorRecord) -> None:
        self.check_locked()
        until = datetime.now(UTC) + timedelta(days=self.cfg.retain_days)
        self.client.put_object(
            Bucket=self.cfg.bucket, Key=f"{self.cfg.prefix.strip('/')}/{record.seq:012d}.json",
            Body=json.dumps({"seq": record.seq, "hash": record.hash}).encode(),
            ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until,
            ChecksumAlgorithm="SHA256")

    def records(self) -> list[AnchorRecord]:
        out: list[AnchorRecord] = []
        paginator = self.client.get_paginator("list_object_versions")
        prefix = self.cfg.prefix.strip("/") + "/"
        for page in paginator.paginate(Bucket=self.cfg.bucket, Prefix=prefix):
            # Every version counts: a delete marker or an overwrite cannot hide an anchor.
            for version in page.get("Versions", []):
                body = self.client.get_object(Bucket=self.cfg.bucket, Key=version["Key"],
                                              VersionId=version["VersionId"])["Body"].read()
                out.append(_parse(body.decode()))
        return sorted(set(out), key=lambda r: (r.seq, r.hash))


def _parse(text: str) -> AnchorRecord:
    try:
        raw = json.loads(text.strip())
        return AnchorRecord(int(raw["seq"]), str(raw["hash"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError("an anchor record is not valid", "the anchor store is corrupt") from exc


def anchors_from(cfg: AnchorConfig | None) -> list[Anchor]:
    if cfg is None:
        return []
    found: list[Anchor] = []
    if cfg.git:
        found.append(GitAnchor(cfg.git))
    if cfg.s3:
        found.append(S3ObjectLockAnchor(cfg.s3))
    return found


def check_against(records: list[AnchorRecord], hashes: list[str]) -> str | None:
    """None when the log agrees with every anchor; else what is wrong."""
    for rec in records:
        if rec.seq > len(hashes):
            what = "deleted" if not hashes else f"cut off after entry {len(hashes)}"
            return (f"the anchor records entry {rec.seq} ({rec.hash[:12]}...) but the log was "
                    f"{what}")
        if hashes[rec.seq - 1] != rec.hash:
            return (f"entry {rec.seq} differs from its anchored hash {rec.hash[:12]}... "
                    "(the log was rewritten)")
    return None
