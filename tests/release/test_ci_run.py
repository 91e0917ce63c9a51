"""The generated GitHub workflow, executed: every job's steps run in order with bash, each job
in a fresh checkout (as on a fresh runner), against moto's server for S3 and SageMaker.

`uses:` actions are emulated by what they do: checkout (a fresh clone), setup-python (the test
interpreter), configure-aws-credentials (moto credentials; the test fails if any step touches
S3 before it). Two commands are recorded instead of run, because running them would change the
test machine: `python -m pip install ".[all]"` (checked to install from the repository itself)
and `sudo apt-get install -y openssh-client`. Between qa and prod two reviewers approve from
their own machines through the same S3 state, as the workflow's documentation says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def moto(start_moto: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    with start_moto() as url:
        httpx.post(f"{url}/moto-api/reset", timeout=10)
        yield url


def _shims(root: Path, log: Path) -> Path:
    shims = root / "shims"
    shims.mkdir()
    (shims / "sudo").write_text(f"""#!/bin/sh
echo "sudo $*" >> {log}
[ "$*" = "apt-get install -y openssh-client" ] || exit 97
""")
    (shims / "python").write_text(f"""#!/bin/sh
if [ "$1 $2 $3" = "-m pip install" ]; then echo "pip $*" >> {log}; exit 0; fi
exec {sys.executable} "$@"
""")
    for shim in shims.iterdir():
        shim.chmod(0o755)
    return shims


def _lookup(expr: str, ctx: dict[str, Any]) -> str:
    value: Any = ctx
    for part in expr.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return str(value)


def _sub(text: Any, ctx: dict[str, Any]) -> Any:
    if isinstance(text, dict):
        return {k: _sub(v, ctx) for k, v in text.items()}
    if not isinstance(text, str):
        return text
    return EXPR.sub(lambda m: _lookup(m.group(1), ctx), text)


def _order(jobs: dict[str, Any]) -> list[str]:
    done: list[str] = []
    while len(done) < len(jobs):
        for name, job in jobs.items():
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            if name not in done and all(n in done for n in needs):
                done.append(name)
    return done


class Runner:
    def __init__(self, repo: Any, moto: str, tmp: Path, ctx: dict[str, Any]) -> None:
        self.repo, self.moto, self.tmp, self.ctx = repo, moto, tmp, ctx
        self.log = tmp / "recorded.log"
        self.shims = _shims(tmp, self.log)
        self.executed: list[tuple[str, str]] = []

    def base_env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLSCOPE_",
                                                                             "MLFLOW_"))}
        return {**keep, "PATH": f"{self.shims}:{VENV_BIN}:/usr/bin:/bin", "GITHUB_RUN_ID": "7",
                "GITHUB_SHA": "abc123", "GITHUB_ACTOR": "alice"}

    def job(self, name: str, job: dict[str, Any], wf_env: dict[str, str]) -> dict[str, str]:
        work = self.tmp / f"job-{name}"
        subprocess.run(["git", "clone", "-q", str(self.repo.root), str(work)], check=True)
        temp = self.tmp / f"temp-{name}"
        temp.mkdir()
        env = {**self.base_env(), "RUNNER_TEMP": str(temp)}
        ctx = {**self.ctx, "steps": {}, "env": {}}
        env.update({k: _sub(v, {**ctx, "env": env}) for k, v in wf_env.items()})
        env.update({k: _sub(v, {**ctx, "env": env}) for k, v in (job.get("env") or {}).items()})
        creds = False
        for i, step in enumerate(job["steps"]):
            label = step.get("name") or step.get("uses")
            if "uses" in step:
                action = step["uses"].split("@")[0]
                assert action in ("actions/checkout", "actions/setup-python",
                                  "aws-actions/configure-aws-credentials"), action
                if action == "aws-actions/configure-aws-credentials":
                    creds = True
                    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY":
                                "testing", "AWS_SESSION_TOKEN": "testing",
                                "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                                "AWS_ENDPOINT_URL": self.moto,
                                "MLFLOW_S3_ENDPOINT_URL": self.moto})
                self.executed.append((name, str(label)))
                continue
            script = step["run"]
            if re.search(r"state (pull|push)|aws s3", script):
                assert creds, f"{name}: {label} touches S3 before OIDC credentials"
            out_file, env_file = temp / f"out-{i}", temp / f"env-{i}"
            out_file.touch()
            env_file.touch()
            step_env = {**env, **{k: _sub(v, {**ctx, "env": env})
                                  for k, v in (step.get("env") or {}).items()},
                        "GITHUB_OUTPUT": str(out_file), "GITHUB_ENV": str(env_file)}
            try:
                done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work,
                                      env=step_env, capture_output=True, text=True, timeout=240)
            except subprocess.TimeoutExpired as exc:
                raise AssertionError(f"{name}: {label} timed out: {exc.stderr!r:.3000}") from exc
            assert done.returncode == 0, (f"{name}: {label} exited {done.returncode}\n"
                                          f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
            self.executed.append((name, str(label)))
            for line in env_file.read_text().splitlines():
                k, _, v = line.partition("=")
                env[k] = v
            if step.get("id"):
                lines = out_file.read_text().splitlines()
                ctx["steps"][step["id"]] = {"outputs": dict(
                    line.split("=", 1) for line in lines if "=" in line)}
        return {k: _sub(v, ctx) for k, v in (job.get("outputs") or {}).items()}


def _reviewer(repo: Any, runner: Runner, who: str, version: str, state_url: str) -> None:
    """A reviewer approves from their own machine: pull the state, sign, push."""
    home = runner.tmp / f"laptop-{who}"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(home)], check=True)
    env = {**runner.base_env(), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY":
           "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": runner.moto,
           "MLFLOW_S3_ENDPOINT_URL": runner.moto, "MLSCOPE_STATE_DIR": str(home / ".mlscope"),
           "MLSCOPE_TRACKING_URI": "sqlite:///.mlscope/mlflow.db",
           "MLSCOPE_SIGNING_KEY": str(repo.keys[who])}
    for args in (["release", "state", "pull", "--url", state_url],
                 ["release", "approve", "cancer", version, "--env", "prod", "--reason",
                  f"reviewed by {who}"],
                 ["release", "state", "push", "--url", state_url]):
        done = subprocess.run([str(VENV_BIN / "mlscope"), *args], cwd=home, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)  # many real processes; slow on a loaded 2-core machine
def test_the_generated_workflow_runs_against_moto(repo: Any, moto: str, tmp_path: Path,
                                                  run: Any) -> None:
    import boto3
    from policy_repo import git

    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    for bucket in ("state", "models"):
        s3.create_bucket(Bucket=bucket)
    res = run("release", "ci", "-o", ".github/workflows/release.yml", "--model", "cancer")
    assert res.code == 0, res.err
    git(repo.root, "add", ".github")
    git(repo.root, "commit", "-q", "-m", "workflow")
    text = (repo.root / ".github/workflows/release.yml").read_text()
    wf = yaml.safe_load(text)
    account = "123456789012"
    ctx: dict[str, Any] = {
        "vars": {"MLSCOPE_STATE_S3": "s3://state/release",
                 "MLSCOPE_ARTIFACT_URI": "s3://state/mlflow-artifacts",
                 "AWS_REGION": "us-east-1", "MLSCOPE_AWS_BUCKET": "models",
                 "MLSCOPE_AWS_ROLE_ARN": f"arn:aws:iam::{account}:role/sm",
                 "MLSCOPE_AWS_IMAGE": f"{account}.dkr.ecr.us-east-1.amazonaws.com/m:1",
                 "AWS_DEPLOY_ROLE_ARN": f"arn:aws:iam::{account}:role/deploy"},
        "secrets": {"MLSCOPE_CI_SIGNING_KEY": repo.keys["ci"].read_text()},
        "needs": {}}
    runner = Runner(repo, moto, tmp_path, ctx)
    for name in _order(wf["jobs"]):
        if name == "prod":  # the reviewers sign before the prod job runs
            version = ctx["needs"]["train"]["outputs"]["version"]
            for who in ("bob", "carol"):
                _reviewer(repo, runner, who, version, "s3://state/release")
        ctx["needs"][name] = {"outputs": runner.job(name, wf["jobs"][name], wf["env"])}
    jobs = [j for j, _ in runner.executed]
    assert list(dict.fromkeys(jobs)) == ["check", "train", "dev", "qa", "prod"]
    recorded = runner.log.read_text()
    assert 'pip -m pip install .[all]' in recorded  # from the checkout, not a package index
    # every environment's endpoint serves the version the alias holds
    sm = boto3.client("sagemaker", endpoint_url=moto, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    assert {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]} == {
        "cancer-dev", "cancer-qa", "cancer-prod"}
    # the final state in S3 verifies and holds the reviewers' signed approvals
    final = tmp_path / "auditor"
    final.mkdir()
    local = final / "audit.jsonl"
    s3.download_file("state", "release/audit.jsonl", str(local))
    actions = [__import__("json").loads(x) for x in local.read_text().splitlines()]
    approvers = {e["actor"] for e in actions if e["action"] == "approve"}
    assert approvers == {"bob@example.com", "carol@example.com"}
    assert [e["after"]["env"] for e in actions if e["action"] == "promote"] == [
        "dev", "qa", "prod"]
    shutil.rmtree(final)


def test_two_jobs_cannot_hold_the_state_lock_and_a_stale_push_is_refused(
        repo: Any, moto: str, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(var, value)
    boto3.client("s3", endpoint_url=moto).create_bucket(Bucket="state")
    url = ["--url", "s3://state/r", "--endpoint-url", moto]
    assert run("release", "state", "pull", *url).code == 0
    second = run("release", "state", "pull", *url)
    assert second.code == 1 and "locked" in second.err
    assert run("release", "state", "push", *url).code == 0
    # a job whose log lacks entries already in S3 cannot overwrite them
    assert run("release", "state", "pull", *url).code == 0
    (repo.state / "audit.jsonl").write_text("")
    remote = boto3.client("s3", endpoint_url=moto)
    remote.put_object(Bucket="state", Key="r/audit.jsonl", Body=b'{"seq": 1}\n')
    res = run("release", "state", "push", *url)
    assert res.code == 1 and "entries this job does not have" in res.err
