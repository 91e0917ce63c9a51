"""`mlscope dags ci --provider github`: every mlscope command in it parses against the CLI."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from mlscope.cli.main import cli
from mlscope.dags.ci import github_workflow

SEPARATORS = {";", "&&", "||", "|", "(", ")"}


def mlscope_calls(workflow: dict[str, Any]) -> list[list[str]]:
    calls = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").replace("\\\n", " ").splitlines():
                lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
                lexer.whitespace_split = True
                tokens = list(lexer)
                for i, tok in enumerate(tokens):
                    if tok == "mlscope" and (i == 0 or tokens[i - 1] in SEPARATORS):
                        args = []
                        for arg in tokens[i + 1:]:
                            if arg in SEPARATORS or arg in (">", ">>", "<"):
                                break
                            args.append(arg)
                        calls.append(args)
    return calls


def resolve(args: list[str]) -> click.Command:
    """Parse ARGS as the CLI would: an unknown command, option or bad value raises."""
    ctx = click.Context(cli)
    command = cli.get_command(ctx, args[0])
    assert command is not None, f"no command {args[0]!r}"
    rest = args[1:]
    while isinstance(command, click.Group):
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"`mlscope {' '.join(args)}`: no subcommand {rest[0]!r}"
        command, rest = sub, rest[1:]
    command.make_context(args[0], list(rest), parent=ctx)
    return command


@pytest.fixture
def workflow() -> dict[str, Any]:
    return yaml.safe_load(github_workflow())


def test_every_mlscope_command_parses(workflow: dict[str, Any]) -> None:
    calls = mlscope_calls(workflow)
    assert len(calls) >= 12
    for args in calls:
        resolve(args)
    used = {" ".join(a[:2]) for a in calls}
    assert {"dags generate", "dags test", "dags deploy", "dags promote", "dags status",
            "release state"} <= used


def test_resolver_catches_mistakes() -> None:
    with pytest.raises(click.UsageError):
        resolve(["dags", "promote", "--from", "dev", "--too", "qa"])
    with pytest.raises(AssertionError):
        resolve(["dags", "promot", "--from", "dev"])


def test_stages_in_order_and_prod_behind_an_environment(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert list(jobs) == ["lint", "integrity", "deploy-dev", "qa", "prod"]
    assert [jobs[j].get("needs") for j in list(jobs)[1:]] == ["lint", "integrity",
                                                             "deploy-dev", "qa"]
    assert jobs["deploy-dev"]["if"] == "github.event_name == 'push'"
    assert jobs["prod"]["environment"] == "prod"
    text = yaml.safe_dump(jobs["prod"])
    assert "--from qa --to prod" in text and "secrets.MLSCOPE_CI_SIGNING_KEY" in text
    # Untrusted values only through env vars: no ${{ }} inside run scripts.
    for job in jobs.values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", "")


def test_cli_writes_the_file(run, tmp_path: Path) -> None:
    out = tmp_path / "wf.yml"
    assert run("dags", "ci", "--provider", "github", "-o", out).code == 0
    assert yaml.safe_load(out.read_text())["name"] == "mlscope dags"
    assert run("dags", "ci", "-o", out).code == 2  # exists, no --force
    assert run("dags", "ci", "-o", out, "--dags-dir", "../x", "--force").code == 2
