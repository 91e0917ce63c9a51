from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlscope.core.quantities import parse_hours, parse_quantity
from mlscope.errors import SpecError
from mlscope.spec import load_spec, load_spec_text
from mlscope.spec.loader import spec_problems

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/mlscope.yaml")))
def test_bundled_examples_are_valid(path: Path) -> None:
    spec = load_spec(path)
    assert spec.project.name


def test_problems_carry_file_line_and_column() -> None:
    text = "project:\n  name: x\ntraining:\n  count: -1\n  acelerator: H100\n"
    _, problems = spec_problems(text, "p.yaml")
    assert problems == [
        "p.yaml:4:3: training.count: Input should be greater than 0",
        "p.yaml:5:3: training.acelerator: unknown key (check the spelling; "
        "`mlscope schema` lists every key)",
    ]


def test_yaml_syntax_error_is_located() -> None:
    with pytest.raises(SpecError) as info:
        load_spec_text("project:\n  name: [x\n", "bad.yaml")
    assert info.value.problems[0].startswith("bad.yaml:3:")


def test_count_without_hardware_is_rejected() -> None:
    _, problems = spec_problems("project: {name: x}\ntraining: {count: 8}\n")
    assert "no accelerator or instance" in problems[0]


def test_quantities_and_durations() -> None:
    assert parse_quantity("7B") == 7e9
    assert parse_quantity("2T") == 2e12
    assert parse_quantity("1.5M") == 1.5e6
    assert parse_hours("14d") == 336
    assert parse_hours("90min") == 1.5


@given(st.floats(min_value=1e-3, max_value=1e15, allow_nan=False))
def test_quantity_roundtrips_plain_numbers(x: float) -> None:
    assert parse_quantity(repr(x)) == pytest.approx(x)


@given(st.text(alphabet="abcxyz!@# -", min_size=1, max_size=8))
def test_quantity_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_validate_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "mlscope.yaml"
    bad.write_text("project:\n  name: ''\n")
    res = run("validate", bad)
    assert res.code == 2
    assert f"{bad}:2:3: project.name" in res.err
    res = run("validate", EXAMPLES / "recommender" / "mlscope.yaml", "--json")
    assert res.code == 0 and res.json()["valid"] is True
    schema = run("schema").json()
    assert "training" in schema["properties"]


def test_validate_reports_architecture_problems_with_location(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "mlscope.yaml"
    f.write_text("project: {name: x, use_case: recommender, mlops_level: 1}\n"
                 "architecture:\n  flows:\n    - {from: nowhere, to: registry, label: x}\n")
    res = run("validate", f)
    assert res.code == 2
    assert f"{f}:4:8: architecture.flows.0.from: no component 'nowhere'" in res.err
