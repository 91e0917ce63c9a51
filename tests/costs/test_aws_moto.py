"""EventBridge Scheduler and Budgets calls (boto3) against moto's server on 127.0.0.1: the
same schedules and budget as the Terraform export."""

from __future__ import annotations

import json
from typing import Any

import boto3
import hcl2

from mlscope.costs.exports import export_schedules
from mlscope.costs.exports.aws_api import apply, budget_name
from mlscope.spec.loader import load_spec_text

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlscope-scheduler"
SPEC = """\
project: {name: moto-check}
environments:
  - name: dev
    schedule: "off=[(M-F,19),(S,13)];on=[(M-F,7),(S,9)];tz=Europe/Berlin"
    resources:
      - {kind: notebook, name: nb, instance: ml.t3.medium}
      - {kind: ec2, name: box, instance: m5.large, instance_ids: [i-0123456789abcdef0]}
budget: {monthly_usd: 750, alert_emails: [team@example.com], alert_thresholds_pct: [80]}
"""


def unquote(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value.startswith('"') else value


def _terraform() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    doc = hcl2.loads(export_schedules(load_spec_text(SPEC), "terraform").text)
    schedules: dict[str, dict[str, Any]] = {}
    budget: dict[str, Any] = {}
    for resource in doc["resource"]:
        for rtype, named in resource.items():
            for body in named.values():
                if unquote(rtype) == "aws_scheduler_schedule":
                    schedules[unquote(body["name"])] = body
                elif unquote(rtype) == "aws_budgets_budget":
                    budget = body
    return schedules, budget


def test_schedules_and_budget_created_through_the_api(moto_endpoint: str) -> None:
    session = boto3.Session(region_name="us-east-1")
    scheduler = session.client("scheduler", endpoint_url=moto_endpoint)
    budgets = session.client("budgets", endpoint_url=moto_endpoint)
    result = apply(load_spec_text(SPEC), scheduler_client=scheduler, budgets_client=budgets,
                   account_id=ACCOUNT, role_arn=ROLE)
    tf_schedules, tf_budget = _terraform()

    listed = {s["Name"] for s in scheduler.list_schedules()["Schedules"]}
    assert set(result["schedules"]) <= listed
    assert set(result["schedules"]) == set(tf_schedules)
    assert len(tf_schedules) == 8  # (start, stop) × (weekdays, Saturday) × (notebook, ec2)
    for name, body in tf_schedules.items():
        got = scheduler.get_schedule(Name=name, GroupName="default")
        assert got["ScheduleExpression"] == unquote(body["schedule_expression"])
        assert got["ScheduleExpressionTimezone"] == unquote(body["schedule_expression_timezone"])
        assert got["Target"]["Arn"] == unquote(body["target"][0]["arn"])
        assert got["Target"]["RoleArn"] == ROLE
        payload = json.loads(got["Target"]["Input"])
        assert set(payload) <= {"NotebookInstanceName", "InstanceIds"}
        assert got["FlexibleTimeWindow"]["Mode"] == "OFF"

    described = budgets.describe_budget(AccountId=ACCOUNT, BudgetName=budget_name(
        load_spec_text(SPEC)))["Budget"]
    assert float(described["BudgetLimit"]["Amount"]) == float(unquote(tf_budget["limit_amount"]))
    assert described["TimeUnit"] == unquote(tf_budget["time_unit"])
    notes = budgets.describe_notifications_for_budget(
        AccountId=ACCOUNT, BudgetName=described["BudgetName"])["Notifications"]
    got = sorted((n["NotificationType"], n["Threshold"]) for n in notes)
    want = sorted((unquote(n["notification_type"]), float(n["threshold"]))
                  for n in tf_budget["notification"])
    assert got == want
