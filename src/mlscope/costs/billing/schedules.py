"""Resources running outside their off-hours schedule, found in hourly billing line items.

The spec's schedules (Cloud Custodian offhours or Instance Scheduler periods, via the cost
engine's parser) say when each resource may run; a line item is matched to a resource by its
component tag (the resource's name) or by its resource ID (notebook names, instance IDs). An
hour of usage that starts where the schedule has the resource off is a violation, with its cost.
Exports with daily granularity cannot show this and are reported as not checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from mlscope.costs.billing.dataset import VIEW, BillingData
from mlscope.costs.billing.dialect import literal
from mlscope.costs.schedules import Schedule
from mlscope.spec.models import ProjectSpec


@dataclass
class Scheduled:
    env: str
    name: str
    schedule: Schedule
    ids: tuple[str, ...]  # resource ids or names that identify it in the export

    @property
    def label(self) -> str:
        return f"{self.env}/{self.name}"


def scheduled_resources(spec: ProjectSpec) -> list[Scheduled]:
    from mlscope.costs.lines import effective_schedule

    out = []
    for env in spec.environments:
        for res in env.resources:
            if not hasattr(res, "schedule"):
                continue
            schedule = effective_schedule(env, res)  # type: ignore[arg-type]
            if schedule is None:
                continue
            ids = tuple(getattr(res, "names", None) or ()) + tuple(
                getattr(res, "instance_ids", None) or ())
            out.append(Scheduled(env.name, res.name, schedule, ids))
    return out


def _on(schedule: Schedule, start: dt.datetime, tz: ZoneInfo) -> bool:
    local = start.replace(tzinfo=dt.UTC).astimezone(tz)
    minute = local.hour * 60 + local.minute
    spans = schedule.day_intervals(local.date())
    return any(b < minute + 60 and minute < e for b, e in spans)


def violations(data: BillingData, spec: ProjectSpec,
               month: str | None = None) -> dict[str, Any]:
    """{"checked": bool, "resources": n, "anomalies": [...]} for the spec's scheduled resources."""
    resources = scheduled_resources(spec)
    if not resources:
        return {"checked": False, "reason": "no scheduled resources in the spec",
                "resources": 0, "anomalies": []}
    q = data.query
    component, env = q.tag(*data.tag_keys.component), q.tag(*data.tag_keys.env)
    names = ", ".join(literal(r.name.lower()) for r in resources)
    id_like = " OR ".join(f"resource_id LIKE {literal('%' + i + '%')}"
                          for r in resources for i in r.ids)
    match = f"lower({component}) IN ({names})" + (f" OR {id_like}" if id_like else "")
    if _daily_export(data, month):
        return {"checked": False, "reason": "the export has daily granularity; hourly needed",
                "resources": len(resources), "anomalies": []}
    where = q.where(month, f"charge_category = 'Usage' AND ({match})")
    rows = data.fetch(
        f"SELECT usage_start, lower({component}), lower({env}), resource_id, "
        f"SUM(effective_cost) FROM {VIEW} {where} GROUP BY 1, 2, 3, 4")
    found: dict[tuple[str, str], list[float]] = {}
    for start, comp, env_tag, rid, cost in rows:
        for r in resources:
            by_tag = comp == r.name.lower() and env_tag in (None, r.env.lower())
            by_id = rid is not None and any(i in rid for i in r.ids)
            if not (by_tag or by_id):
                continue
            if not _on(r.schedule, start, ZoneInfo(r.schedule.timezone)):
                cell = found.setdefault((r.label, start.date().isoformat()), [0.0, 0.0])
                cell[0] += cost or 0.0
                cell[1] += 1
            break
    anomalies: list[dict[str, Any]] = [
        {"date": day, "dimension": "resource", "key": label, "actual": cost, "expected": 0.0,
         "kind": "schedule", "impact": cost, "hours": int(hours)}
        for (label, day), (cost, hours) in found.items() if cost > 0]
    anomalies.sort(key=lambda a: (-a["impact"], a["date"]))
    return {"checked": True, "resources": len(resources), "anomalies": anomalies}


def _daily_export(data: BillingData, month: str | None) -> bool:
    """True when no line item starts at any hour but midnight (a daily-granularity export)."""
    (hours,), = data.fetch(f"SELECT COUNT(DISTINCT date_part('hour', usage_start)) FROM {VIEW} "
                           f"{data.query.where(month)}")
    return bool(hours is not None and hours <= 1)
