"""`mlscope check` warns about schedules that never run a resource or run it every hour."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

SPEC = """\
project: {name: warn, use_case: recommender, mlops_level: 0}
environments:
  - name: dev
    schedule: {timezone: UTC, periods: [{endtime: "17:00", weekdays: mon-fri}]}
    resources:
      - {kind: ec2, name: never, instance: m5.large}
      - {kind: ec2, name: always, instance: m5.large, schedule: {timezone: UTC, periods: [{}]}}
"""


def test_check_reports_useless_schedules(run: Callable[..., Any], tmp_path: Path) -> None:
    spec = tmp_path / "mlscope.yaml"
    spec.write_text(SPEC)
    out = run("check", spec, "--as-of", "2026-06-01", "--json").json()
    found = [f for f in out["findings"] if f["rule"] == "schedule-runs"]
    assert [f["level"] for f in found] == ["warning", "warning"]
    assert any("dev/never" in f["message"] and "never runs" in f["message"] for f in found)
    assert any("dev/always" in f["message"] and "every hour" in f["message"] for f in found)
    strict = run("check", spec, "--as-of", "2026-06-01", "--strict", "--json")
    assert strict.code == 1 and strict.json()["ready"] is False
