"""Every `mlscope` command shown in README.md and docs/*.md is one the CLI accepts today.

Each shell block (bash, sh, shell, console) is read; every line that runs `mlscope` is parsed
by the real click command tree (`make_context`, which checks the command path, every option
name, choice and type, and the arguments) without executing it. Blocks marked
`<!-- illustrative: why -->` are parsed too (their paths need not exist): they are only not
run. tests/test_docs_examples.py runs every other block and compares its shown output.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from mlscope.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?P<before>(?:[^\n]*\n){0,2})```(?P<lang>bash|sh|shell|console)\n"
                   r"(?P<body>.*?)```", re.S)


def _commands_in(line: str) -> list[list[str]]:
    """The simple commands of a shell line, split at ; && || | and redirections (quotes kept)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    skip_next = False
    for token in lexer:
        if skip_next:
            skip_next = False
        elif token in {";", "&&", "||", "|", "&"}:
            commands.append([])
        elif token in {">", ">>", "<", "2>", "&>"} or token.endswith((">", "<")):
            skip_next = True  # the redirection's target is not an argument
        else:
            commands[-1].append(token)
    return commands


def _commands(path: Path) -> list[tuple[int, str]]:
    text = path.read_text()
    out = []
    for m in FENCE.finditer(text):
        line_no = text[: m.start("body")].count("\n") + 1
        joined = m.group("body").replace("\\\n", " ")
        for i, line in enumerate(joined.splitlines()):
            line = line.strip()
            if m.group("lang") == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            for part in _commands_in(line):
                if part and part[0] == "mlscope":
                    out.append((line_no + i, shlex.join(part)))
    return out


CASES = [(p, n, c) for p in DOCS for n, c in _commands(p)]


def _parse(argv: list[str]) -> None:
    command: click.Command = cli
    ctx = command.make_context("mlscope", list(argv), resilient_parsing=False)
    while isinstance(command, click.Group):
        name, sub, rest = command.resolve_command(ctx, ctx.protected_args + ctx.args)
        assert sub is not None, f"no command {name}"
        command = sub
        ctx = command.make_context(name or "", rest, parent=ctx)


@pytest.mark.parametrize(("path", "line", "command"), CASES,
                         ids=[f"{c[0].name}:{c[1]}" for c in CASES])
def test_documented_command_parses(path: Path, line: int, command: str) -> None:
    argv = shlex.split(command)[1:]
    if "--help" in argv or "-h" in argv:
        return
    try:
        _parse(argv)
    except click.exceptions.Exit:
        pass
    except click.BadParameter as exc:
        if "does not exist" in exc.format_message():
            return  # a placeholder path in prose; the option itself was accepted
        pytest.fail(f"{path.name}:{line}: `{command}` is refused: {exc.format_message()}")
    except click.UsageError as exc:
        pytest.fail(f"{path.name}:{line}: `{command}` is refused: {exc.format_message()}")
