"""Inputs that cannot be priced are refused with file:line (exit 2), never priced as nonsense;
schedules that never run or always run are warned about."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

BASE = """\
project: {name: refuse}
environments:
  - name: prod
    resources:
      - RESOURCE
"""


@pytest.mark.parametrize(("resource", "why"), [
    ("{kind: batch, name: b, instance: m5.large, hours_per_month: -5}", "negative"),
    ("{kind: transfer, name: t, direction: internet-out, gb_per_month: -500}", "negative"),
    ("{kind: transfer, name: t, direction: internet-out, gb_per_month: [100, .nan]}",
     "not a number"),
    ("{kind: batch, name: b, instance: m5.large, hours_per_month: .inf}", "not a number"),
    ("{kind: storage, name: s, gb: .nan}", "finite"),
    ("{kind: storage, name: s, gb: -1}", "greater than or equal to 0"),
    ("{kind: mwaa, name: m, workers: [-1, 2]}", "negative"),
])
def test_bad_quantities_are_refused_with_their_line(run: Callable[..., Any], tmp_path: Path,
                                                    resource: str, why: str) -> None:
    spec = tmp_path / "mlscope.yaml"
    spec.write_text(BASE.replace("RESOURCE", resource))
    res = run("cost", str(spec), "--month", "2026-06")
    assert res.code == 2, res.out
    assert f"{spec}:5:" in res.err and why in res.err and "Traceback" not in res.err
    assert run("validate", str(spec)).code == 2


def test_never_and_always_running_schedules_warn(run: Callable[..., Any],
                                                 tmp_path: Path) -> None:
    spec = tmp_path / "mlscope.yaml"
    spec.write_text("""\
project: {name: warn}
environments:
  - name: dev
    schedule: {timezone: UTC, periods: [{endtime: "17:00", weekdays: mon-fri}]}
    resources:
      - {kind: ec2, name: never, instance: m5.large}
      - {kind: ec2, name: always, instance: m5.large, schedule: {timezone: UTC, periods: [{}]}}
""")
    data = run("cost", str(spec), "--month", "2026-06", "--json").json()
    assert any("dev/never" in w and "never runs" in w for w in data["warnings"])
    assert any("dev/always" in w and "every hour" in w for w in data["warnings"])
    text = run("cost", str(spec), "--month", "2026-06").out
    assert "warning" in text and "never runs" in text
    one = run("cost", "schedule", "--period", "endtime=17:00", "--instance", "m5.large",
              "--month", "2026-06", "--json").json()
    assert one["running_hours"] == 0 and one["warnings"]
