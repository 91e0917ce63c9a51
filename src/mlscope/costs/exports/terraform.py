"""Terraform HCL: EventBridge Scheduler schedules that stop/start notebooks and EC2 instances,
the IAM role they assume, and an `aws_budgets_budget` with notifications."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mlscope.costs.exports.aws_api import budget_request, budget_tag_filter, schedule_requests
from mlscope.costs.exports.plan import SchedulePlan, safe_name
from mlscope.spec.models import ProjectSpec

ROLE_REF = "aws_iam_role.mlscope_scheduler.arn"


@dataclass(frozen=True)
class Raw:
    """An HCL expression written as is (references, function calls)."""

    text: str


@dataclass
class Block:
    labels: list[str]
    attrs: list[tuple[str, Any]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def render(self, indent: int = 0) -> str:
        pad = "  " * indent
        head = " ".join([self.labels[0], *(json.dumps(label) for label in self.labels[1:])])
        lines = [f"{pad}{head} {{"]
        lines += [f"{pad}  {key} = {value(v, indent + 1)}" for key, v in self.attrs]
        for block in self.blocks:
            lines.append(block.render(indent + 1))
        lines.append(f"{pad}}}")
        return "\n".join(lines)


def string(text: str) -> str:
    # JSON escaping is valid HCL; template sequences must not be interpreted.
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def value(v: Any, indent: int = 0) -> str:
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(x, indent) for x in v) + "]"
    if isinstance(v, dict):
        pad = "  " * (indent + 1)
        inner = "\n".join(f"{pad}{k} = {value(x, indent + 1)}" for k, x in v.items())
        return "{\n" + inner + "\n" + "  " * indent + "}"
    raise TypeError(f"cannot write {type(v).__name__} as HCL")


def _role_blocks(spec: ProjectSpec, plans: list[SchedulePlan]) -> list[Block]:
    actions = []
    if any(p.targets.notebooks for p in plans):
        actions += ["sagemaker:StartNotebookInstance", "sagemaker:StopNotebookInstance"]
    if any(p.targets.ec2_ids for p in plans):
        actions += ["ec2:StartInstances", "ec2:StopInstances"]
    assume = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": actions, "Resource": "*"}]}
    return [
        Block(["resource", "aws_iam_role", "mlscope_scheduler"], [
            ("name", safe_name(f"mlscope-{spec.project.name}-scheduler")),
            ("assume_role_policy", Raw(f"jsonencode({value(assume, 1)})"))]),
        Block(["resource", "aws_iam_role_policy", "mlscope_scheduler"], [
            ("name", safe_name(f"mlscope-{spec.project.name}-start-stop")),
            ("role", Raw("aws_iam_role.mlscope_scheduler.id")),
            ("policy", Raw(f"jsonencode({value(policy, 1)})"))]),
    ]


def _schedule_block(request: dict[str, Any]) -> Block:
    target = request["Target"]
    payload = json.loads(target["Input"])
    return Block(["resource", "aws_scheduler_schedule", request["Name"].replace(".", "_")], [
        ("name", request["Name"]),
        ("group_name", request["GroupName"]),
        ("description", request["Description"]),
        ("schedule_expression", request["ScheduleExpression"]),
        ("schedule_expression_timezone", request["ScheduleExpressionTimezone"]),
        ("state", request["State"]),
    ], [
        Block(["flexible_time_window"], [("mode", "OFF")]),
        Block(["target"], [("arn", target["Arn"]), ("role_arn", Raw(ROLE_REF)),
                           ("input", Raw(f"jsonencode({value(payload, 2)})"))]),
    ])


def _budget_block(spec: ProjectSpec) -> Block | None:
    request = budget_request(spec, "ACCOUNT")
    if request is None:
        return None
    budget = request["Budget"]
    notifications = [
        Block(["notification"], [
            ("comparison_operator", n["Notification"]["ComparisonOperator"]),
            ("threshold", n["Notification"]["Threshold"]),
            ("threshold_type", n["Notification"]["ThresholdType"]),
            ("notification_type", n["Notification"]["NotificationType"]),
            ("subscriber_email_addresses", [s["Address"] for s in n["Subscribers"]]),
        ]) for n in request["NotificationsWithSubscribers"]]
    return Block(["resource", "aws_budgets_budget", "mlscope_monthly"], [
        ("name", budget["BudgetName"]),
        ("budget_type", budget["BudgetType"]),
        ("limit_amount", budget["BudgetLimit"]["Amount"]),
        ("limit_unit", budget["BudgetLimit"]["Unit"]),
        ("time_unit", budget["TimeUnit"]),
    ], [Block(["cost_filter"], [("name", "TagKeyValue"), ("values", [budget_tag_filter(spec)])]),
        *notifications])


def render_terraform(spec: ProjectSpec, plans: list[SchedulePlan]) -> str:
    blocks = [Block(["terraform"], [], [Block(["required_providers"], [
        ("aws", {"source": "hashicorp/aws", "version": ">= 5.0"})])])]
    requests = schedule_requests(plans, ROLE_REF)
    if requests:
        blocks += _role_blocks(spec, plans)
        blocks += [_schedule_block(r) for r in requests]
    budget = _budget_block(spec)
    if budget is not None:
        blocks.append(budget)
    header = (f"# Generated by mlscope from project '{spec.project.name}'.\n"
              "# EventBridge Scheduler evaluates each cron in its schedule_expression_timezone,\n"
              "# so"
              " start/stop times follow daylight saving time.\n")
    return header + "\n\n".join(b.render() for b in blocks) + "\n"
