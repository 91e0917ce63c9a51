"""Exports: Terraform (parsed with python-hcl2), Custodian and Instance Scheduler mean the same
hours as the spec's schedules, month after month, across DST changes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from mlscope.costs.exports import export_schedules
from mlscope.costs.lines import to_schedule
from mlscope.costs.schedules import (
    Schedule,
    parse_custodian,
    parse_instance_scheduler,
    simulate_month,
)
from mlscope.costs.schedules.model import periods_from_grid
from mlscope.costs.schedules.offhours_tag import OffhoursTag, grid_from_events
from mlscope.errors import InputError
from mlscope.spec.loader import load_spec_text

SPEC = """\
project: {name: exports, region: us-east-1}
environments:
  - name: dev
    schedule: "off=[(M-F,21),(U,18)];on=[(M-F,6),(U,10)];tz=pt"
    resources:
      - {kind: notebook, name: nb, instance: ml.t3.medium, count: 2}
      - {kind: ec2, name: box, instance: m5.large, instance_ids: [i-0aaa, i-0bbb]}
  - name: qa
    schedule:
      timezone: Europe/Berlin
      periods:
        - {begintime: "08:00", endtime: "12:00", weekdays: mon-fri}
        - {begintime: "13:00", endtime: "23:59", weekdays: "tue,thu"}
        - {begintime: "00:00", endtime: "04:00", weekdays: "wed,fri"}
        - {begintime: "10:00", endtime: "16:00", weekdays: sat}
    resources:
      - {kind: notebook, name: qa-nb, names: [qa-notebook]}
      - {kind: notebook, name: night-nb, schedule: "off=(U,5);on=(S,22);tz=Asia/Tokyo"}
  - name: prod
    resources:
      - {kind: endpoint, name: api, instance: ml.c5.xlarge}
budget: {monthly_usd: 1200, alert_emails: [a@example.com, b@example.com],
         alert_thresholds_pct: [50, 90]}
"""
MONTHS = [(2026, m) for m in range(1, 13)]
CRON = re.compile(r"cron\(0 (\d+) \? \* ([A-Z,-]+) \*\)")
DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


def unquote(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value.startswith('"') else value


def cron_days(field: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in field.split(","):
        if "-" in part:
            a, b = (DAYS.index(x) for x in part.split("-"))
            out.extend(range(a, b + 1))
        else:
            out.append(DAYS.index(part))
    return tuple(out)


def hours(schedule: Schedule) -> list[float]:
    return [simulate_month(schedule, y, m).running_hours for y, m in MONTHS]


def spec_schedules() -> dict[str, Schedule]:
    spec = load_spec_text(SPEC)
    out = {}
    for env in spec.environments:
        for res in env.resources:
            chosen = getattr(res, "schedule", None) or env.schedule
            if chosen and res.kind == "notebook":
                out[res.name] = to_schedule(chosen)
    return out


def terraform_schedules(text: str) -> dict[str, Schedule]:
    """Schedules per notebook, rebuilt from the crons only."""
    doc = hcl2.loads(text)
    events: dict[str, dict[str, Any]] = {}
    for resource in doc["resource"]:
        for rtype, named in resource.items():
            if unquote(rtype) != "aws_scheduler_schedule":
                continue
            for body in named.values():
                target = body["target"][0]
                arn = unquote(target["arn"])
                m = re.search(r'NotebookInstanceName = \\?"([^"\\]+)', target["input"])
                if not m:
                    continue
                cron = CRON.fullmatch(unquote(body["schedule_expression"]))
                assert cron, body["schedule_expression"]
                item = (cron_days(cron.group(2)), int(cron.group(1)))
                entry = events.setdefault(m.group(1), {"on": [], "off": [], "tz": None})
                entry["on" if arn.endswith("startNotebookInstance") else "off"].append(item)
                entry["tz"] = unquote(body["schedule_expression_timezone"])
    return {name: Schedule(e["tz"], periods_from_grid(grid_from_events(
        OffhoursTag(tuple(e["on"]), tuple(e["off"]), e["tz"])))) for name, e in events.items()}


def test_terraform_crons_mean_the_same_hours() -> None:
    text = export_schedules(load_spec_text(SPEC), "terraform").text
    rebuilt = terraform_schedules(text)
    expected = spec_schedules()
    assert set(rebuilt) == {"nb-1", "nb-2", "qa-notebook", "night-nb"}
    for name, schedule in rebuilt.items():
        source = expected["nb" if name.startswith("nb-") else
                          "qa-nb" if name == "qa-notebook" else name]
        assert schedule.timezone == source.timezone
        assert hours(schedule) == hours(source), name
    # Saturday 22:00 to Sunday 05:00 in Tokyo: 7 hours a weekend, no DST there.
    assert hours(expected["night-nb"])[1] == 4 * 7


def test_terraform_budget_and_ec2_targets() -> None:
    doc = hcl2.loads(export_schedules(load_spec_text(SPEC), "terraform").text)
    budgets = [b for r in doc["resource"] for t, b in r.items()
               if unquote(t) == "aws_budgets_budget"]
    assert len(budgets) == 1
    body = next(iter(budgets[0].values()))
    assert unquote(body["limit_amount"]) == "1200.00"
    assert unquote(body["time_unit"]) == "MONTHLY"
    kinds = sorted((unquote(n["notification_type"]), n["threshold"]) for n in body["notification"])
    assert kinds == [("ACTUAL", 50.0), ("ACTUAL", 90.0), ("FORECASTED", 100.0)]
    ec2 = [b for r in doc["resource"] for t, named in r.items()
           if unquote(t) == "aws_scheduler_schedule" for b in named.values()
           if "ec2:" in unquote(b["target"][0]["arn"])]
    assert ec2 and all("i-0aaa" in b["target"][0]["input"] for b in ec2)
    roles = [r for r in doc["resource"] if '"aws_iam_role"' in r]
    assert roles


def test_custodian_policies_mean_the_same_hours() -> None:
    text = export_schedules(load_spec_text(SPEC), "custodian").text
    policies = yaml.safe_load(text)["policies"]
    expected = spec_schedules()
    tags = {}
    for policy in policies:
        if policy["name"].endswith("tag-schedule"):
            names = next(f["value"] for f in policy["filters"] if f.get("key") ==
                         "NotebookInstanceName" or f.get("key") == "InstanceId")
            for name in names:
                tags[name] = policy["actions"][0]["value"]
        else:
            kind = "offhour" if policy["name"].endswith("stop") else "onhour"
            assert any(f.get("type") == kind for f in policy["filters"])
            assert policy["actions"] == (["stop"] if kind == "offhour" else ["start"])
    assert hours(parse_custodian(tags["nb-1"])) == hours(expected["nb"])
    assert hours(parse_custodian(tags["qa-notebook"])) == hours(expected["qa-nb"])
    assert hours(parse_custodian(tags["night-nb"])) == hours(expected["night-nb"])
    # EC2 takes the plain form, SageMaker the escaped one: the same schedule.
    assert "(" in tags["i-0aaa"] and "(" not in tags["nb-1"]
    assert parse_custodian(tags["i-0aaa"]).events == parse_custodian(tags["nb-1"]).events


def test_instance_scheduler_periods_mean_the_same_hours() -> None:
    result = export_schedules(load_spec_text(SPEC), "instance-scheduler")
    doc = yaml.safe_load(result.text)
    periods = {p["name"]: {k: v for k, v in p.items() if k not in ("name", "description")}
               for p in doc["periods"]}
    expected = spec_schedules()
    by_name = {s["name"]: parse_instance_scheduler(
        [periods[p] for p in s["periods"].split(",")], s["timezone"]) for s in doc["schedules"]}
    assert hours(by_name["mlscope-exports-dev"]) == hours(expected["nb"])
    assert hours(by_name["mlscope-exports-qa"]) == hours(expected["qa-nb"])
    assert hours(by_name["mlscope-exports-qa-2"]) == hours(expected["night-nb"])
    assert all(isinstance(p.get("begintime"), str) for p in doc["periods"])
    assert any("SageMaker notebooks" in w for w in result.warnings)


def test_holidays_go_to_custodian_skip_days_and_warn_elsewhere() -> None:
    text = SPEC.replace('    schedule: "off=[(M-F,21)', '    holidays: [2026-12-25]\n'
                        '    schedule: "off=[(M-F,21)')
    spec = load_spec_text(text)
    custodian = yaml.safe_load(export_schedules(spec, "custodian").text)["policies"]
    onhours = [f for p in custodian for f in p["filters"] if f.get("type") == "onhour"
               and p["name"].startswith("mlscope-exports-dev")]
    assert onhours and all(f["skip-days"] == ["2026-12-25"] for f in onhours)
    assert any("holidays" in w for w in export_schedules(spec, "terraform").warnings)


def test_non_weekly_schedule_only_exports_to_instance_scheduler() -> None:
    text = SPEC.replace('weekdays: sat}', 'weekdays: sat, monthdays: "1-7"}')
    spec = load_spec_text(text)
    with pytest.raises(InputError) as err:
        export_schedules(spec, "terraform")
    assert "--format instance-scheduler" in err.value.one_line()
    doc = yaml.safe_load(export_schedules(spec, "instance-scheduler").text)
    assert any(p.get("monthdays") == "1,2,3,4,5,6,7" for p in doc["periods"])


def test_export_cli(run: Callable[..., Any], tmp_path: Path) -> None:
    spec = tmp_path / "mlscope.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "infra" / "schedules.tf"
    res = run("export", "schedules", str(spec), "--format", "terraform", "-o", str(out))
    assert res.code == 0, res.err
    assert hcl2.loads(out.read_text())["resource"]
    assert "endpoint schedules are priced but not exported" not in res.err  # prod has none
    js = run("export", "schedules", str(spec), "--format", "custodian", "--json").json()
    assert {s["name"] for s in js["schedules"]} == {"mlscope-exports-dev", "mlscope-exports-qa",
                                                    "mlscope-exports-qa-2"}
    assert yaml.safe_load(js["text"])["policies"]
    printed = run("export", "schedules", str(spec), "--format", "instance-scheduler")
    assert "periods:" in printed.out


def test_export_errors(run: Callable[..., Any], tmp_path: Path) -> None:
    spec = tmp_path / "mlscope.yaml"
    spec.write_text("project: {name: p}\nenvironments:\n  - name: prod\n    resources:\n"
                    "      - {kind: ec2, name: x, instance: m5.large}\n")
    res = run("export", "schedules", str(spec), "--format", "custodian")
    assert res.code == 2 and "nothing to export" in res.err
    res = run("export", "schedules", str(spec), "--format", "pulumi")
    assert res.code == 2 and "pulumi" in res.err


def test_long_names_stay_unique_and_short() -> None:
    from mlscope.costs.exports.plan import safe_name

    long = "mlscope-" + "x" * 80
    a, b = safe_name(long + "-start-1"), safe_name(long + "-stop-1")
    assert len(a) == len(b) == 64 and a != b
    assert safe_name("mlscope dev/nb 1") == "mlscope-dev-nb-1"
