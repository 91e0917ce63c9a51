"""The report at a glance: estimate, monthly cost, overrun risk, readiness, plan (one line each).

Shown at the top of the page and printed by `mlscope report` (and so by `make demo`).
"""

from __future__ import annotations

from collections.abc import Sequence

from mlscope.report import svg
from mlscope.report.model import Section


def _line(sec: Section, key: str) -> str:
    return dict(sec.facts).get(key, "n/a")


def summary_rows(sections: Sequence[Section]) -> list[tuple[str, str]]:
    by_id = {s.id: s for s in sections}
    rows = []
    for label, sid, fn in (
        ("Training estimate", "estimate", _estimate),
        ("Monthly cost", "monthly-cost", _monthly),
        ("Overrun risk", "budget-risk", _risk),
        ("Readiness", "readiness", _readiness),
        ("Plan", "plan", _plan),
    ):
        sec = by_id.get(sid)
        if sec is None:
            continue
        rows.append((label, fn(sec) if sec.status == "ok" else sec.notice))
    return rows


def _estimate(sec: Section) -> str:
    cost, hours = sec.data.get("cost_usd"), sec.data.get("wall_clock_hours")
    if not cost or not hours:
        return "n/a"
    return (f"{svg.money(cost['p50'])} per run (P10 {svg.money(cost['p10'])} – P90 "
            f"{svg.money(cost['p90'])}), {svg.hours(hours['p50'])} wall-clock")


def _monthly(sec: Section) -> str:
    return _line(sec, "Monthly cost")


def _risk(sec: Section) -> str:
    return _line(sec, "Overrun risk")


def _readiness(sec: Section) -> str:
    counts = sec.data.get("counts") or {}
    errors, warnings, notes = (counts.get(k, 0) for k in ("error", "warning", "info"))
    if not errors and not warnings:
        return "no blocking gaps or warnings" + (f"; {notes} note{'s' * (notes != 1)}"
                                                 if notes else "")
    return (f"{errors} blocking gap{'s' * (errors != 1)}, {warnings} warning"
            f"{'s' * (warnings != 1)}, {notes} note{'s' * (notes != 1)}")


def _plan(sec: Section) -> str:
    return _line(sec, "Plan")
