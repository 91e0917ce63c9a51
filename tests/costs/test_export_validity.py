"""Exports that work when applied: Custodian policies pass `custodian validate` and c7n reads
their tags, SageMaker tag rules hold, the tag policy replaces a stale tag, Instance Scheduler
items have exactly its CLI's fields, Terraform parses and uses only its resources' arguments,
the budget watches the project's tag, and two projects never share an AWS name."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

pytest.importorskip("c7n", reason="c7n is a test dependency: pip install -e '.[test]'")

from c7n_oracle import c7n_states, month_start, verdict

from mlscope.costs.exports import export_schedules
from mlscope.costs.exports.aws_api import budget_request
from mlscope.costs.exports.instance_scheduler_config import (
    PERIOD_FIELDS,
    SCHEDULE_FIELDS,
)
from mlscope.costs.schedules import hourly_states, parse_custodian
from mlscope.spec.loader import load_spec_text

ZONES = ["pt", "Etc/UTC", "UTC", "GMT", "CET", "Europe/Berlin", "Asia/Kolkata",
         "America/Port-au-Prince", "Australia/Sydney"]
# The SageMaker Tag API reference: Value pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, max 256.
SAGEMAKER_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}")


def spec_text(project: str, zone: str) -> str:
    return f"""\
project: {{name: {project}, region: us-east-1}}
environments:
  - name: dev
    schedule: "off=[(M-F,21),(U,18)];on=[(M-F,6),(U,10)];tz={zone}"
    holidays: [2026-12-25]
    resources:
      - {{kind: notebook, name: nb, count: 2}}
      - {{kind: ec2, name: box, instance: m5.large, instance_ids: [i-0aaa]}}
      - {{kind: ec2, name: tagged, instance: m5.large}}
  - name: qa
    schedule:
      timezone: {zone if "/" in zone or zone.isupper() else "Europe/Berlin"}
      periods: [{{begintime: "08:00", endtime: "18:00", weekdays: mon-fri}}]
    resources:
      - {{kind: notebook, name: qa-nb}}
budget: {{monthly_usd: 900, alert_emails: [a@example.com]}}
"""


def policies_for(project: str, zone: str) -> list[dict[str, Any]]:
    text = export_schedules(load_spec_text(spec_text(project, zone)), "custodian").text
    policies: list[dict[str, Any]] = yaml.safe_load(text)["policies"]
    return policies


def test_custodian_validate_accepts_every_generated_policy(tmp_path: Path) -> None:
    policies = [p for i, zone in enumerate(ZONES) for p in policies_for(f"p{i}", zone)]
    path = tmp_path / "policies.yml"
    path.write_text(yaml.safe_dump({"policies": policies}))
    custodian = Path(sys.executable).with_name("custodian")
    res = subprocess.run([str(custodian), "validate", str(path)], capture_output=True,
                         text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    zones = {f["default_tz"] for p in policies for f in p["filters"] if "default_tz" in f}
    assert {"etc/utc", "america/port-au-prince", "Europe/Berlin"} <= zones


def test_notebook_tags_are_valid_sagemaker_values_custodian_reads() -> None:
    for zone in ZONES:
        for policy in policies_for("nbtags", zone):
            if not policy["name"].endswith("tag-schedule"):
                continue
            value = policy["actions"][0]["value"]
            if policy["resource"] == "sagemaker-notebook":
                assert SAGEMAKER_VALUE.fullmatch(value), value
                assert not set("(),;[]") & set(value)
            # c7n itself acts on it, and gives the hours mlscope priced.
            v = verdict(value)
            assert v.accepted and not v.deliberate, value
            start, count = month_start(v.off.tz, 2026, 3)
            ours = [s for _, s in hourly_states(parse_custodian(value), *_month(2026, 3))]
            assert ours == c7n_states(v, start, count), (zone, value)


def _month(year: int, month: int) -> tuple[Any, Any]:
    from datetime import date, timedelta

    return date(year, month, 1), date(year, month + 1, 1) - timedelta(days=1)


def test_tag_policy_replaces_a_stale_tag_per_c7n() -> None:
    from c7n.provider import clouds
    from c7n.resources import load_resources

    load_resources(("aws.sagemaker-notebook", "aws.ec2"))
    for policy in policies_for("retag", "pt"):
        if not policy["name"].endswith("tag-schedule"):
            continue
        value = policy["actions"][0]["value"]
        registry = clouds["aws"].resources.get(policy["resource"]).filter_registry
        tag_filter = registry.factory(policy["filters"][-1], None)
        def tagged(v: str | None) -> dict[str, Any]:
            return {"Tags": [] if v is None else [{"Key": "maid_offhours", "Value": v}]}
        picked = tag_filter.process([tagged(None), tagged("off=(M-F,18)"), tagged(value)])
        assert [r["Tags"][0]["Value"] if r["Tags"] else None for r in picked] == [
            None, "off=(M-F,18)"]


def test_instance_scheduler_items_have_exactly_its_cli_fields() -> None:
    result = export_schedules(load_spec_text(spec_text("isched", "pt")), "instance-scheduler")
    doc = yaml.safe_load(result.text)
    # scheduler-cli create-period / create-schedule options (Instance Scheduler on AWS
    # implementation guide, "Scheduler CLI"): no `type` key, `periods` one comma-joined string.
    for period in doc["periods"]:
        assert set(period) <= set(PERIOD_FIELDS) and "type" not in period
        assert all(isinstance(v, str) for v in period.values())
    names = {p["name"] for p in doc["periods"]}
    for schedule in doc["schedules"]:
        assert set(schedule) <= set(SCHEDULE_FIELDS)
        assert isinstance(schedule["periods"], str)
        assert set(schedule["periods"].split(",")) <= names
    commands = [line.removeprefix("#   ") for line in result.text.splitlines()
                if line.startswith("#   scheduler-cli")]
    assert len(commands) == len(doc["periods"]) + len(doc["schedules"])
    first = shlex.split(commands[0])
    assert first[:2] == ["scheduler-cli", "create-period"]
    args = dict(zip(first[4::2], first[5::2], strict=True))
    assert args == {f"--{k}": v for k, v in doc["periods"][0].items()}


# Arguments and blocks of the resources the export emits, from the Terraform AWS provider
# (v5) documentation: (required, optional arguments, blocks).
TF_SCHEMA: dict[str, tuple[set[str], set[str], set[str]]] = {
    "aws_scheduler_schedule": ({"schedule_expression"}, {
        "name", "name_prefix", "group_name", "description", "end_date", "kms_key_arn",
        "schedule_expression_timezone", "start_date", "state", "action_after_completion"},
        {"flexible_time_window", "target"}),
    "aws_iam_role": ({"assume_role_policy"}, {
        "name", "name_prefix", "description", "path", "permissions_boundary",
        "max_session_duration", "force_detach_policies", "managed_policy_arns", "tags"},
        {"inline_policy"}),
    "aws_iam_role_policy": ({"policy", "role"}, {"name", "name_prefix"}, set()),
    "aws_budgets_budget": ({"budget_type", "time_unit"}, {
        "name", "name_prefix", "account_id", "limit_amount", "limit_unit",
        "time_period_start", "time_period_end", "tags"},
        {"cost_filter", "cost_types", "notification", "planned_limit", "auto_adjust_data"}),
}
TF_BLOCKS = {
    "flexible_time_window": ({"mode"}, {"maximum_window_in_minutes"}),
    "target": ({"arn", "role_arn"}, {"input"}),
    "cost_filter": ({"name", "values"}, set()),
    "notification": ({"comparison_operator", "notification_type", "threshold",
                      "threshold_type"}, {"subscriber_email_addresses",
                                          "subscriber_sns_topic_arns"}),
}


def test_terraform_parses_and_uses_only_documented_arguments() -> None:
    doc = hcl2.loads(export_schedules(load_spec_text(spec_text("tfschema", "pt")),
                                      "terraform").text)
    seen = set()
    for resource in doc["resource"]:
        for rtype, named in resource.items():
            rtype = json.loads(rtype) if rtype.startswith('"') else rtype
            required, optional, blocks = TF_SCHEMA[rtype]
            seen.add(rtype)
            for body in named.values():
                keys = {k for k in body if not k.startswith("__")}
                assert required <= keys, (rtype, required - keys)
                assert keys <= required | optional | blocks, (rtype, keys - required - optional
                                                              - blocks)
                for block in keys & blocks:
                    need, may = TF_BLOCKS[block]
                    for item in body[block]:
                        inner = {k for k in item if not k.startswith("__")}
                        assert need <= inner <= need | may, (rtype, block, inner)
    assert seen == set(TF_SCHEMA)


def test_budget_watches_the_project_tag_and_names_are_per_project() -> None:
    spec = load_spec_text(spec_text("shop", "pt"))
    request = budget_request(spec, "123456789012")
    assert request is not None
    assert request["Budget"]["CostFilters"] == {"TagKeyValue": ["user:project$shop"]}
    assert request["NotificationsWithSubscribers"]
    tf = export_schedules(spec, "terraform").text
    assert '"user:project$shop"' in tf and "TagKeyValue" in tf

    def names(project: str) -> set[str]:
        doc = hcl2.loads(export_schedules(load_spec_text(spec_text(project, "pt")),
                                          "terraform").text)
        return {json.loads(body["name"]) if body["name"].startswith('"') else body["name"]
                for r in doc["resource"] for named in r.values() for body in named.values()}

    a, b = names("alpha"), names("beta")
    assert a and b and not a & b
