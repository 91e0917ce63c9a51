"""docs/serving.md stays true: every `$ mlscope ...` line names real commands and options."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from mlscope.cli.main import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "serving.md"


def doc_commands() -> list[list[str]]:
    lines = []
    text = DOC.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith("$ mlscope "):
            lines.append(shlex.split(line[2:].split("  #")[0]))
    return lines


def resolve(tokens: list[str]) -> click.Command:
    ctx = click.Context(cli)
    command: click.Command | None = cli.get_command(ctx, tokens[1])
    assert command is not None, tokens
    if isinstance(command, click.Group):
        name = tokens[2] if tokens[2] in command.commands else "run"
        command = command.commands[name]
    return command


@pytest.mark.parametrize("tokens", doc_commands(), ids=lambda t: " ".join(t[:4]))
def test_documented_commands_and_options_exist(tokens: list[str]) -> None:
    command = resolve(tokens)
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    used = {t.split("=")[0] for t in tokens if t.startswith("--")}
    assert used <= known, used - known


def test_the_guide_documents_every_deploy_subcommand() -> None:
    group = cli.get_command(click.Context(cli), "deploy")
    assert isinstance(group, click.Group)
    documented = {t[2] for t in doc_commands() if t[1] == "deploy"}
    assert set(group.commands) - {"run"} <= documented
