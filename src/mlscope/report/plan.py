"""The time-boxed plan: lay the spec's phases on a calendar and flag what sponsors would miss.

Phases run one after another. `weeks` are calendar weeks; `days` are working days (Mon-Fri).
A phase without a time box takes no time on the calendar, so every date after it is a lower
bound; that is flagged rather than guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from mlscope.spec.models import ProjectSpec
from mlscope.spec.plan import PhaseSection, PlanSection

# Longer than this and sponsors go a month without seeing progress: split the phase.
MAX_TIME_BOX_WEEKS = 4.0
# Without a start date, phases are laid out from a nominal Monday and shown as week offsets.
_NOMINAL_START = dt.date(2024, 1, 1)

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class PlanFinding:
    level: Level
    rule: str
    message: str
    fix: str
    phase: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScheduledPhase:
    name: str
    kind: str
    start: dt.date
    end: dt.date  # exclusive: the day the next phase may start
    last_day: dt.date
    time_box: str | None  # as written: "2 weeks", "8 working days"; None when missing
    demo: str | None
    goal: str | None
    mvp: bool

    @property
    def time_boxed(self) -> bool:
        return self.time_box is not None

    @property
    def weeks(self) -> float:
        return (self.end - self.start).days / 7.0

    def to_dict(self, origin: dt.date, dated: bool) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "time_box": self.time_box,
            "start": self.start.isoformat() if dated else None,
            "last_day": self.last_day.isoformat() if dated else None,
            "start_week": (self.start - origin).days / 7.0, "weeks": self.weeks,
            "demo": self.demo, "goal": self.goal, "mvp": self.mvp,
        }


@dataclass
class Timeline:
    """The plan on a calendar. `dated` is False when the spec gives no start date."""

    dated: bool
    origin: dt.date
    phases: list[ScheduledPhase]
    mvp_date: dt.date | None
    deadline: dt.date | None
    team: list[dict[str, Any]]
    findings: list[PlanFinding] = field(default_factory=list)

    @property
    def end(self) -> dt.date:
        return self.phases[-1].last_day if self.phases else self.origin

    @property
    def total_weeks(self) -> float:
        return ((self.phases[-1].end - self.origin).days / 7.0) if self.phases else 0.0

    @property
    def mvp_reached(self) -> dt.date | None:
        marked = [p for p in self.phases if p.mvp]
        return marked[-1].last_day if marked else None

    @property
    def is_lower_bound(self) -> bool:
        return any(not p.time_boxed for p in self.phases)

    @property
    def mvp_is_lower_bound(self) -> bool:
        """True when a phase up to the (last) MVP phase has no time box."""
        marked = [i for i, p in enumerate(self.phases) if p.mvp]
        return bool(marked) and any(not p.time_boxed for p in self.phases[:marked[-1] + 1])

    @property
    def team_fte(self) -> float:
        return float(sum(m["allocation"] for m in self.team))

    def to_dict(self) -> dict[str, Any]:
        def iso(d: dt.date | None) -> str | None:
            return d.isoformat() if d and self.dated else None

        return {
            "dated": self.dated,
            "start": iso(self.origin),
            "end": iso(self.end) if self.phases else None,
            "total_weeks": self.total_weeks,
            "end_is_lower_bound": self.is_lower_bound,
            "mvp_date": self.mvp_date.isoformat() if self.mvp_date else None,
            "mvp_reached": iso(self.mvp_reached),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "team": self.team,
            "team_fte": self.team_fte,
            "phases": [p.to_dict(self.origin, self.dated) for p in self.phases],
            "findings": [f.to_dict() for f in self.findings],
        }


def _phase_end(start: dt.date, phase: PhaseSection) -> tuple[dt.date, dt.date]:
    """Exclusive end and last working day of a phase that begins on `start`."""
    if phase.weeks is not None:
        end = start + dt.timedelta(days=round(phase.weeks * 7))
    elif phase.days is not None:
        # busday_offset rolls a weekend start to Monday, then counts working days.
        end = np.busday_offset(np.datetime64(start), phase.days, roll="forward").astype(dt.date)
    else:
        return start, start
    # The last day worked: a two-week phase from a Monday ends on the second Friday.
    last = np.busday_offset(np.datetime64(end - dt.timedelta(days=1)), 0, roll="backward")
    return end, max(start, last.astype(dt.date))


def _time_box(phase: PhaseSection) -> str | None:
    if phase.weeks is not None:
        return f"{phase.weeks:g} week{'s' if phase.weeks != 1 else ''}"
    if phase.days is not None:
        return f"{phase.days} working day{'s' if phase.days != 1 else ''}"
    return None


def _demo_text(demo: bool | str) -> str | None:
    if isinstance(demo, str):
        return demo.strip() or None
    return "demo" if demo else None


def schedule(plan: PlanSection) -> Timeline:
    """Lay the phases end to end from the start date and check the plan."""
    origin = plan.start or _NOMINAL_START
    cursor = origin
    phases: list[ScheduledPhase] = []
    for p in plan.phases:
        end, last = _phase_end(cursor, p)
        phases.append(ScheduledPhase(
            name=p.name, kind=p.kind, start=cursor, end=end, last_day=last,
            time_box=_time_box(p),
            demo=_demo_text(p.demo), goal=p.goal, mvp=p.mvp))
        cursor = end
    timeline = Timeline(
        dated=plan.start is not None, origin=origin, phases=phases, mvp_date=plan.mvp,
        deadline=plan.deadline, team=[m.model_dump() for m in plan.team])
    timeline.findings = check(timeline)
    return timeline


def check(t: Timeline) -> list[PlanFinding]:
    """Every problem a sponsor or a delivery lead would raise about this plan, worst first."""
    out: list[PlanFinding] = []
    if not t.phases:
        out.append(PlanFinding(
            "warning", "no-phases", "the plan has no phases",
            "add `plan: phases:` with time-boxed experiments and features (see docs/report.md)"))
    for p in t.phases:
        out.extend(_check_phase(p))
    out.extend(_check_dates(t))
    if not t.dated and t.phases:
        out.append(PlanFinding(
            "info", "no-start", "no start date: phases are shown as weeks from the start",
            "add `plan: start: YYYY-MM-DD` to see calendar dates"))
    if t.phases and not t.deadline:
        out.append(PlanFinding(
            "info", "no-deadline", "no deadline: nothing to check the plan's end against",
            "add `plan: deadline: YYYY-MM-DD`"))
    rank = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda f: rank[f.level])


def _check_phase(p: ScheduledPhase) -> list[PlanFinding]:
    out = []
    if not p.time_boxed:
        out.append(PlanFinding(
            "warning", "no-time-box",
            f"phase '{p.name}' has no time box; later dates are a lower bound",
            f"give '{p.name}' `weeks:` or `days:`; when the box is over, stop and decide", p.name))
    elif p.weeks > MAX_TIME_BOX_WEEKS:
        out.append(PlanFinding(
            "warning", "long-time-box",
            f"phase '{p.name}' lasts {p.weeks:g} weeks, more than {MAX_TIME_BOX_WEEKS:g}",
            "split it into shorter phases, each ending with something to show", p.name))
    if p.demo is None:
        what = "feature" if p.kind == "feature" else "experiment's result"
        out.append(PlanFinding(
            "warning", "no-demo", f"phase '{p.name}' ends without a demo",
            f"set `demo:` to what sponsors will see of the {what} at the end", p.name))
    return out


def _check_dates(t: Timeline) -> list[PlanFinding]:
    out: list[PlanFinding] = []
    if not t.phases:
        return out
    bound = "no earlier than" if t.is_lower_bound else "on"
    if t.deadline and t.dated and t.end > t.deadline:
        late = (t.end - t.deadline).days
        out.append(PlanFinding(
            "error", "after-deadline",
            f"the plan ends {bound} {t.end}, {late} days after the deadline {t.deadline}",
            "cut or shorten phases, or move the deadline with the sponsors' agreement"))
    if t.mvp_date:
        reached = t.mvp_reached
        if reached is None:
            out.append(PlanFinding(
                "info", "no-mvp-phase",
                f"an MVP date ({t.mvp_date}) is set but no phase is marked `mvp: true`",
                "mark the phase whose end completes the MVP with `mvp: true`"))
        elif t.dated and reached > t.mvp_date:
            late = (reached - t.mvp_date).days
            bound = "no earlier than" if t.mvp_is_lower_bound else "on"
            out.append(PlanFinding(
                "error", "after-mvp-date",
                f"the MVP is reached {bound} {reached}, {late} days after the MVP date "
                f"{t.mvp_date}",
                "move phases after the MVP or shorten the ones before it"))
    return out


def phase_when(t: Timeline, p: ScheduledPhase, year: bool = False) -> str:
    """'04 Jan – 15 Jan', 'from 01 Mar' (no time box), or 'week 2' without a start date."""
    if not t.dated:
        return f"week {(p.start - t.origin).days / 7:.3g}"
    end = f"{p.last_day:%d %b %Y}" if year else f"{p.last_day:%d %b}"
    return f"{p.start:%d %b} – {end}" if p.time_boxed else f"from {p.start:%d %b}"


def summary_line(t: Timeline) -> str:
    """One line: when the plan ends, against the deadline."""
    if not t.phases:
        return "no phases planned"
    if not t.dated:
        return (f"{'at least ' if t.is_lower_bound else ''}{t.total_weeks:.3g} weeks "
                "(no start date)")
    line = f"ends {'no earlier than ' if t.is_lower_bound else ''}{t.end:%d %b %Y}"
    if t.deadline:
        gap = (t.deadline - t.end).days
        line += (f", {gap} days before the deadline" if gap >= 0
                 else f", {-gap} days AFTER the deadline")
    return line


def timeline_for(spec: ProjectSpec) -> Timeline:
    return schedule(spec.plan)
