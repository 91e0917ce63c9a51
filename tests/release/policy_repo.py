"""A throw-away git repository holding a committed release policy, SSH keys for the people
who act, and a migrated MLflow database: the setting every release test starts from.

Loaded by path from the release, deploy and serving conftests (not a test module).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PEOPLE = ("alice", "bob", "carol", "dave", "ci")  # in allowed_signers; mallory is not
ALIASES = {"alice": "Alice.Smith@Corp.Example"}

TABULAR_SPEC = """\
version: 1
project: {{name: tabular-e2e, use_case: tabular-classifier, mlops_level: 2}}
environments: [{{name: dev}}, {{name: qa}}, {{name: prod}}]
release:
  model_name: cancer
  allowed_signers: allowed_signers
  evaluation: {{path: eval.jsonl, sha256: {sha}, task: classification}}
  gates:
    qa:
      metrics: {{accuracy: {{min: 0.9}}}}
      beat_champion: {{metric: accuracy, confidence: 0.9}}
      simulation: {{max_error_rate: 0.0, max_fallback_rate: 0.0, p99_latency_ms: 5000}}
    prod:
      requires: qa
      approvals: 2
{extra}"""


def git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root)}
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env,
                          check=True, timeout=60)
    return done.stdout


def make_keys(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    keys = {}
    for who in (*PEOPLE, "mallory"):
        key = directory / who
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f",
                        str(key)], check=True, timeout=30)
        keys[who] = key
    return keys


def email(who: str) -> str:
    return f"{who}@example.com"


@dataclass
class PolicyRepo:
    root: Path
    keys: dict[str, Path]
    monkeypatch: pytest.MonkeyPatch
    eval_sha: str = ""
    extra: str = ""
    state: Path = field(default_factory=Path)

    @property
    def spec(self) -> Path:
        return self.root / "mlscope.yaml"

    def use(self, who: str) -> None:
        """Act as `who`: their private key signs (mallory's is listed nowhere)."""
        self.monkeypatch.delenv("MLSCOPE_LOCAL_DEV", raising=False)
        self.monkeypatch.setenv("MLSCOPE_SIGNING_KEY", str(self.keys[who]))

    def local_dev(self, name: str) -> None:
        self.monkeypatch.delenv("MLSCOPE_SIGNING_KEY", raising=False)
        self.monkeypatch.setenv("MLSCOPE_LOCAL_DEV", "1")
        self.monkeypatch.setenv("MLSCOPE_USER", name)

    def write_spec(self, text: str, commit: bool = True) -> None:
        self.spec.write_text(text)
        if commit:
            git(self.root, "add", "mlscope.yaml")
            git(self.root, "commit", "-q", "-m", "policy")

    def tabular_spec(self, extra: str = "") -> str:
        return TABULAR_SPEC.format(sha=self.eval_sha, extra=extra)


def build_repo(root: Path, keys: dict[str, Path], migrated_db: Path,
               monkeypatch: pytest.MonkeyPatch, eval_file: Path) -> PolicyRepo:
    from mlscope.release.digest import file_digest

    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    lines = []
    for who in PEOPLE:
        pub = keys[who].with_suffix(".pub").read_text().strip()
        names = ",".join([email(who), *([ALIASES[who]] if who in ALIASES else [])])
        lines.append(f'{names} namespaces="mlscope" {pub}')
    (root / "allowed_signers").write_text("\n".join(lines) + "\n")
    (root / ".gitignore").write_text(".mlscope/\n")
    shutil.copy(eval_file, root / "eval.jsonl")
    repo = PolicyRepo(root, keys, monkeypatch, file_digest(root / "eval.jsonl"))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "signers")
    repo.write_spec(repo.tabular_spec())
    repo.state = root / ".mlscope"
    repo.state.mkdir()
    shutil.copy(migrated_db, repo.state / "mlflow.db")
    monkeypatch.setenv("MLSCOPE_STATE_DIR", str(repo.state))
    monkeypatch.delenv("MLSCOPE_SPEC", raising=False)
    monkeypatch.delenv("MLSCOPE_TRACKING_URI", raising=False)
    monkeypatch.chdir(root)
    repo.use("alice")
    return repo
