"""`mlscope dags deploy/promote/approve/rollback` against moto's S3 with versioned buckets.

The release policy is a committed spec in a throw-away git repository; people act with their
own SSH keys (listed in allowed_signers), so approvals are the release engine's signed ones.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import boto3
import pytest

from mlscope.release.audit import AuditLog

pytestmark = pytest.mark.timeout(600)

PEOPLE = ("alice", "bob", "carol")
SPEC = """\
version: 1
project: {name: retail-recs, owner: ml-team@example.com}
release:
  model_name: retail-recs
  allowed_signers: allowed_signers
  environments: [dev, qa, prod]
  gates:
    prod: {requires: qa, approvals: 2}
"""
DAG = "# a DAG file (content matters here, not Airflow)\nVERSION = {n}\n"


def _git(root: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "HOME": str(root),
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True,
                   timeout=60)


@pytest.fixture
def project(tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    keys = {}
    lines = []
    for who in PEOPLE:
        key = tmp_path / "keys" / who
        key.parent.mkdir(exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f",
                        str(key)], check=True, timeout=30)
        keys[who] = key
        lines.append(f'{who}@example.com namespaces="mlscope" '
                     + key.with_suffix(".pub").read_text().strip())
    (root / "allowed_signers").write_text("\n".join(lines) + "\n")
    (root / "mlscope.yaml").write_text(SPEC)
    (root / ".gitignore").write_text(".mlscope/\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "policy")
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    envs = {}
    for env in ("dev", "qa", "prod"):
        bucket = f"{root.name}-{tmp_path.name}-mwaa-{env}".lower().replace("_", "-")[-60:]
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        envs[env] = {"bucket": bucket, "prefix": ""}
    (tmp_path / "mwaa.yaml").write_text(json.dumps(
        {"spec": "repo/mlscope.yaml", "region": "us-east-1", "environments": envs}))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("MLSCOPE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("MLSCOPE_LOCAL_DEV", raising=False)
    monkeypatch.delenv("MLSCOPE_SPEC", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys.json").write_text(json.dumps({k: str(v) for k, v in keys.items()}))
    return tmp_path


def _as(project: Path, who: str, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = json.loads((project / "keys.json").read_text())
    monkeypatch.setenv("MLSCOPE_SIGNING_KEY", keys[who])


def _dags(project: Path, n: int) -> Path:
    folder = project / f"dags{n}"
    (folder / "params").mkdir(parents=True)
    (folder / "retrain.py").write_text(DAG.format(n=n))
    (folder / "params" / "dev.json").write_text('{"environment": "dev"}\n')
    (folder / "requirements.txt").write_text(f"mlscope=={n}.0\n")
    (folder / "mwaa.yaml").write_text("not deployed\n")
    return folder


def _prod_file(project: Path, key: str) -> str:
    envs = json.loads((project / "mwaa.yaml").read_text())["environments"]
    s3 = boto3.client("s3", region_name="us-east-1")
    return str(s3.get_object(Bucket=envs["prod"]["bucket"], Key=key)["Body"].read().decode())


def test_promotion_dev_qa_prod_with_approvals_and_rollback(
        run, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = ["--config", str(project / "mwaa.yaml")]
    _as(project, "alice", monkeypatch)
    first = run("dags", "deploy", _dags(project, 1), "--env", "dev", "--commit", "c1", *cfg,
                "--json")
    assert first.code == 0, first.err
    deployed = first.json()
    assert deployed["bundle"] == 1 and deployed["done"]
    files = deployed["manifest"]["files"]
    # MWAA layout: code under dags/, requirements at the root, mwaa.yaml stays home.
    assert set(files) == {"dags/retrain.py", "dags/params/dev.json", "requirements.txt"}
    assert all(f["version_id"] and len(f["sha256"]) == 64 for f in files.values())
    assert deployed["manifest"]["commit"] == "c1"

    # `dags test --env dev` checks the exact object versions dev runs, on real Airflow.
    tested = run("dags", "test", "--env", "dev", *cfg, "--json")
    assert tested.code == 0, tested.out + tested.err
    assert [f["file"] for f in tested.json()["files"]] == ["retrain.py"]
    assert run("dags", "test", *cfg).code == 2  # neither a folder nor --env

    # A deploy can only reach the first environment.
    assert run("dags", "deploy", _dags(project, 9), "--env", "prod", *cfg).code == 1

    # The diff comes first; a dry run changes nothing.
    dry = run("dags", "promote", "--from", "dev", "--to", "qa", "--dry-run", *cfg)
    assert dry.code == 0 and "+ dags/retrain.py" in dry.out and "dry run" in dry.out
    assert run("dags", "status", *cfg, "--json").json()["environments"]["qa"] is None
    assert run("dags", "promote", "--from", "dev", "--to", "qa", *cfg).code == 0

    # prod: refused without approvals, audited, nothing copied.
    refused = run("dags", "promote", "--from", "qa", "--to", "prod", *cfg)
    assert refused.code == 1 and "approvals: 0 of 2" in refused.out
    assert run("dags", "status", *cfg, "--json").json()["environments"]["prod"] is None

    # The author cannot approve their own bundle; the attempt is recorded.
    selfie = run("dags", "approve", "1", "--env", "prod", "--reason", "mine", *cfg)
    assert selfie.code == 1 and "self-approval" in selfie.err
    _as(project, "bob", monkeypatch)
    assert run("dags", "approve", "1", "--env", "prod", "--reason", "reviewed", *cfg).code == 0
    still = run("dags", "promote", "--from", "qa", "--to", "prod", *cfg)
    assert still.code == 1 and "approvals: 1 of 2" in still.out
    _as(project, "carol", monkeypatch)
    assert run("dags", "approve", "1", "--env", "prod", "--reason", "ok", *cfg).code == 0
    shipped = run("dags", "promote", "--from", "qa", "--to", "prod", *cfg, "--json")
    assert shipped.code == 0, shipped.out
    assert _prod_file(project, "dags/retrain.py") == DAG.format(n=1)

    # Bundle 2: the approvals of bundle 1 do not carry over.
    _as(project, "alice", monkeypatch)
    assert run("dags", "deploy", _dags(project, 2), *cfg).code == 0
    assert run("dags", "promote", "--from", "dev", "--to", "qa", *cfg).code == 0
    again = run("dags", "promote", "--from", "qa", "--to", "prod", *cfg)
    assert again.code == 1 and "approvals: 0 of 2" in again.out
    for who in ("bob", "carol"):
        _as(project, who, monkeypatch)
        assert run("dags", "approve", "2", "--env", "prod", "--reason", "ok", *cfg).code == 0
    diff = run("dags", "promote", "--from", "qa", "--to", "prod", *cfg)
    assert diff.code == 0 and "~ dags/retrain.py" in diff.out and "~ requirements.txt" in diff.out
    assert _prod_file(project, "dags/retrain.py") == DAG.format(n=2)

    # Rollback restores bundle 1's exact object versions.
    back = run("dags", "rollback", "--env", "prod", "--reason", "bad deploy", *cfg, "--json")
    assert back.code == 0, back.err
    assert back.json()["bundle"] == 1
    assert _prod_file(project, "dags/retrain.py") == DAG.format(n=1)
    assert _prod_file(project, "requirements.txt") == "mlscope==1.0\n"
    status = run("dags", "status", *cfg, "--json").json()["environments"]
    assert status["prod"]["bundle"] == 1 and status["qa"]["bundle"] == 2

    from mlscope.release.policy import find_policy

    log = AuditLog(project / "state" / "audit.jsonl")
    policy = find_policy(project / "repo" / "mlscope.yaml")
    assert policy is not None and log.verify(signers=policy.signers).ok  # every entry signed
    actions = [e["action"] for e in log.entries()]
    for action in ("register", "dags.deploy", "dags.promote", "dags.promote.refused",
                   "approve.refused", "approve", "dags.rollback"):
        assert action in actions
    refusal = next(e for e in log.entries() if e["action"] == "approve.refused")
    assert refusal["subject"] == "dags/retail-recs:1"


def test_unversioned_bucket_and_missing_config_are_refused(
        run, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("dags", "status", "--config", str(project / "nope.yaml")).code == 2
    config = json.loads((project / "mwaa.yaml").read_text())
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="plain-dev-bucket-for-mlscope")
    config["environments"]["dev"]["bucket"] = "plain-dev-bucket-for-mlscope"
    (project / "plain.yaml").write_text(json.dumps(config))
    _as(project, "alice", monkeypatch)
    result = run("dags", "deploy", _dags(project, 3), "--config", str(project / "plain.yaml"))
    assert result.code == 1 and "not versioned" in result.err
