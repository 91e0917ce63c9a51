"""Write docs/cli.md, the CLI reference, from every command's own `--help`.

Run `python tools/cli_reference.py` after changing a command; `tests/test_cli_reference.py`
regenerates the text and fails when the checked-in file differs (the cog pattern sqlite-utils
uses), so the reference cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "cli.md"
WIDTH = 100

HEADER = """# CLI reference

Generated from each command's `--help` by `python tools/cli_reference.py`; a test keeps it in
step with the code. Every command that prints results has `--json` (one object, stable keys:
extend, never rename); bad input is one line on stderr and exit code 2.
"""


def _walk(command: click.Command, path: list[str],
          parent: click.Context | None) -> list[tuple[list[str], str]]:
    # Each context has its parent, so settings such as `-h` for help are inherited exactly as
    # when a user types the command (a context made without one renders differently).
    # click caches each command's help option the first time it renders; a test that made a
    # context some other way must not change what this page says.
    if hasattr(command, "_help_option"):
        command._help_option = None
    ctx = click.Context(command, info_name=path[-1], parent=parent, terminal_width=WIDTH,
                        max_content_width=WIDTH,
                        **(command.context_settings if parent is None else {}))
    out = [(path, command.get_help(ctx))]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not getattr(sub, "hidden", False):
                out += _walk(sub, [*path, name], ctx)
    return out


def render() -> str:
    from mlscope.cli.main import cli

    parts = [HEADER]
    for path, text in _walk(cli, ["mlscope"], None):
        level = "#" * min(len(path) + 1, 4)
        parts.append(f"{level} `{' '.join(path)}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


def main() -> None:
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.exists() and OUT.read_text() == text else 1)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
