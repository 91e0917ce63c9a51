"""Section: the training estimate, its range, and the instance options on a time/cost chart."""

from __future__ import annotations

from typing import Any

from mlscope.report import charts, svg
from mlscope.report.context import ReportContext
from mlscope.report.decision import between
from mlscope.report.model import Figure, Section, Skip, Table
from mlscope.spec.models import ProjectSpec

# What a use case without a `model:` trains, so the notice fits it (not "pass --model ...").
_NOTHING_TO_TRAIN = {
    "edge-voice-assistant": "the assistant runs ready-made models on the device; add `model:` "
                            "and `dataset:` for the fine-tuning job to estimate it",
    "llm-rag": "a RAG assistant calls a hosted LLM and trains nothing; add `model:` and "
               "`dataset:` only if you fine-tune one",
}

MAX_ROWS = 12


def _range(q: dict[str, float] | None, fmt: svg.Fmt) -> str:
    if not q:
        return "n/a"
    if fmt is svg.money:
        return f"{fmt(q['p50'])} typical ({between(q['p10'], q['p90'])})"
    return (f"{fmt(q['p50'])} typical (8 in 10 chance between {fmt(q['p10'])} and "
            f"{fmt(q['p90'])})")


def _count(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def _triple(q: dict[str, float]) -> tuple[float, float, float]:
    return (q["p10"], q["p50"], q["p90"])


def option_label(o: dict[str, Any], short: bool = False) -> str:
    """'16× p6-b200.48xlarge (128 B200), spot': instances, type, accelerators, purchase."""
    instances = o.get("instances") or o.get("count") or 1
    label = f"{instances:g}× {o['instance_type']}"
    if o.get("accelerator") and o.get("count") and not short:
        label += f" ({o['count']:g} {o['accelerator']})"
    return f"{label}, {o['purchase']}" if o.get("purchase") else label


def build(ctx: ReportContext, sec: Section) -> None:
    spec = ctx.spec
    if not ctx.has_training():
        why = _NOTHING_TO_TRAIN.get(spec.project.use_case, "the spec has no `model:` or "
                                    "`dataset:` to estimate a training run from")
        raise Skip(why)
    est = ctx.estimate()
    sec.data = {k: est.get(k) for k in ("method", "flops", "accelerator_hours",
                                        "wall_clock_hours", "cost_usd", "memory", "best")}
    sec.data["options"] = len(est.get("options") or [])
    sec.facts = _facts(est)
    options = list(est.get("options") or [])
    best = est.get("best")
    if options:
        sec.figures.append(_chart(spec, options, best))
        sec.tables.append(_options_table(options, best))
    elif est.get("cost_by_purchase"):
        sec.figures.append(_purchase_chart(est["cost_by_purchase"], est.get("purchase")))
        sec.notes.append("The estimator searched no other instance types for this spec, so "
                         "there is no time-versus-cost trade-off to chart; the chart compares "
                         "ways of paying for the same instance.")
    else:
        sec.notes.append("The estimator returned no instance options for this spec.")
    sec.assumptions = [str(a) for a in est.get("assumptions") or []]
    sec.sources = [str(s) for s in est.get("sources") or []]


def _facts(est: dict[str, Any]) -> list[tuple[str, str]]:
    """The estimate's facts; when the spec's configuration does not fit in memory, the option
    that fits leads and the spec's own figures are labelled as not runnable."""
    mem = est.get("memory") or {}
    best = est.get("best")
    fits = mem.get("fits") is not False
    facts: list[tuple[str, str]] = []
    if not fits:
        lead = (f"{option_label(best)}, {svg.hours(best['wall_clock_hours']['p50'])}, "
                f"{_range(best['cost_usd'], svg.money)}" if best else
                "no option in the catalog fits this model")
        facts.append(("Cheapest configuration that fits", lead))
    facts.append(("Method", str(est.get("method", "n/a"))))
    inst = est.get("instance") or {}
    if inst.get("type"):
        hw = f"{inst.get('instances') or 1:g}× {inst['type']}"
        accel = (est.get("accelerator") or {}).get("name")
        if accel and est.get("count"):
            hw += f" ({est['count']:g} {accel})"
        where = f"{inst.get('region', '?')}, {est.get('purchase', 'on-demand')}"
        facts.append(("Hardware in the spec", f"{hw} in {where}"))
    flops = est.get("flops")
    if flops:
        facts.append(("Compute", f"{float(flops):.3g} FLOPs"))
    mark = "" if fits else " (the spec's configuration, which does not fit)"
    facts += [
        ("Wall-clock per run" + mark, _range(est.get("wall_clock_hours"), svg.hours)),
        ("Cost per run" + mark, _range(est.get("cost_usd"), svg.money)),
    ]
    if est.get("accelerator_hours"):
        facts.append(("Accelerator-hours", _range(est["accelerator_hours"], _count)))
    facts += _memory(mem)
    if best and fits:
        facts.append(("Recommended option", f"{option_label(best)}, "
                      f"{svg.hours(best['wall_clock_hours']['p50'])}, "
                      f"{svg.money(best['cost_usd']['p50'])}"))
    return facts


def _is_best(o: dict[str, Any], best: dict[str, Any] | None) -> bool:
    keys = ("instance_type", "count", "purchase", "region")
    return best is not None and all(o.get(k) == best.get(k) for k in keys)


def _chart(spec: ProjectSpec, options: list[dict[str, Any]], best: dict[str, Any] | None) -> Figure:
    points = [charts.OptionPoint(
        label=option_label(o, short=True), hours=_triple(o["wall_clock_hours"]),
        cost=_triple(o["cost_usd"]),
        pareto=bool(o.get("pareto")), meets_deadline=o.get("meets_deadline"),
        best=_is_best(o, best)) for o in options]
    budget = spec.training.budget_usd or spec.budget.training_usd
    chart = charts.time_vs_cost(points, deadline_hours=spec.training.deadline, budget_usd=budget)
    n_front = sum(p.pareto for p in points)
    caption = (f"{len(points)} options; the {n_front} on the orange line are the Pareto front: "
               "no other option is both faster and cheaper. Each dot is the P50 (median); the "
               "whiskers span P10–P90. Hover a dot for its figures.")
    if spec.training.deadline:
        caption += (" An option meets the deadline only if its P90 (pessimistic) time does; "
                    "hollow dots miss it.")
    if budget and budget > 1.5 * max(p.cost[2] for p in points):
        caption += (f" The {svg.money(budget)} budget is far above every option, so it is not "
                    "drawn.")
    return Figure(chart, caption)


def _options_table(options: list[dict[str, Any]], best: dict[str, Any] | None) -> Table:
    # Front first (cheapest first), then the cheapest of the rest, so the table stays short.
    ranked = sorted(options, key=lambda o: (not o.get("pareto"), o["cost_usd"]["p50"]))
    regions = {o.get("region") for o in options}
    one_region = len(regions) == 1
    rows = []
    for o in ranked[:MAX_ROWS]:
        meets = o.get("meets_deadline")
        deadline = "n/a" if meets is None else ("yes" if meets else "no")
        row = [option_label(o) + (" (recommended)" if _is_best(o, best) else ""),
               str(o.get("region", "")),
               _range(o["wall_clock_hours"], svg.hours), _range(o["cost_usd"], svg.money),
               "yes" if o.get("pareto") else "", deadline]
        rows.append([c for i, c in enumerate(row) if not (one_region and i == 1)])
    more = len(options) - len(rows)
    caption = "Instance options, Pareto front first"
    if one_region:
        caption += f", all in {regions.pop()}"
    if more > 0:
        caption += f" ({more} more in `mlscope estimate spec FILE --json`)"
    headers = ["Option", "Region", "Wall-clock", "Cost", "Pareto", "Meets deadline"]
    return Table([h for i, h in enumerate(headers) if not (one_region and i == 1)], rows,
                 caption)


def _memory(mem: dict[str, Any]) -> list[tuple[str, str]]:
    need = mem.get("per_accelerator_gb", mem.get("per_instance_gb"))
    if need is None:
        return []
    where = "accelerator" if "per_accelerator_gb" in mem else "instance"
    capacity = f" of {mem['capacity_gb']:,.0f} GB" if mem.get("capacity_gb") else ""
    if mem.get("fits"):
        verdict = "fits"
    elif mem.get("min_count"):
        verdict = (f"does not fit with these settings; fits from {mem['min_count']} "
                   "accelerators with full sharding (ZeRO-3/FSDP)")
    else:
        verdict = "does not fit"
    return [(f"Memory per {where}", f"{need:,.1f} GB{capacity} ({verdict})")]


def _purchase_chart(by_purchase: dict[str, dict[str, float]], chosen: str | None) -> Figure:
    rows = [charts.RangeRow(f"{name}{' (chosen)' if name == chosen else ''}", _triple(q))
            for name, q in sorted(by_purchase.items(), key=lambda kv: kv[1]["p50"])]
    chart = charts.range_bars(rows, x_label="Cost of one training run, USD",
                              title="Cost of one training run by way of paying")
    return Figure(chart, "Bars span P10–P90 (80% of outcomes); the dot is the P50 (median). "
                         "Spot is cheapest but can be interrupted; savings plans need a 1- or "
                         "3-year commitment.")
