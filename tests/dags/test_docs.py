"""docs/airflow.md: every command parses against the CLI, and shown output is real."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from .conftest import REPO
from .test_ci import resolve

DOC = REPO / "docs" / "airflow.md"


def test_every_documented_command_parses() -> None:
    lines = re.findall(r"^\$ (mlscope .+)$", DOC.read_text(), flags=re.M)
    assert len(lines) >= 10
    for line in lines:
        resolve(shlex.split(line)[1:])


def test_documented_mwaa_cost_output_is_real(run) -> None:
    text = DOC.read_text()
    out = run("dags", "mwaa-cost", REPO / "examples/recommender/mlscope.yaml", "--env", "dev")
    assert out.code == 0
    for line in out.out.splitlines()[:2]:
        assert line in text, line


def test_documented_generate_output_is_real(run, tmp_path: Path) -> None:
    block = DOC.read_text().split("$ mlscope dags generate", 1)[1].split("```", 1)[0]
    shown = [Path(p).name for p in block.strip().splitlines()[1:]]
    out = run("dags", "generate", REPO / "examples/recommender/mlscope.yaml", "-o", tmp_path)
    assert [Path(p).name for p in out.out.splitlines()] == shown
