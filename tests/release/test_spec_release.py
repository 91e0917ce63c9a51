from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mlscope.spec.release import ReleaseSection

REPO = Path(__file__).resolve().parents[2]


def test_example_spec_is_valid(run: Callable[..., Any]) -> None:
    res = run("validate", REPO / "examples" / "recommender" / "mlscope.yaml", "--json")
    assert res.code == 0, res.out


@pytest.mark.parametrize(("section", "needle"), [
    ({"gates": {"staging": {}}}, "unknown environment 'staging'"),
    ({"gates": {"prod": {"requires": "uat"}}}, "unknown environment 'uat'"),
    ({"gates": {"qa": {"requires": "qa"}}}, "names qa itself"),
    ({"gates": {"qa": {"metrics": {"rmse": {}}}}}, "give `min`, `max`"),
    ({"gates": {"qa": {"metrics": {"rmse": {"min": 2, "max": 1}}}}}, "larger than"),
    ({"gates": {"qa": {"beat_champion": {"metric": "auc"}}}}, "per-row metric"),
    ({"gates": {"qa": {"beat_champion": {}}}}, "pin the evaluation set"),
    ({"evaluation": {"path": "e.jsonl", "sha256": "0" * 64, "task": "classification"},
      "gates": {"qa": {"beat_champion": {"metric": "ndcg_at_10"}}}}, "not a classification"),
    ({"gates": {"qa": {"beat_champion": {"confidence": 1.2}}}}, "less than 1"),
    ({"environments": ["dev", "dev"]}, "repeat"),
    ({"environments": ["v2"]}, "not an environment name"),
    ({"gates": {"prod": {"approvals": -1}}}, "greater than or equal to 0"),
    ({"gates": {"qa": {"simulaton": {}}}}, "Extra inputs"),
])
def test_invalid_sections(section: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        ReleaseSection.model_validate(section)
    assert needle in str(err.value)


def test_bad_spec_through_cli(tmp_path: Path, run: Callable[..., Any]) -> None:
    spec = tmp_path / "mlscope.yaml"
    spec.write_text("project: {name: x}\nrelease:\n  gates:\n    staging: {}\n")
    res = run("release", "history", "m", "--spec", spec)
    assert res.code == 2 and "staging" in res.err
