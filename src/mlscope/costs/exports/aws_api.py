"""EventBridge Scheduler and AWS Budgets requests (boto3 keyword arguments) for a spec.

The Terraform export writes the same schedules and budget; `apply` sends them with boto3 (tests
run it against moto's server on 127.0.0.1).
"""

from __future__ import annotations

import json
from typing import Any

from mlscope.costs.exports.plan import SchedulePlan, build_plans, events, project_tag, safe_name
from mlscope.spec.models import ProjectSpec

SDK_TARGETS = {
    ("notebook", "start"): "arn:aws:scheduler:::aws-sdk:sagemaker:startNotebookInstance",
    ("notebook", "stop"): "arn:aws:scheduler:::aws-sdk:sagemaker:stopNotebookInstance",
    ("ec2", "start"): "arn:aws:scheduler:::aws-sdk:ec2:startInstances",
    ("ec2", "stop"): "arn:aws:scheduler:::aws-sdk:ec2:stopInstances",
}


def schedule_requests(plans: list[SchedulePlan], role_arn: str) -> list[dict[str, Any]]:
    """CreateSchedule arguments: one per (event, target)."""
    out = []
    for plan in plans:
        targets: list[tuple[str, str, dict[str, Any]]] = [
            ("notebook", name, {"NotebookInstanceName": name}) for name in plan.targets.notebooks]
        if plan.targets.ec2_ids:
            targets.append(("ec2", "instances", {"InstanceIds": plan.targets.ec2_ids}))
        for i, event in enumerate(events(plan.schedule)):
            for kind, target_name, payload in targets:
                out.append({
                    "Name": safe_name(f"{plan.name}-{target_name}-{event.action}-{i + 1}"),
                    "GroupName": "default",
                    "Description": f"mlscope {plan.environment}: {event.action} {target_name}",
                    "ScheduleExpression": event.cron(),
                    "ScheduleExpressionTimezone": plan.schedule.timezone,
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "State": "ENABLED",
                    "Target": {"Arn": SDK_TARGETS[(kind, event.action)], "RoleArn": role_arn,
                               "Input": json.dumps(payload, sort_keys=True)},
                })
    return out


def budget_request(spec: ProjectSpec, account_id: str) -> dict[str, Any] | None:
    """CreateBudget arguments for budget.monthly_usd (None without a monthly budget)."""
    budget = spec.budget
    if budget.monthly_usd is None:
        return None
    notifications = []
    subscribers = [{"SubscriptionType": "EMAIL", "Address": a} for a in budget.alert_emails]
    if subscribers:
        for pct in budget.alert_thresholds_pct:
            notifications.append(_notification("ACTUAL", pct, subscribers))
        if budget.forecast_alert_pct:
            notifications.append(_notification("FORECASTED", budget.forecast_alert_pct,
                                               subscribers))
    return {
        "AccountId": account_id,
        "Budget": {
            "BudgetName": budget_name(spec),
            "BudgetLimit": {"Amount": f"{budget.monthly_usd:.2f}", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            # Only this project's costs: its cost-allocation tag (activate it in Billing).
            "CostFilters": {"TagKeyValue": [budget_tag_filter(spec)]},
        },
        "NotificationsWithSubscribers": notifications,
    }


def budget_tag_filter(spec: ProjectSpec) -> str:
    """AWS Budgets' TagKeyValue filter value for the project's cost-allocation tag."""
    key, value = project_tag(spec)
    return f"user:{key}${value}"


def budget_name(spec: ProjectSpec) -> str:
    return safe_name(f"mlscope-{spec.project.name}-monthly", 100)


def _notification(kind: str, pct: float, subscribers: list[dict[str, str]]) -> dict[str, Any]:
    return {"Notification": {"NotificationType": kind, "ComparisonOperator": "GREATER_THAN",
                             "Threshold": float(pct), "ThresholdType": "PERCENTAGE"},
            "Subscribers": subscribers}


def apply(spec: ProjectSpec, *, scheduler_client: Any, budgets_client: Any, account_id: str,
          role_arn: str) -> dict[str, Any]:
    """Create the schedules and the budget with the given boto3 clients."""
    plans, warnings = build_plans(spec)
    created = []
    for request in schedule_requests(plans, role_arn):
        scheduler_client.create_schedule(**request)
        created.append(request["Name"])
    budget = budget_request(spec, account_id)
    if budget is not None:
        budgets_client.create_budget(**budget)
    return {"schedules": created, "budget": budget["Budget"]["BudgetName"] if budget else None,
            "warnings": warnings}
