"""Promote DAG bundles between MWAA environments like code: manifest, diff, gates, rollback.

Each environment's MWAA reads `s3://BUCKET/PREFIX/` in the MWAA layout: `dags/...`,
`requirements.txt`, `plugins.zip`. What is deployed is recorded in a manifest
(`mlscope/manifests/NNNNNN.json`, and `mlscope/current.json`): the commit, every file's
sha256 and its S3 object version. The buckets must be versioned: promotion copies the exact
object versions the source manifest names, and rollback restores the previous manifest's
versions.

A deploy to the first environment registers the bundle in mlscope's release audit log as
`dags/<project>:N` with its digest (the sha256 of its file list); approvals are the release
engine's signed approvals bound to that digest, the policy and the registration, so the same
rules hold as for models: the author cannot approve, unsigned approvals never count for
production, and every promotion, refusal and rollback is a hash-chained audit entry. The target
environment's gates come from the committed spec (`requires`, `approvals`); model-only gates
(metrics, champion, simulation) do not apply to DAGs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlscope.dags.generate import CONFIG_FILE
from mlscope.errors import InputError, UnknownNameError
from mlscope.release.approvals import (
    APPROVE,
    REGISTER,
    Approval,
    check_approvals,
    record_decision,
    registration,
    subject,
)
from mlscope.release.audit import AuditLog, default_audit_log, utc_now
from mlscope.release.base import RefusedError
from mlscope.release.identity import Actor, current_actor
from mlscope.release.policy import Policy, find_policy

MANIFESTS = "mlscope/manifests/"
CURRENT = "mlscope/current.json"
ROOT_FILES = ("requirements.txt", "plugins.zip")  # MWAA reads these at the bucket root
SKIP = {CONFIG_FILE}


@dataclass(frozen=True)
class Location:
    bucket: str
    prefix: str = ""

    def key(self, rel: str) -> str:
        return f"{self.prefix.strip('/')}/{rel}" if self.prefix.strip("/") else rel

    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix.strip('/')}"


@dataclass
class MwaaConfig:
    path: Path
    spec: Path
    region: str
    environments: dict[str, Location]

    def location(self, env: str) -> Location:
        if env not in self.environments:
            raise UnknownNameError("environment", env, self.environments)
        return self.environments[env]


def load_config(path: str | Path) -> MwaaConfig:
    file = Path(path)
    if not file.is_file():
        raise InputError(f"no MWAA config at {file}",
                         "run `mlscope dags generate SPEC -o DIR` (it writes DIR/mwaa.yaml) "
                         "or pass --config")
    try:
        raw = yaml.safe_load(file.read_text()) or {}
        envs = {str(name): Location(str(v["bucket"]), str(v.get("prefix") or ""))
                for name, v in (raw.get("environments") or {}).items()}
        spec = Path(str(raw.get("spec", "mlscope.yaml")))
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{file} is not an MWAA config ({exc})",
                         "expect environments: {dev: {bucket: NAME, prefix: ''}, ...}") from exc
    if not envs:
        raise InputError(f"{file} names no environments")
    return MwaaConfig(file, spec if spec.is_absolute() else file.parent / spec,
                      str(raw.get("region") or "us-east-1"), envs)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle_digest(files: dict[str, str]) -> str:
    """sha256 of the sorted {key: sha256} list: the content a deploy or approval names."""
    body = json.dumps(sorted(files.items()), separators=(",", ":")).encode()
    return "sha256:" + sha256(body)


def local_files(folder: Path) -> dict[str, bytes]:
    """The MWAA layout of a DAG folder: DAG code and params under dags/, requirements.txt and
    plugins.zip at the root; mwaa.yaml and caches stay home."""
    if not folder.is_dir():
        raise InputError(f"DAG folder {folder} does not exist", "pass the folder holding your DAGs")
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or rel in SKIP:
            continue
        out[rel if rel in ROOT_FILES else f"dags/{rel}"] = path.read_bytes()
    if not any(k.endswith(".py") for k in out):
        raise InputError(f"{folder} holds no .py DAG files", "pass the folder holding your DAGs")
    return out


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def lines(self) -> list[str]:
        return ([f"+ {k}" for k in self.added] + [f"~ {k}" for k in self.changed]
                + [f"- {k}" for k in self.removed])

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed,
                "unchanged": self.unchanged}


def diff(current: dict[str, Any] | None, new: dict[str, str]) -> Diff:
    old = {k: v["sha256"] for k, v in ((current or {}).get("files") or {}).items()}
    out = Diff()
    for key in sorted(new):
        if key not in old:
            out.added.append(key)
        elif old[key] != new[key]:
            out.changed.append(key)
        else:
            out.unchanged += 1
    out.removed = sorted(set(old) - set(new))
    return out


@dataclass
class Outcome:
    action: str  # deploy, promote, rollback
    env: str
    done: bool
    dry_run: bool
    diff: Diff
    bundle: int | None
    digest: str | None
    refusals: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "env": self.env, "done": self.done,
                "dry_run": self.dry_run, "bundle": self.bundle, "digest": self.digest,
                "diff": self.diff.as_dict(), "refusals": self.refusals,
                "manifest": self.manifest}


def _commit(folder: Path) -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


class DagPromoter:
    """Deploy, promote, approve and roll back one project's DAG bundles."""

    def __init__(self, config: MwaaConfig, s3: Any, log: AuditLog | None = None,
                 policy: Policy | None = None) -> None:
        self.config = config
        self.s3 = s3
        self.log = log or default_audit_log()
        found = policy or find_policy(config.spec)
        if found is None:
            raise RefusedError(f"no release policy at {config.spec}",
                               "point mwaa.yaml's spec at the committed mlscope.yaml")
        self.policy = found
        self.model = f"dags/{self.project}"

    @property
    def project(self) -> str:
        from mlscope.spec.loader import load_spec

        return load_spec(self.policy.spec_path).project.name

    def actor(self) -> Actor:
        return current_actor(self.policy.signers)

    # -- S3 ------------------------------------------------------------------------------
    def _versioned(self, loc: Location) -> None:
        status = self.s3.get_bucket_versioning(Bucket=loc.bucket).get("Status")
        if status != "Enabled":
            raise RefusedError(f"bucket {loc.bucket} is not versioned",
                               "enable versioning (MWAA needs it for requirements and plugins, "
                               "and rollback restores object versions)")

    def current(self, env: str) -> dict[str, Any] | None:
        loc = self.config.location(env)
        try:
            body = self.s3.get_object(Bucket=loc.bucket, Key=loc.key(CURRENT))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        manifest: dict[str, Any] = json.loads(body)
        return manifest

    def manifests(self, env: str) -> list[dict[str, Any]]:
        loc = self.config.location(env)
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=loc.bucket, Prefix=loc.key(MANIFESTS))
        keys = sorted(o["Key"] for page in pages for o in page.get("Contents", []))
        return [json.loads(self.s3.get_object(Bucket=loc.bucket, Key=k)["Body"].read())
                for k in keys]

    def _read(self, loc: Location, key: str, version: str) -> bytes:
        data: bytes = self.s3.get_object(Bucket=loc.bucket, Key=loc.key(key),
                                         VersionId=version)["Body"].read()
        return data

    def _write_manifest(self, env: str, manifest: dict[str, Any]) -> dict[str, Any]:
        loc = self.config.location(env)
        seq = len(self.manifests(env)) + 1
        manifest = {**manifest, "seq": seq}
        body = json.dumps(manifest, indent=2, sort_keys=True).encode()
        self.s3.put_object(Bucket=loc.bucket, Key=loc.key(f"{MANIFESTS}{seq:06d}.json"), Body=body)
        self.s3.put_object(Bucket=loc.bucket, Key=loc.key(CURRENT), Body=body)
        return manifest

    def _apply(self, env: str, writes: dict[str, Any], old: dict[str, Any] | None,
               keep: set[str]) -> dict[str, dict[str, Any]]:
        """Write each file (bytes, or a (location, key, version) to copy), then delete what the
        old manifest had and the new one lacks: `aws s3 sync --delete`, with versions kept."""
        loc = self.config.location(env)
        files: dict[str, dict[str, Any]] = {}
        for key, source in sorted(writes.items()):
            if isinstance(source, bytes):
                done = self.s3.put_object(Bucket=loc.bucket, Key=loc.key(key), Body=source)
                data = source
            else:
                src_loc, src_key, version = source
                done = self.s3.copy_object(Bucket=loc.bucket, Key=loc.key(key), CopySource={
                    "Bucket": src_loc.bucket, "Key": src_loc.key(src_key), "VersionId": version})
                data = self._read(loc, key, done["VersionId"])
            files[key] = {"sha256": sha256(data), "size": len(data),
                          "version_id": done["VersionId"]}
        for key in sorted(set((old or {}).get("files", {})) - keep):
            self.s3.delete_object(Bucket=loc.bucket, Key=loc.key(key))
        return files

    # -- registration and gates ----------------------------------------------------------
    def _entries(self) -> list[dict[str, Any]]:
        verdict = self.log.verify(signers=self.policy.signers)
        if not verdict.ok:
            raise RefusedError(f"the audit log is not intact ({verdict.message})",
                               "`mlscope audit verify` says more")
        return self.log.entries()

    def _next_bundle(self, entries: list[dict[str, Any]]) -> int:
        numbers = [int(str(e["subject"]).rsplit(":", 1)[1]) for e in entries
                   if e.get("action") == REGISTER
                   and str(e.get("subject", "")).startswith(f"{self.model}:")]
        return max(numbers, default=0) + 1

    def _gates(self, env: str, manifest: dict[str, Any],
               entries: list[dict[str, Any]]) -> list[str]:
        """Why `manifest`'s bundle may not enter `env` (empty: it may)."""
        refusals = []
        reg = registration(entries, self.model, int(manifest["bundle"]))
        if reg is None:
            return [f"bundle {manifest['bundle']} has no register entry in the audit log"]
        if reg.artifact_digest != manifest["digest"]:
            refusals.append("the source's files differ from the registered bundle digest")
        if reg.policy_digest != self.policy.digest:
            refusals.append("the policy changed since the bundle was registered")
        gates = self.policy.gates(env)
        if env == self.policy.production and not self.policy.committed:
            refusals.append("the policy files must be committed and unmodified for production")
        if gates.requires:
            held = self.current(gates.requires)
            if held is None or held.get("digest") != manifest["digest"]:
                refusals.append(f"requires:{gates.requires}: bundle {manifest['bundle']} is "
                                f"not what {gates.requires} runs")
        if gates.approvals:
            check = check_approvals(self.log, entries, reg, env, self.policy.signers,
                                    self.policy.approvers(env),
                                    require_signed=env == self.policy.production)
            if check.rejections:
                refusals.append(f"rejected by {', '.join(a.actor for a in check.rejections)}")
            if len(check.valid) < gates.approvals:
                why = f" (ignored: {'; '.join(check.ignored)})" if check.ignored else ""
                refusals.append(f"approvals: {len(check.valid)} of {gates.approvals} from "
                                f"people other than the author {reg.author}{why}")
        return refusals

    def fetch(self, env: str, folder: Path) -> dict[str, Any]:
        """Write what `env` runs (its manifest's object versions) into a local DAG folder."""
        loc = self.config.location(env)
        manifest = self.current(env)
        if manifest is None:
            raise InputError(f"nothing is deployed in {env}")
        for key, meta in manifest["files"].items():
            data = self._read(loc, key, meta["version_id"])
            if sha256(data) != meta["sha256"]:
                raise RefusedError(f"{env} object {key} does not match its manifest hash")
            rel = key.removeprefix("dags/")
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        return manifest

    # -- operations ----------------------------------------------------------------------
    def deploy(self, folder: Path, env: str, actor: Actor, commit: str | None = None,
               dry_run: bool = False) -> Outcome:
        """Upload a local DAG folder to the first environment and register it as a bundle."""
        first = self.policy.environments[0]
        if env != first:
            raise RefusedError(f"deploys go to {first} only; {env} is reached by promotion",
                               f"`mlscope dags promote --from {first} --to ...`")
        loc = self.config.location(env)
        content = local_files(folder)
        hashes = {k: sha256(v) for k, v in content.items()}
        digest = bundle_digest(hashes)
        old = self.current(env)
        change = diff(old, hashes)
        if dry_run or change.empty:
            return Outcome("deploy", env, False, dry_run, change, None, digest)
        self._versioned(loc)
        entries = self._entries()
        bundle = self._next_bundle(entries)
        commit = commit or _commit(folder)
        self.log.append(actor, REGISTER, subject(self.model, bundle), f"deploy to {env}", after={
            "kind": "dags", "artifact_digest": digest, "policy_digest": self.policy.digest,
            "commit": commit, "files": len(hashes)})
        files = self._apply(env, dict(content), old, set(content))
        manifest = self._write_manifest(env, {
            "env": env, "bundle": bundle, "digest": digest, "commit": commit,
            "source": "local", "by": actor.name, "at": utc_now(), "files": files,
            "previous": (old or {}).get("seq")})
        self.log.append(actor, "dags.deploy", subject(self.model, bundle), f"deploy to {env}",
                        before={"env": env, "bundle": (old or {}).get("bundle")},
                        after={"env": env, "bundle": bundle, "manifest": manifest["seq"]})
        return Outcome("deploy", env, True, False, change, bundle, digest, manifest=manifest)

    def approve(self, bundle: int, env: str, actor: Actor, reason: str,
                decision: str = APPROVE) -> Approval:
        entries = self._entries()
        reg = registration(entries, self.model, bundle)
        if reg is None:
            raise InputError(f"no DAG bundle {bundle} for {self.project}",
                             "`mlscope dags status` lists the deployed bundles")
        self.config.location(env)
        return record_decision(self.log, actor, reg, env, reason, decision,
                               self.policy.section.approval_ttl_hours,
                               self.policy.approvers(env), self.policy.signers)

    def promote(self, source: str, target: str, actor: Actor, reason: str = "",
                dry_run: bool = False) -> Outcome:
        src_loc, dst_loc = self.config.location(source), self.config.location(target)
        if source == target:
            raise InputError("--from and --to name the same environment")
        manifest = self.current(source)
        if manifest is None:
            raise InputError(f"nothing is deployed in {source}",
                             f"`mlscope dags deploy DIR --env {source}` first")
        old = self.current(target)
        new = {k: v["sha256"] for k, v in manifest["files"].items()}
        change = diff(old, new)
        entries = self._entries()
        refusals = self._gates(target, manifest, entries)
        # The source objects must still be the bytes the manifest hashed.
        for key, meta in manifest["files"].items():
            if sha256(self._read(src_loc, key, meta["version_id"])) != meta["sha256"]:
                refusals.append(f"{source} object {key} does not match its manifest hash")
        outcome = Outcome("promote", target, False, dry_run, change, int(manifest["bundle"]),
                          manifest["digest"], refusals)
        if dry_run:
            return outcome
        subj = subject(self.model, int(manifest["bundle"]))
        if refusals:
            self.log.append(actor, "dags.promote.refused", subj, reason,
                            before={"env": target, "bundle": (old or {}).get("bundle")},
                            after={"env": target, "from": source, "refusals": refusals})
            return outcome
        if change.empty:
            raise InputError(f"{target} already runs bundle {manifest['bundle']}")
        self._versioned(dst_loc)
        writes = {k: (src_loc, k, m["version_id"]) for k, m in manifest["files"].items()}
        files = self._apply(target, writes, old, set(writes))
        outcome.manifest = self._write_manifest(target, {
            "env": target, "bundle": manifest["bundle"], "digest": manifest["digest"],
            "commit": manifest.get("commit"), "source": f"env:{source}",
            "source_manifest": manifest["seq"], "by": actor.name, "at": utc_now(),
            "files": files, "previous": (old or {}).get("seq")})
        self.log.append(actor, "dags.promote", subj, reason,
                        before={"env": target, "bundle": (old or {}).get("bundle")},
                        after={"env": target, "from": source, "bundle": manifest["bundle"],
                               "digest": manifest["digest"],
                               "manifest": outcome.manifest["seq"]})
        outcome.done = True
        return outcome

    def rollback(self, env: str, actor: Actor, reason: str = "",
                 dry_run: bool = False) -> Outcome:
        """Restore the previous manifest's object versions (no gates: an emergency)."""
        loc = self.config.location(env)
        current = self.current(env)
        if current is None or not current.get("previous"):
            raise InputError(f"{env} has no earlier deployment to roll back to")
        earlier = {m["seq"]: m for m in self.manifests(env)}
        target = earlier.get(current["previous"])
        if target is None:
            raise InputError(f"manifest {current['previous']} of {env} is missing")
        change = diff(current, {k: v["sha256"] for k, v in target["files"].items()})
        outcome = Outcome("rollback", env, False, dry_run, change, int(target["bundle"]),
                          target["digest"])
        if dry_run:
            return outcome
        self._versioned(loc)
        writes = {k: (loc, k, m["version_id"]) for k, m in target["files"].items()}
        files = self._apply(env, writes, current, set(writes))
        outcome.manifest = self._write_manifest(env, {
            **{k: target.get(k) for k in ("bundle", "digest", "commit", "source")},
            "env": env, "rolled_back_from": current["seq"], "restores": target["seq"],
            "by": actor.name, "at": utc_now(), "files": files, "previous": target.get("previous")})
        self.log.append(actor, "dags.rollback", subject(self.model, int(target["bundle"])),
                        reason, before={"env": env, "bundle": current["bundle"]},
                        after={"env": env, "bundle": target["bundle"],
                               "manifest": outcome.manifest["seq"]})
        outcome.done = True
        return outcome
