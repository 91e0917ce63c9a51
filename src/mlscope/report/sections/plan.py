"""Section: the time-boxed plan as a Gantt chart, with its findings."""

from __future__ import annotations

import datetime as dt

from mlscope.report import charts, svg
from mlscope.report.model import Figure, FindingView, Section, Table
from mlscope.report.plan import Timeline, phase_when, summary_line, timeline_for
from mlscope.spec.models import ProjectSpec


def _day(t: Timeline, d: dt.date) -> float:
    return float((d - t.origin).days)


def build(spec: ProjectSpec) -> Section:
    sec = Section("plan", "Plan",
                  "Short, time-boxed experiments and features, each ending with a demo, so "
                  "sponsors see progress every few weeks.")
    if not spec.plan.phases:
        return sec.unavailable("the spec has no `plan:` phases; add them (see docs/report.md) "
                               "and run `mlscope plan FILE`", "no-input")
    t = timeline_for(spec)
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
    return sec
