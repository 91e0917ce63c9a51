"""Section: the time-boxed plan as a Gantt chart, with its findings."""

from __future__ import annotations

import datetime as dt

from mlscope.report import charts, svg
from mlscope.report.context import ReportContext
from mlscope.report.model import Figure, FindingView, Section, Skip, Table
from mlscope.report.plan import ScheduledPhase, Timeline, phase_when, summary_line

# Who comes to a demo when the phase does not say: features are shown to the people who fund
# and use them; experiments answer a question for the team and the product owner.
DEFAULT_ATTENDEES = {"feature": "sponsors, product owner, the team",
                     "experiment": "product owner, the team"}


def _day(t: Timeline, d: dt.date) -> float:
    return float((d - t.origin).days)


def _no_plan(ctx: ReportContext) -> None:
    if not ctx.spec.plan.phases:
        raise Skip("the spec has no `plan:` phases; add them (see docs/report.md) and run "
                   "`mlscope plan FILE`")


def build(ctx: ReportContext, sec: Section) -> None:
    _no_plan(ctx)
    t = ctx.timeline()
    sec.data = t.to_dict()
    bars = [charts.GanttBar(
        name=p.name, kind=p.kind, start_day=_day(t, p.start),
        days=float((p.last_day - p.start).days + 1) if p.time_boxed else 0.0,
        demo=p.demo, time_boxed=p.time_boxed,
        tooltip=f"{p.name} ({p.kind}, {p.time_box or 'no time box'})"
                + (f", {p.start:%d %b} – {p.last_day:%d %b}" if t.dated else "")
                + (f"; demo: {p.demo}" if p.demo else "; no demo")) for p in t.phases]
    # Bars run to the end of their last working day; date lines sit at the end of their day.
    markers: list[tuple[str, float, str]] = []
    if t.dated and t.mvp_date:
        markers.append((f"MVP {t.mvp_date:%d %b}", _day(t, t.mvp_date) + 1, svg.PURPLE))
    if t.dated and t.deadline:
        markers.append((f"deadline {t.deadline:%d %b}", _day(t, t.deadline) + 1, svg.RED))
    sec.figures.append(Figure(
        charts.gantt(bars, origin=t.origin if t.dated else None, markers=markers),
        "Blue bars are experiments, green bars features; an orange diamond is a demo to "
        "sponsors at the end of the phase. Dashed lines mark the MVP date and the deadline."))
    sec.facts = [("Plan", summary_line(t)), ("Phases", str(len(t.phases)))]
    if t.mvp_reached and t.dated:
        sec.facts.append(("MVP reached", f"{t.mvp_reached:%d %b %Y}"
                          + (f" (promised {t.mvp_date:%d %b %Y})" if t.mvp_date else "")))
    if t.team:
        sec.facts.append(("Team", f"{len(t.team)} people, {t.team_fte:.3g} full-time equivalent"))
    rows = []
    for p in t.phases:
        rows.append([p.name + (" (MVP)" if p.mvp else ""), p.kind, phase_when(t, p),
                     p.time_box or "no time box", p.demo or "none", p.goal or ""])
    sec.tables.append(Table(["Phase", "Kind", "When", "Time box", "Demo", "Goal"], rows,
                            "Phases in order; each starts when the previous one ends"))
    if t.team:
        sec.tables.append(Table(
            ["Name", "Role", "Time on project"],
            [[m["name"], m.get("role") or "", f"{m['allocation']:.0%}"] for m in t.team],
            "Team"))
    sec.findings = [FindingView(f.level, f.message, f.fix, rule=f.rule) for f in t.findings]
    sec.assumptions.append("Phases run one after another; `weeks` are calendar weeks and "
                           "`days` are working days (Mon–Fri).")
    sec.sources.append("the `plan:` section of the spec")


def attendees(ctx: ReportContext, p: ScheduledPhase) -> str:
    given = next((ph.attendees for ph in ctx.spec.plan.phases if ph.name == p.name), [])
    return ", ".join(given) if given else DEFAULT_ATTENDEES.get(p.kind, "the team")


def rhythm(t: Timeline) -> str:
    """'model testing, demo, feature 1, demo, ..., full MVP demo' for this plan."""
    steps: list[str] = []
    features = 0
    for p in t.phases:
        if p.kind == "feature":
            features += 1
            steps.append(f"feature {features} ({p.name})")
        else:
            steps.append(f"experiment ({p.name})")
        if p.mvp:
            steps.append("full MVP demo")
        elif p.demo:
            steps.append("demo")
        else:
            steps.append("no demo")
    return ", ".join(steps)


def build_demos(ctx: ReportContext, sec: Section) -> None:
    _no_plan(ctx)
    t = ctx.timeline()
    rows = []
    for i, p in enumerate(t.phases, 1):
        when = (f"{p.last_day:%a %d %b %Y}" if t.dated
                else f"end of week {(p.end - t.origin).days / 7:.3g}")
        rows.append([str(i), when, p.name + (" (MVP)" if p.mvp else ""),
                     p.demo or "no demo planned", attendees(ctx, p), p.goal or ""])
    sec.tables.append(Table(["#", "Demo day", "Phase", "What is shown", "Who attends",
                             "Question it answers"], rows,
                            "Each phase ends with a demo on its last working day"))
    missing = [p.name for p in t.phases if not p.demo]
    sec.facts = [("Rhythm", rhythm(t)),
                 ("Demos", f"{len(t.phases) - len(missing)} of {len(t.phases)} phases")]
    if missing:
        sec.notes.append("No demo in: " + ", ".join(missing) + ". Sponsors who see nothing for "
                         "weeks lose trust; give each phase a demo.")
    sec.data = {"demos": [{"phase": r[2], "day": r[1], "demo": r[3], "attendees": r[4],
                           "question": r[5]} for r in rows]}
