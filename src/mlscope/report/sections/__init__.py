"""The report's sections, in page order, and the loop that builds them.

To add a section: write `report/sections/<name>.py` with `build(ctx, sec) -> None` (fill `sec`,
raise `Skip("why")` when the spec gives it nothing to show), import it below and add one line to
SECTIONS. A section that raises anything else is kept in place as "failed" with the reason, and
`mlscope report` exits 1 naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlscope.errors import MlscopeError
from mlscope.report.context import ReportContext
from mlscope.report.model import Section, Skip
from mlscope.report.sections import (
    architecture,
    assumptions,
    billing,
    costs,
    estimate,
    inference,
    plan,
)
from mlscope.spec.models import ProjectSpec

Builder = Callable[[ReportContext, Section], None]


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    lead: str  # one plain sentence: what this section tells a sponsor
    build: Builder
    when: Callable[[ProjectSpec], bool] | None = None  # shown only for specs that pass


def legacy(build: Callable[[ProjectSpec], Section]) -> Builder:
    """A section written as `build(spec) -> Section` (it needs nothing but the spec)."""

    def run(ctx: ReportContext, sec: Section) -> None:
        got = build(ctx.spec)
        if got.status == "no-input":
            raise Skip(got.notice)
        for name in ("status", "notice", "facts", "figures", "tables", "findings", "notes",
                     "assumptions", "sources", "lists", "data", "attachments"):
            setattr(sec, name, getattr(got, name))

    return run


# One line per section, in page order.
SECTIONS: list[Entry] = [
    Entry("system", "The system on one slide", "Who uses it, where the model acts, what it learns from, who approves it and what it costs.", architecture.build_system),  # noqa: E501
    Entry("experience", "What the user sees", "The user's experience step by step, where the model acts, and what happens when it is down.", architecture.build_experience),  # noqa: E501
    Entry("plan", "Plan", "Short, time-boxed experiments and features, each ending with a demo, so sponsors see progress every few weeks.", plan.build),  # noqa: E501
    Entry("demos", "Demo calendar", "The demo that ends each phase: when, who attends, and the question it answers.", plan.build_demos),  # noqa: E501
    Entry("monthly-cost", "Monthly cost", "What running the system costs each month in each environment, and what switching things off out of hours saves.", costs.build_monthly),  # noqa: E501
    Entry("budget-risk", "Budget and overrun risk", "The monthly budget, the range of likely monthly costs, and the chance of going over.", costs.build_risk),  # noqa: E501
    Entry("estimate", "Training estimate", "How long one training run takes and what it costs, as a range, and the instance options that trade time against money.", estimate.build),  # noqa: E501
    Entry("inference", "On-device assistant", "Whether the assistant runs on the device, how long a user waits for an answer, stage by stage, and what the same assistant costs in the cloud.", legacy(inference.build)),  # noqa: E501
    Entry("architecture", "Architecture (for engineers)", "Every component by lifecycle stage, left to right, with numbered flows and the AWS services behind them.", architecture.build_diagram),  # noqa: E501
    Entry("actuals", "Actual vs plan", "What AWS actually charged, from the billing export, against the planned range.", legacy(billing.build), when=lambda spec: spec.billing is not None),  # noqa: E501
    Entry("readiness", "Readiness", "What the chosen MLOps level needs but the project does not have yet, worst first, and the gaps accepted by a waiver.", architecture.build_readiness),  # noqa: E501
]


def build_sections(ctx: ReportContext | ProjectSpec) -> list[Section]:
    """Every section in page order, then the assumptions; a bare spec is reported as of today."""
    if isinstance(ctx, ProjectSpec):
        import datetime as dt

        ctx = ReportContext(ctx, dt.datetime.now(dt.UTC).date())
    built = [run_section(ctx, e) for e in SECTIONS if e.when is None or e.when(ctx.spec)]
    built.append(assumptions.build(built))
    return built


def run_section(ctx: ReportContext, entry: Entry) -> Section:
    sec = Section(entry.id, entry.title, entry.lead)
    try:
        entry.build(ctx, sec)
    except Skip as why:
        return Section(entry.id, entry.title, entry.lead).unavailable(str(why), "no-input")
    except MlscopeError as exc:
        return Section(entry.id, entry.title, entry.lead).unavailable(
            f"failed: {exc.one_line()}", "failed")
    except Exception as exc:  # one engine's bug must not hide the other sections
        return Section(entry.id, entry.title, entry.lead).unavailable(
            f"failed with a bug ({type(exc).__name__}: {exc}); please report it", "failed")
    return sec
