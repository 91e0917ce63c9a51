"""Forecast, plan vs actual and the check gate, on top of the normalized billing view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mlscope.costs.billing.anomalies import Settings, detect
from mlscope.costs.billing.dataset import BillingData
from mlscope.costs.billing.forecast import Forecast, forecast_month
from mlscope.costs.billing.query import TagKeys, check_month
from mlscope.errors import InputError
from mlscope.spec.models import ProjectSpec

# Recurring usage is what the daily model extrapolates; one-off charges count as posted.
RECURRING = "(charge_category = 'Usage' OR charge_type = 'SavingsPlanRecurringFee')"


def tag_keys_of(spec: ProjectSpec | None) -> TagKeys:
    section = getattr(spec, "billing", None) if spec is not None else None
    if section is None:
        return TagKeys()
    keys = section.tag_keys
    return TagKeys(env=tuple(keys.env), project=tuple(keys.project),
                   component=tuple(keys.component))


def export_paths(spec: ProjectSpec) -> list[str]:
    """The spec's `billing.export` paths (relative ones resolved against the spec's folder)."""
    section = getattr(spec, "billing", None)
    if section is None:
        raise InputError("the spec has no `billing:` section",
                         "add `billing: {export: PATH}` or pass the export's path")
    return list(section.exports())


def pick_month(data: BillingData, month: str | None) -> str:
    months = data.months()
    if not months:
        raise InputError("the export has no dated line items", "check the export's files")
    if month is None:
        return months[-1]
    check_month(month)
    if month not in months:
        raise InputError(f"the export has no line items in {month}",
                         f"its months: {', '.join(months)}")
    return month


def _month_end(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    nxt = dt.date(year + mon // 12, mon % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).isoformat()


def forecast(data: BillingData, month: str | None = None, where: str | None = None,
             seed: int = 0) -> Forecast:
    month = pick_month(data, month)
    until = f"day <= DATE '{_month_end(month)}'"
    recurring = {d: c for d, _, c, _ in data.daily(
        where=f"{RECURRING} AND {until}" + (f" AND {where}" if where else ""))}
    to_date = sum(c for _, _, c, _ in data.daily(month=month, where=where))
    return forecast_month(month, recurring, to_date, seed)


def forecasts_by(data: BillingData, dim: str, month: str,
                 seed: int = 0) -> dict[Any, Forecast]:
    """One forecast per value of `dim` (two scans in all, whatever the number of values)."""
    until = f"day <= DATE '{_month_end(month)}'"
    recurring: dict[Any, dict[dt.date, float]] = {}
    for day, key, cost, _ in data.daily(by=dim, where=f"{RECURRING} AND {until}"):
        recurring.setdefault(key, {})[day] = cost
    to_date: dict[Any, float] = {}
    for _, key, cost, _ in data.daily(by=dim, month=month):
        to_date[key] = to_date.get(key, 0.0) + cost
    return {key: forecast_month(month, recurring.get(key, {}), to_date.get(key, 0.0), seed)
            for key in set(recurring) | set(to_date)}


def anomalies(data: BillingData, by: str = "service", month: str | None = None,
              spec: ProjectSpec | None = None,
              settings: Settings | None = None) -> dict[str, Any]:
    rows = [(d, k, c) for d, k, c, _ in data.daily(by=by, month=month)]
    found = detect(rows, by, settings)
    result: dict[str, Any] = {"format": data.format, "dimension": by}
    if spec is not None:
        from mlscope.costs.billing.schedules import violations

        sched = violations(data, spec, month)
        found = sorted(found + sched["anomalies"], key=lambda a: (-a["impact"], a["date"]))
        result["schedules"] = {k: v for k, v in sched.items() if k != "anomalies"}
    result["anomalies"] = found
    return result


def _planned(spec: ProjectSpec, month: str) -> tuple[dict[str, dict[str, float]],
                                                     dict[str, float]]:
    """Each environment's planned P10/P50/P90 for the month, and the total's (the cost engine's
    own quantiles of the summed draws: quantiles do not add up across environments)."""
    from mlscope.costs.runrate import estimate_costs

    report = estimate_costs(spec, start=(int(month[:4]), int(month[5:7])), months=1)
    keys = ("p10", "p50", "p90")
    envs = {e["name"]: {k: float(e["monthly"][0][k]) for k in keys}
            for e in report["environments"]}
    return envs, {k: float(report["total"]["monthly"][0][k]) for k in keys}


def _status(planned: dict[str, float], fc: Forecast | None) -> str:
    if fc is None:
        return "no-data"
    if fc.p50 > planned["p90"]:
        return "over"
    if fc.p50 < planned["p10"]:
        return "under"
    return "within"


def compare(data: BillingData, spec: ProjectSpec, month: str | None = None,
            seed: int = 0) -> dict[str, Any]:
    """Each spec environment's planned P10/P50/P90 beside its actual and forecast."""
    month = pick_month(data, month)
    planned, planned_total = _planned(spec, month)
    by_env = forecasts_by(data, "env", month, seed)
    lowered: dict[str, list[Any]] = {}
    for key in by_env:
        if key is not None:
            lowered.setdefault(str(key).lower(), []).append(key)
    envs: list[dict[str, Any]] = []
    for name, plan in planned.items():
        keys = lowered.pop(name.lower(), [])
        fc = _merge([by_env[k] for k in keys], month) if keys else None
        envs.append({
            "name": name, "planned": plan,
            "actual_to_date": fc.to_date if fc else 0.0,
            "forecast": ({"p10": fc.p10, "p50": fc.p50, "p90": fc.p90} if fc
                         else {"p10": 0.0, "p50": 0.0, "p90": 0.0}),
            "through": fc.through if fc else None,
            "status": _status(plan, fc),
        })
    unplanned = [{"name": str(keys[0]), "actual_to_date": sum(by_env[k].to_date for k in keys)}
                 for keys in lowered.values()]
    untagged = by_env.get(None)
    total = forecast(data, month, seed=seed)
    result: dict[str, Any] = {
        "format": data.format, "month": month, "through": total.through,
        "environments": envs,
        "unplanned_environments": unplanned,
        "untagged": {"actual_to_date": untagged.to_date if untagged else 0.0,
                     "forecast": ({"p10": untagged.p10, "p50": untagged.p50,
                                   "p90": untagged.p90} if untagged else None)},
        "total": {"planned": planned_total,
                  "actual_to_date": total.to_date,
                  "forecast": {"p10": total.p10, "p50": total.p50, "p90": total.p90}},
    }
    if spec.budget.monthly_usd is not None:
        limit = spec.budget.monthly_usd * (spec.budget.forecast_alert_pct or 100.0) / 100
        result["budget"] = {"monthly_usd": spec.budget.monthly_usd, "alert_usd": limit,
                            "forecast_p50": total.p50, "over": total.p50 > limit}
    return result


def _merge(parts: list[Forecast], month: str) -> Forecast:
    """Tag values that differ only in case (Prod, prod) are one environment."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return Forecast(month, max((p.through or "") for p in parts) or None,
                    sum(p.to_date for p in parts), sum(p.p10 for p in parts),
                    sum(p.p50 for p in parts), sum(p.p90 for p in parts), first.days_left,
                    first.next_month, first.method + " (summed over tag spellings)")


def check(data: BillingData, spec: ProjectSpec, month: str | None = None) -> dict[str, Any]:
    """The gate: fails when an environment or the budget is forecast over, or a schedule broken."""
    from mlscope.costs.billing.schedules import violations

    result = compare(data, spec, month)
    sched = violations(data, spec, result["month"])
    reasons = []
    for env in result["environments"]:
        if env["status"] == "over":
            reasons.append(f"{env['name']}: forecast {env['forecast']['p50']:,.2f} is over its "
                           f"planned P90 {env['planned']['p90']:,.2f}")
    budget = result.get("budget")
    if budget and budget["over"]:
        reasons.append(f"total: forecast {budget['forecast_p50']:,.2f} is over the budget alert "
                       f"{budget['alert_usd']:,.2f}")
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for a in sched["anomalies"]:
        by_resource.setdefault(a["key"], []).append(a)
    for key, found in sorted(by_resource.items()):
        hours = sum(a["hours"] for a in found)
        cost = sum(a["actual"] for a in found)
        reasons.append(f"{key}: ran {hours} h outside its schedule ({cost:,.2f})")
    return {"ok": not reasons, "month": result["month"], "reasons": reasons,
            "compare": result, "schedules": sched}
