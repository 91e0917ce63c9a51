"""Every shell example in README.md and docs/*.md runs, and prints what the page shows.

A shell example is a fenced block in bash, sh, shell or console (or an unlabelled block whose
lines start with `$ `). Each page runs in its own temporary working copy (the repository's
`examples/` copied into tmp_path, which is the working directory; MLSCOPE_HOME is per test), so
nothing is written into the repository. Within a page the blocks run in order and share that
copy, as a reader following the page would.

How a block reads:
- console blocks: a line starting with `$ ` is a command (continued by a trailing `\\`); the
  lines after it up to the next `$ ` are the output the page shows. bash/sh/shell blocks hold
  only commands (blank lines and `#` comment lines skipped), no output.
- `mlscope ...` runs in-process through the real entry point (`mlscope.cli.main.main`, as the
  `run` fixture does); `cd DIR`, `export VAR=value` and a `VAR=value` prefix are applied
  (with `~` expanded against a temporary HOME); `> FILE` writes the command's stdout there.
  Anything else in a block that runs (make, curl, python, pipes) fails the test: such a block
  has to be marked illustrative.
- The exit code must be 0, unless the command line ends with a comment `# exit N`.
- Shown output is compared with what the command printed, either its stdout alone (what a
  pipe gets; pages may leave out the progress lines on stderr) or its stdout followed by its
  stderr (what a terminal shows; errors are on stderr), after this normalisation: trailing
  spaces and leading/trailing blank lines dropped; a line that is only `...` stands for any
  number of lines (zero included); `...` inside a line for any text on that line. Everything
  else must match exactly, rich tables' box characters included (tables are drawn at
  COLUMNS=100).

A block of any language preceded by `<!-- file: PATH -->` is a file the page shows: it is
written to PATH in the working copy when the page reaches it (report.md's draft.yaml).

A block preceded (within two lines) by `<!-- illustrative: why -->` is not run (the bare
`<!-- illustrative -->` of the first version still works, counted as "no reason given"): its
commands need real AWS, a browser, a server that stays up, someone's SSH keys, files the
reader brings, or more than a few seconds. The summary test prints how many ran and why the
others did not.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mlscope.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_LANGS = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```\n?", re.S | re.M)
MARKER = re.compile(r"<!--\s*illustrative(?:\s*:\s*(?P<why>.*?))?\s*-->", re.S)
FILE = re.compile(r"<!--\s*file:\s*(?P<path>[\w./-]+)\s*-->")
EXIT = re.compile(r"#\s*exit\s+(?P<code>\d+)\s*$")
OPERATORS = {";", "&&", "||", "|", "&"}


@dataclass
class Step:
    """One command line of a block, the output the page shows after it and its exit code."""

    line: int
    text: str
    shown: list[str] | None  # None: the block shows no output (bash blocks)
    code: int = 0


@dataclass
class Block:
    doc: Path
    line: int
    lang: str
    why: str | None  # not None: illustrative, with the reason the page gives
    steps: list[Step] = field(default_factory=list)
    writes: str | None = None  # a `<!-- file: PATH -->` block: its text is written to PATH
    text: str = ""


def _console_steps(body: str, first: int) -> list[Step]:
    steps: list[Step] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("$ "):
            start, text = i, lines[i][2:]
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1].rstrip() + " " + lines[i].strip()
            steps.append(Step(first + start, text, []))
        elif steps:
            shown = steps[-1].shown
            assert shown is not None
            shown.append(lines[i])
        i += 1
    return steps


def _script_steps(body: str, first: int) -> list[Step]:
    steps: list[Step] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        start, text = i, lines[i].strip()
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1].rstrip() + " " + lines[i].strip()
        if text and not text.startswith("#"):
            steps.append(Step(first + start, text, None))
        i += 1
    return steps


def blocks(doc: Path) -> list[Block]:
    """The shell examples of one page, in order."""
    text = doc.read_text()
    out: list[Block] = []
    for m in FENCE.finditer(text):
        lang, body = m.group("lang"), m.group("body")
        before = "\n".join(text[: m.start()].splitlines()[-2:])
        first = text[: m.start("body")].count("\n") + 1
        written = FILE.search(before)
        if written:
            out.append(Block(doc, first - 1, lang, None, writes=written.group("path"), text=body))
            continue
        if lang not in SHELL_LANGS and not (lang == "" and re.search(r"^\$ ", body, re.M)):
            continue
        marker = MARKER.search(before)
        why = None if marker is None else (marker.group("why") or "no reason given")
        block = Block(doc, first - 1, lang or "console", why)
        block.steps = (_console_steps(body, first) if block.lang == "console"
                       else _script_steps(body, first))
        for step in block.steps:
            code = EXIT.search(step.text)
            if code:
                step.code = int(code.group("code"))
        out.append(block)
    return out


ALL = {doc: blocks(doc) for doc in DOCS}


def _matches(shown: list[str], actual: list[str]) -> bool:
    """The page's lines against the printed ones, `...` as the wildcard the docstring states."""
    if not shown:
        return not actual
    head, rest = shown[0], shown[1:]
    if head.strip() == "...":
        return any(_matches(rest, actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    pattern = ".*?".join(re.escape(part) for part in head.split("..."))
    return re.fullmatch(pattern, actual[0]) is not None and _matches(rest, actual[1:])


def _trim(lines: list[str]) -> list[str]:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


@dataclass
class Shell:
    """The little shell the examples need: cd, export, VAR=value prefixes, > FILE."""

    cwd: Path
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def expand(self, word: str) -> str:
        return str(self.home) + word[1:] if word == "~" or word.startswith("~/") else word

    def split(self, text: str) -> list[list[str]]:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        commands: list[list[str]] = [[]]
        for token in lexer:
            if token in OPERATORS:
                commands.append([token])
                commands.append([])
            else:
                commands[-1].append(token)
        return [c for c in commands if c]


def _run_line(shell: Shell, step: Step, capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """Run one command line; returns its exit code, its stdout and its stderr."""
    stdout, stderr, code = "", "", 0
    for words in shell.split(step.text):
        if words[0] == "&&":
            if code != 0:
                break
            continue
        if words[0] != ";" and words[0] in OPERATORS:
            raise AssertionError(f"`{words[0]}` is not supported: mark the block illustrative")
        if words[0] == ";":
            continue
        env = dict(shell.env)
        while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
            name, value = words.pop(0).split("=", 1)
            env[name] = shell.expand(value)
        target = None
        if ">" in words:
            at = words.index(">")
            target, words = words[at + 1], words[:at]
        if not words:
            shell.env.update(env)
            continue
        if words[0] == "cd":
            shell.cwd = (shell.cwd / shell.expand(words[1])).resolve()
            continue
        if words[0] == "export":
            for word in words[1:]:
                name, value = word.split("=", 1)
                shell.env[name] = shell.expand(value)
            continue
        if words[0] != "mlscope":
            raise AssertionError(f"`{words[0]}` is not mlscope: mark the block illustrative")
        with monkeypatch.context() as m:
            m.chdir(shell.cwd)
            for name, value in env.items():
                m.setenv(name, value)
            capsys.readouterr()
            try:
                main([shell.expand(w) for w in words[1:]])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception as exc:  # a traceback for the reader: report it, run the rest
                code, _ = 1, capsys.readouterr()
                raise AssertionError(f"raised {type(exc).__name__}: {exc}") from exc
            out, err = capsys.readouterr()
        if target is not None:
            (shell.cwd / target).parent.mkdir(parents=True, exist_ok=True)
            (shell.cwd / target).write_text(out)
            out = ""
        stdout, stderr = stdout + out, stderr + err
    return code, stdout, stderr


def _working_copy(tmp_path: Path) -> Shell:
    work = tmp_path / "work"
    shutil.copytree(ROOT / "examples", work / "examples",
                    ignore=shutil.ignore_patterns("__pycache__", ".mlscope", "build"))
    home = tmp_path / "home"
    home.mkdir()
    return Shell(work, home, {"HOME": str(home), "COLUMNS": "100"})


def _tables(work: Path) -> None:
    """experiments.md: an A/B export, two feature windows, logged predictions and labels."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    n = 2000
    variant = np.where(np.arange(n) % 2 == 0, "A", "B")
    converted = (rng.random(n) < np.where(variant == "A", 0.10, 0.12)).astype(int)
    lines = ["unit_id,variant,converted", *(f"u{i},{v},{c}" for i, (v, c)
                                            in enumerate(zip(variant, converted, strict=True)))]
    (work / "units.csv").write_text("\n".join(lines) + "\n")
    for name, shift in (("reference", 0.0), ("current", 3.0)):
        pq.write_table(pa.table({"age": rng.normal(40 + shift, 10, 500).round(),
                                 "plan": rng.choice(["free", "pro", "team"], 500)}),
                       work / f"{name}.parquet")
    score = rng.random(400)
    bought = (rng.random(400) < score).astype(int)
    (work / "predictions.csv").write_text("request_id,score\n" + "".join(
        f"r{i},{x:.4f}\n" for i, x in enumerate(score)))
    (work / "labels.csv").write_text("request_id,bought\n" + "".join(
        f"r{i},{y}\n" for i, y in enumerate(bought) if i % 4))  # a quarter not labelled yet


def _text(work: Path) -> None:
    """calibrate.md and estimate.md: a small dataset folder and a corpus of JSON lines."""
    rows = "".join(f"{i},{i % 7},item {i}\n" for i in range(300))
    (work / "data").mkdir()
    (work / "data" / "events.csv").write_text("user,rating,title\n" + rows)
    docs = "".join(f'{{"text": "document {i}: the quick brown fox jumps over the lazy dog"}}\n'
                   for i in range(300))
    (work / "data" / "docs.jsonl").write_text(docs)
    (work / "corpus.jsonl").write_text(docs)
    (work / "corpus").mkdir()
    (work / "corpus" / "part-0.jsonl").write_text(docs)


def _pull_request(work: Path) -> None:
    """costs.md: the recommender spec before (main/) and after (pr/, one notebook more)."""
    spec = (work / "examples" / "recommender" / "mlscope.yaml").read_text()
    changed = spec.replace("instance: ml.t3.medium\n        count: 4",
                           "instance: ml.t3.medium\n        count: 5", 1)
    assert changed != spec, "the recommender example lost its four dev notebooks"
    for folder, text in (("main", spec), ("pr", changed)):
        (work / folder).mkdir()
        (work / folder / "mlscope.yaml").write_text(text)


def _own_spec(work: Path) -> None:
    """report.md: the reader's own mlscope.yaml (the bundled recommender stands in)."""
    shutil.copy(work / "examples" / "recommender" / "mlscope.yaml", work / "mlscope.yaml")


# Stand-ins for the files a page's examples take from the reader (small, seeded), written into
# the working copy before the page runs: the command, its flags and the file's documented shape
# are what is checked; pages that show no output for these commands promise no figures.
READER_FILES: dict[str, Callable[[Path], None]] = {
    "experiments.md": _tables, "calibrate.md": _text, "estimate.md": _text,
    "costs.md": _pull_request, "report.md": _own_spec,
}


RUNNABLE = [doc for doc in DOCS if any(b.why is None and b.steps for b in ALL[doc])]


@pytest.mark.parametrize("doc", RUNNABLE, ids=[d.name for d in RUNNABLE])
def test_documented_examples_run_and_print_what_is_shown(
        doc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    shell = _working_copy(tmp_path)
    if doc.name in READER_FILES:
        READER_FILES[doc.name](shell.cwd)
    monkeypatch.setenv("HOME", str(shell.home))
    monkeypatch.setenv("COLUMNS", "100")
    problems: list[str] = []
    for block in ALL[doc]:
        if block.writes is not None:  # the page shows this file: the reader saves it
            (shell.cwd / block.writes).write_text(block.text)
            continue
        if block.why is not None:
            continue
        for step in block.steps:
            where = f"{doc.name}:{step.line}: `{step.text}`"
            try:
                code, out, err = _run_line(shell, step, capsys, monkeypatch)
            except AssertionError as exc:
                problems.append(f"{where}: {exc}")
                continue
            if code != step.code:
                problems.append(f"{where}: exit {code}, the page says {step.code}\n{out}{err}")
            elif step.shown and not any(_matches(_trim(step.shown), _trim(printed.splitlines()))
                                        for printed in (out, out + err)):
                problems.append(f"{where}: prints\n{out}{err}\nthe page shows\n"
                                + "\n".join(step.shown))
    assert not problems, "\n\n".join(problems)


def test_every_shell_example_is_run_or_marked_with_a_reason(
        capsys: pytest.CaptureFixture[str]) -> None:
    ran = [b for d in DOCS for b in ALL[d] if b.why is None and b.writes is None]
    marked = [b for d in DOCS for b in ALL[d] if b.why is not None]
    assert all(b.steps for b in ran), [f"{b.doc.name}:{b.line}" for b in ran if not b.steps]
    with capsys.disabled():
        print(f"\nshell examples: {len(ran)} blocks run ({sum(len(b.steps) for b in ran)} "
              f"command lines), {len(marked)} illustrative")
        for b in marked:
            print(f"  illustrative {b.doc.name}:{b.line}: {b.why}")
    assert ran, "no shell example runs"


def _reason_is_given(why: str) -> bool:
    return why != "no reason given"


def test_markers_carry_a_reason() -> None:
    bare = [f"{b.doc.relative_to(ROOT)}:{b.line}" for d in DOCS for b in ALL[d]
            if b.why is not None and not _reason_is_given(b.why)]
    assert not bare, f"say why these are illustrative (<!-- illustrative: why -->): {bare}"



def test_shown_files_stay_in_the_working_copy() -> None:
    paths = [b.writes for d in DOCS for b in ALL[d] if b.writes is not None]
    assert paths, "report.md's draft.yaml lost its <!-- file: --> marker"
    assert all(not Path(p).is_absolute() and ".." not in Path(p).parts for p in paths), paths


def test_blocks_markers_continuations_and_wildcards(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- illustrative -->\n```console\n$ mlscope serve\n```\n\n"
        "<!-- illustrative: needs AWS -->\n```bash\nmlscope deploy x\n```\n\n"
        "```console\n$ mlscope cost schedule --expr 'x' \\\n    --month 2026-03  # exit 2\n"
        "Error: bad ...\n$ mlscope explain a\nline 1\n...\nlast\n```\n\n"
        "```python\nprint('not shell')\n```\n")
    bare, aws, ran = blocks(page)
    assert (bare.why, aws.why, ran.why) == ("no reason given", "needs AWS", None)
    first, second = ran.steps
    assert first.text.startswith("mlscope cost schedule --expr 'x' --month 2026-03")
    assert (first.code, first.shown, second.code) == (2, ["Error: bad ..."], 0)
    assert second.shown == ["line 1", "...", "last"]
    assert _matches(second.shown, ["line 1", "last"])
    assert _matches(second.shown, ["line 1", "a", "b", "last"])
    assert not _matches(second.shown, ["line 1", "a", "lost"])
    assert _matches(["Error: bad ..."], ["Error: bad token at 3"])
    assert not _matches(["Error: bad ..."], ["Error: good token"])
    assert not _matches(["a"], ["a", "b"])
