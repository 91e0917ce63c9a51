"""The GitHub Actions workflow parses, runs the stages in order, and every `mlscope ...` command
line in it parses against the real CLI (command path, options and argument types)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from mlscope.cli.main import cli
from mlscope.errors import InputError
from mlscope.release.ci import github_workflow

# Values the workflow's shell variables hold at run time.
SHELL_VALUES = {"$MODEL_DIR": "build/model", "$MODEL": "recs", "$VERSION": "2",
                "$REASON": "reviewed", "$MLSCOPE_SPEC": "mlscope.yaml", "$GITHUB_RUN_ID": "1",
                "$GITHUB_SHA": "abc", "$MLSCOPE_STATE_S3": "s3://state/release"}
SEPARATORS = {";", "&&", "||", "|", "then", "do", "(", "$("}


def _expand(token: str) -> str:
    for var, value in SHELL_VALUES.items():
        token = token.replace(var, value)
    return token


def mlscope_calls(workflow: dict[str, Any]) -> list[list[str]]:
    calls = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "").replace("\\\n", " ")
            for line in script.splitlines():
                lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
                lexer.whitespace_split = True
                tokens = list(lexer)
                for i, tok in enumerate(tokens):
                    if tok == "mlscope" and (i == 0 or tokens[i - 1] in SEPARATORS):
                        args = []
                        for arg in tokens[i + 1:]:
                            if arg in SEPARATORS or arg in (">", ">>", "<"):
                                break
                            args.append(_expand(arg))
                        calls.append(args)
    return calls


def resolve(args: list[str]) -> click.Command | None:
    """Parse ARGS as the CLI would (raises on an unknown command, option or bad value)."""
    ctx = click.Context(cli)
    command: click.Command | None = cli.get_command(ctx, args[0])
    if command is None:
        return None
    rest = args[1:]
    while isinstance(command, click.Group):
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"`mlscope {' '.join(args)}`: no subcommand {rest[0]!r}"
        command, rest = sub, rest[1:]
    command.make_context(" ".join(args[:1]), list(rest), parent=ctx)
    return command


@pytest.fixture
def workflow() -> dict[str, Any]:
    return yaml.safe_load(github_workflow("recs"))


def test_stages_in_order(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert list(jobs) == ["check", "train", "dev", "qa", "prod"]
    assert jobs["prod"]["needs"] == ["train", "qa"] and jobs["prod"]["environment"] == "prod"
    assert workflow["concurrency"]["group"] == "mlscope-release-recs"
    assert workflow["permissions"] == {"contents": "read", "id-token": "write"}
    installs = [s["run"] for j in jobs.values() for s in j["steps"] if "pip install" in
                s.get("run", "")]
    assert installs and all('pip install ".[all]"' in r for r in installs)  # from the repo
    assert not any("pip install 'mlscope" in r or "pip install mlscope" in r for r in installs)
    check = [s.get("run", "") for s in jobs["check"]["steps"]]
    assert any("mlscope check --strict" in r for r in check)
    for name, job in jobs.items():  # OIDC credentials come before any S3 access in each job
        steps = job["steps"]
        creds = [i for i, s in enumerate(steps) if "configure-aws-credentials" in s.get("uses", "")]
        s3 = [i for i, s in enumerate(steps) if "state pull" in s.get("run", "")
              or "state push" in s.get("run", "") or "aws s3" in s.get("run", "")]
        if s3:
            assert creds and creds[0] < min(s3), name


def test_every_mlscope_command_exists(workflow: dict[str, Any]) -> None:
    calls = mlscope_calls(workflow)
    assert len(calls) >= 12
    for args in calls:
        assert resolve(args) is not None, f"`mlscope {' '.join(args)}` is not a command"


def test_resolver_catches_mistakes() -> None:
    with pytest.raises(click.UsageError):
        resolve(["release", "promote", "recs", "two", "--to", "qa"])
    with pytest.raises(click.UsageError):
        resolve(["release", "promote", "recs", "2", "--too", "qa"])
    with pytest.raises(AssertionError):
        resolve(["release", "promoot", "recs", "2"])


def test_cli_writes_the_file(tmp_path: Path, run: Callable[..., Any]) -> None:
    out = tmp_path / ".github" / "workflows" / "mlscope-release.yml"
    res = run("release", "ci", "--provider", "github", "-o", out, "--model", "retail-recs",
              "--json")
    assert res.code == 0 and res.json()["output"] == str(out)
    assert yaml.safe_load(out.read_text())["env"]["MODEL"] == "retail-recs"
    again = run("release", "ci", "-o", out)
    assert again.code == 2 and "--force" in again.err
    assert run("release", "ci", "-o", out, "--force").code == 0


def test_rejects_unsafe_names() -> None:
    with pytest.raises(InputError):
        github_workflow("recs\n  evil: true")
    with pytest.raises(InputError):
        github_workflow("recs", spec_file="../../etc/passwd")


def test_every_command_in_the_guide_parses() -> None:
    guide = Path(__file__).resolve().parents[2] / "docs" / "release.md"
    calls = []
    for line in guide.read_text().splitlines():
        if line.startswith("$ ") and " mlscope " in f" {line[2:]}":
            tokens = shlex.split(line[2:].split(";")[0], comments=True)  # `# exit 1` notes
            start = tokens.index("mlscope")
            calls.append(tokens[start + 1:])
    assert len(calls) >= 12
    for args in calls:
        assert resolve(args) is not None, args
