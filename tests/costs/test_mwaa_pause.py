"""`mlscope cost` shows what pausing a scheduled environment's MWAA would save (dags.mwaa)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SPEC = """\
version: 1
project: {name: airflow-dev, use_case: recommender, mlops_level: 1, region: us-east-1}
environments:
  - name: dev
    schedule: "off=(M-F,19);on=(M-F,7);tz=utc"
    resources:
      - {kind: mwaa, name: airflow, environment_class: mw1.small}
  - name: prod
    resources:
      - {kind: mwaa, name: airflow-prod, environment_class: mw1.small}
"""


def test_cost_reports_the_dev_mwaa_pause(run: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "mlscope.yaml"
    path.write_text(SPEC)
    res = run("cost", path, "--json")
    assert res.code == 0, res.err
    (pause,) = res.json()["mwaa_pause"]  # prod runs always: only dev is offered a pause
    assert pause["environment"] == "dev" and pause["usd_per_hour"] == pytest.approx(0.49)
    # by hand: off 108 h a week, 5 recreations a week billed 1 h each, 730/168 weeks a month
    weeks = 730 / 168
    paused = 108 * weeks - 5 * weeks * 1.0
    assert pause["saving_usd"] == pytest.approx(paused * 0.49, rel=1e-6)
    assert pause["saving_usd"] == pytest.approx(219.3, abs=0.1)
    human = run("cost", path)
    assert "MWAA: dev's mw1.small cannot be stopped" in " ".join(human.out.split())
