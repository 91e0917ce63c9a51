"""The report's first screen: what it is, what it costs in total, when it delivers, the top three
risks with their probability and cost, and the decision asked of the sponsor.

Every figure comes from an engine result the sections also show (the same seeded cost draws, the
same plan timeline); a figure that cannot be computed is said to be missing, never guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlscope.core import fmt
from mlscope.errors import MlscopeError
from mlscope.report.context import ReportContext
from mlscope.report.model import Section

WEEKS_PER_YEAR = 52.0


def between(p10: float, p90: float) -> str:
    """A P10-P90 range in words, where it is shown."""
    return (f"8 in 10 chance between {fmt.money(p10, compact=True)} and "
            f"{fmt.money(p90, compact=True)}")


@dataclass(frozen=True)
class Risk:
    title: str
    probability: float | None  # None: not estimated (said so)
    cost_usd: float | None  # None: not estimated
    detail: str
    blocker: bool = False  # certain until fixed: ranked first

    @property
    def expected(self) -> float:
        return (self.probability or 0.0) * (self.cost_usd or 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "probability": self.probability, "cost_usd": self.cost_usd,
                "detail": self.detail}


@dataclass
class Decision:
    what: str
    total: str  # headline
    total_explained: str  # the range in words, and what it is made of
    breakdown: list[tuple[str, str]] = field(default_factory=list)
    delivery: str = "not planned"
    delivery_explained: str = ""
    risks: list[Risk] = field(default_factory=list)
    risks_note: str = ""
    ask: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str]]:
        """One line each, for the terminal."""
        out = [("What", self.what), ("Total cost", f"{self.total} ({self.total_explained})"),
               ("Delivery", f"{self.delivery}" + (f" ({self.delivery_explained})"
                                                   if self.delivery_explained else ""))]
        for i, r in enumerate(self.risks, 1):
            out.append((f"Risk {i}", f"{r.title}: {_prob(r)}, {_cost(r)}"))
        out.append(("Decision asked", self.ask))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "total": self.total, "total_explained": self.total_explained,
                "breakdown": dict(self.breakdown), "delivery": self.delivery,
                "risks": [r.to_dict() for r in self.risks], "decision": self.ask, **self.data}


def _prob(r: Risk) -> str:
    if r.probability is None:
        return "probability not estimated"
    if r.blocker and r.probability >= 1.0:
        return "certain as the spec stands (100% chance)"
    return f"{fmt.chance(r.probability)} chance"


def _cost(r: Risk) -> str:
    return "cost not estimated" if r.cost_usd is None else \
        f"costs {fmt.money(r.cost_usd, compact=True)}"


def risk_probability(r: Risk) -> str:
    return _prob(r)


def risk_cost(r: Risk) -> str:
    return _cost(r)


def _people(ctx: ReportContext) -> tuple[float, str] | None:
    t = ctx.timeline()
    if not t.phases or not t.team:
        return None
    rate, assumed = ctx.rate
    weeks = t.total_weeks
    usd = t.team_fte * rate * weeks / WEEKS_PER_YEAR
    how = (f"{t.team_fte:.3g} FTE × {weeks:.3g} weeks at {fmt.money(rate)} per FTE-year"
           + (" (assumed loaded cost; set plan.loaded_cost_usd_per_fte_year or --loaded-rate)"
              if assumed else " (loaded cost from the spec)"))
    return usd, how


def build_decision(ctx: ReportContext, sections: list[Section]) -> Decision:
    spec = ctx.spec
    by_id = {s.id: s for s in sections}
    graph = ctx.graph()
    from mlscope.architecture.views import first_sentence

    what = (spec.project.description or first_sentence(graph.summary) or graph.title)
    what = what.rstrip(".") + "."
    people = _people(ctx)
    cloud = ctx.costs()["total"]["horizon"] if _ok(by_id, "monthly-cost") else None
    dec = Decision(what=what, total="not computed", total_explained="")
    fixed = 0.0
    if people:
        fixed += people[0]
        dec.breakdown.append(("People (the plan's team)", f"{fmt.money(people[0])}: {people[1]}"))
    else:
        dec.breakdown.append(("People", "not priced: the spec has no `plan:` with phases and "
                                        "a team"))
    if cloud:
        months = len(ctx.costs()["months"])
        build, run = _split_build_run(ctx)
        dec.breakdown.append((f"Cloud, first {months} months", f"{fmt.money(cloud['p50'])} "
                              f"typical ({between(cloud['p10'], cloud['p90'])}): build "
                              f"{fmt.money(build)} while the plan runs, run {fmt.money(run)} "
                              "after it (medians)"))
        p10, p50, p90 = (fixed + cloud[k] for k in ("p10", "p50", "p90"))
        dec.total = fmt.money(p50, compact=True)
        shares = ([f"people {fmt.money(people[0], compact=True)}"] if people else []) + \
            [f"cloud {fmt.money(cloud['p50'], compact=True)}"]
        dec.total_explained = (f"{between(p10, p90)}: " + " + ".join(shares)
                               + f" over the first {months} months")
        dec.data["total_usd"] = {"p10": round(p10, 2), "p50": round(p50, 2),
                                 "p90": round(p90, 2)}
    elif people:
        dec.total = fmt.money(fixed, compact=True)
        dec.total_explained = ("people only: the cloud is not priced because the spec's "
                               "environments list no resources")
        dec.data["total_usd"] = {"p10": round(fixed, 2), "p50": round(fixed, 2),
                                 "p90": round(fixed, 2)}
    else:
        dec.total_explained = ("the spec has neither a plan with a team nor environments with "
                               "resources to price")
    _delivery(ctx, dec)
    dec.risks, dec.risks_note = _top_risks(ctx, by_id, people)
    dec.ask = _ask(ctx, dec, people, cloud)
    return dec


def _ok(by_id: dict[str, Section], sid: str) -> bool:
    return sid in by_id and by_id[sid].status == "ok"


def _split_build_run(ctx: ReportContext) -> tuple[float, float]:
    """Median cloud spend in the months the plan runs (build) and after it (run)."""
    costs = ctx.costs()
    t = ctx.timeline()
    end = (t.end.year, t.end.month) if t.phases and t.dated else None
    build = run = 0.0
    for label, row in zip(costs["months"], costs["total"]["monthly"], strict=True):
        month = (int(label[:4]), int(label[5:7]))
        if end is not None and month <= end:
            build += row["p50"]
        else:
            run += row["p50"]
    return build, run


def _delivery(ctx: ReportContext, dec: Decision) -> None:
    t = ctx.timeline()
    if not t.phases:
        dec.delivery = "no plan"
        dec.delivery_explained = "add `plan:` phases to the spec"
        return
    lower = " at the earliest (a phase has no time box)" if t.is_lower_bound else ""
    if t.dated:
        mvp = t.mvp_reached
        if mvp:
            dec.delivery = f"MVP {mvp:%d %b %Y}"
            promised = ""
            if t.mvp_date:
                gap = (t.mvp_date - mvp).days
                promised = (f"; {gap} days before the promised {t.mvp_date:%d %b}" if gap > 0
                            else f"; {-gap} days AFTER the promised {t.mvp_date:%d %b}"
                            if gap < 0 else "; on the promised day")
            dec.delivery_explained = (f"full plan done {t.end:%d %b %Y}{lower}{promised}"
                                      + (f"; deadline {t.deadline:%d %b %Y}" if t.deadline
                                         else ""))
        else:
            dec.delivery = f"{t.end:%d %b %Y}"
            dec.delivery_explained = f"end of the last phase{lower}"
    else:
        dec.delivery = f"{t.total_weeks:.3g} weeks after the start"
        dec.delivery_explained = "the plan has no start date" + lower
    dec.data["delivery"] = {"mvp": t.mvp_reached.isoformat() if t.mvp_reached and t.dated
                            else None, "end": t.end.isoformat() if t.dated else None}


def _top_risks(ctx: ReportContext, by_id: dict[str, Section],
               people: tuple[float, str] | None) -> tuple[list[Risk], str]:
    risks: list[Risk] = []
    errors = [f for f in ctx.findings() if f.level == "error" and f.waived is None]
    if errors:
        risks.append(Risk(
            f"{len(errors)} readiness gap{'s' * (len(errors) != 1)} block production",
            1.0, None, "; ".join(f.message for f in errors[:2]) + " (see Readiness)",
            blocker=True))
    t = ctx.timeline()
    weekly = people[0] / t.total_weeks if people and t.total_weeks else None
    if t.phases and t.dated and t.deadline and t.end > t.deadline:
        late = (t.end - t.deadline).days / 7.0
        risks.append(Risk(f"The plan ends {late:.2g} weeks after the deadline", 1.0,
                          weekly * late if weekly else None,
                          "as planned today; cut or shorten phases (see Plan)", blocker=True))
    if _ok(by_id, "estimate"):
        risks += _estimate_risks(ctx)
    if _ok(by_id, "budget-risk"):
        risks.append(_overrun_risk(ctx))
    if _ok(by_id, "monthly-cost"):
        h = ctx.costs()["total"]["horizon"]
        risks.append(Risk(
            f"The first year's cloud bill exceeds {fmt.money(h['p90'], compact=True)}", 0.1,
            h["p90"] - h["p50"], "1 in 10 chance by construction of the P90 (the pessimistic "
            "end of the range); the cost is the extra over the typical year"))
    if t.phases and weekly:
        longest = max(p.weeks for p in t.phases)
        risks.append(Risk(
            f"One phase runs over by its own length ({longest:.2g} weeks)", None,
            weekly * longest, "the team's cost for that time; how likely it is has not been "
            "estimated (no record of past phases)"))
    ranked = sorted(risks, key=lambda r: (not r.blocker, r.probability is None, -r.expected))
    note = ""
    if len(ranked) < 3:
        note = (f"Only {len(ranked)} risk{'s' * (len(ranked) != 1)} can be sized from this spec"
                + ("; list the environments' resources to size the cloud risks"
                   if not ctx.has_costs() else "") + ".")
    return ranked[:3], note


def _estimate_risks(ctx: ReportContext) -> list[Risk]:
    est = ctx.estimate()
    out: list[Risk] = []
    mem = est.get("memory") or {}
    if mem and mem.get("fits") is False:
        out.append(Risk("The training configuration in the spec does not fit in memory", 1.0,
                        None, "the run would fail at start; the Training estimate section "
                              "shows the smallest configuration that fits", blocker=True))
    # The figure of a configuration that cannot run is no risk estimate: use the one that fits.
    cost = est.get("cost_usd") if mem.get("fits") is not False else \
        (est.get("best") or {}).get("cost_usd")
    if cost:
        # Only a rate the spec states: the default of one a month would price a one-off run
        # (pre-training) twelve times.
        training = ctx.spec.training
        runs = training.runs_per_month if "runs_per_month" in training.model_fields_set else None
        per = cost["p90"] - cost["p50"]
        out.append(Risk(
            f"A training run costs more than {fmt.money(cost['p90'], compact=True)}", 0.1,
            per * (runs * 12 if runs else 1),
            "1 in 10 chance for each run (the P90); the cost is the extra over the typical run"
            + (f", over a year of {runs:g} runs a month" if runs else ", for one run")))
    return out


def _overrun_risk(ctx: ReportContext) -> Risk:
    costs = ctx.costs()
    budget = costs["budget"]
    limit = float(budget["monthly_usd"])
    p_any = float(budget["any_month_overrun_probability"])
    excess = None
    try:
        totals = np.asarray(ctx.cost_draws())
        excess = float(np.maximum(totals - limit, 0.0).sum(axis=1).mean())
    except MlscopeError:
        pass
    worst = max(budget["overrun_probability_by_month"])
    label = costs["months"][int(budget["worst_month_index"])]
    month = dt.date(int(label[:4]), int(label[5:7]), 1).strftime("%b %Y")
    return Risk(
        f"The cloud bill goes over the {fmt.money(limit, compact=True)} monthly budget",
        p_any, excess,
        f"that is the chance that at least one of the {len(costs['months'])} months does; "
        f"{fmt.chance(worst)} in the riskiest month ({month}); the cost is the expected "
        "amount over budget across the year")


def _ask(ctx: ReportContext, dec: Decision, people: tuple[float, str] | None,
         cloud: dict[str, float] | None) -> str:
    if ctx.spec.plan.decision:
        return ctx.spec.plan.decision
    t = ctx.timeline()
    bits = []
    if t.phases:
        team = f" with {len(t.team)} people ({t.team_fte:.3g} FTE)" if t.team else ""
        bits.append(f"the {len(t.phases)}-phase, {t.total_weeks:.3g}-week plan{team}")
    if people:
        bits.append(f"{fmt.money(people[0], compact=True)} for the team")
    budget = ctx.spec.budget.monthly_usd
    if cloud and budget:
        bits.append(f"a cloud budget of {fmt.money(budget, compact=True)} a month")
    elif cloud:
        bits.append(f"about {fmt.money(cloud['p50'] / len(ctx.costs()['months']), True)} a month "
                    "of cloud spend")
    if not bits:
        return ("Agree the scope: add a plan, a team and environments to this spec so the "
                "cost and the date can be computed.")
    return "Approve " + ", ".join(bits[:-1]) + (" and " if len(bits) > 1 else "") + bits[-1] \
        + (f", to deliver {dec.delivery}." if t.phases else ".")
