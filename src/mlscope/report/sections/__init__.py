"""Each report section is built by one function from the spec; this module runs them all.

A section whose engine is missing, or which fails on this spec, keeps its place in the report
with a plain notice; the others are unaffected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlscope.errors import MlscopeError
from mlscope.report.model import EngineUnavailable, Section
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

# id -> (title, lead, engine) of each section, used when its builder cannot finish.
_PLACEHOLDERS: dict[str, tuple[str, str, str]] = {
    "architecture": ("Architecture", "The components the system needs and their AWS services.",
                     "architecture engine"),
    "readiness": ("Readiness", "What the chosen MLOps level needs but the project lacks.",
                  "architecture engine"),
    "estimate": ("Training estimate", "How long one training run takes and what it costs.",
                 "training estimator"),
    "monthly-cost": ("Monthly cost", "What running the system costs each month.", "cost engine"),
    "budget-risk": ("Budget and overrun risk", "The chance of going over the monthly budget.",
                    "cost engine"),
    "plan": ("Plan", "Short, time-boxed experiments and features, each ending with a demo.",
             "plan"),
    "inference": ("On-device assistant", "The voice loop on the device and in the cloud.",
                  "inference estimator"),
    "actuals": ("Actual vs plan", "What AWS actually charged against the plan.",
                "billing engine"),
}


def _guarded(section_id: str, builder: Callable[[], Section]) -> Section:
    try:
        return builder()
    except EngineUnavailable as exc:
        return _placeholder(section_id).unavailable(str(exc))
    except MlscopeError as exc:
        return _placeholder(section_id).unavailable(
            f"could not be computed for this spec: {exc.one_line()}", "no-input")
    except NotImplementedError as exc:
        return _placeholder(section_id).unavailable(f"not available yet: {exc}")
    except Exception as exc:  # one engine's bug must not hide the other sections
        return _placeholder(section_id).unavailable(
            f"the {_PLACEHOLDERS[section_id][2]} failed on this spec ({type(exc).__name__}: "
            f"{exc}); please report this bug", "failed")


def _placeholder(section_id: str) -> Section:
    title, lead, _ = _PLACEHOLDERS[section_id]
    return Section(section_id, title, lead)


def build_sections(spec: ProjectSpec) -> list[Section]:
    cost_data: dict[str, Any] = {}

    def monthly() -> Section:
        cost_data.update(costs.cost_report(spec))
        return costs.build_monthly(spec, cost_data)

    def risk() -> Section:
        if not cost_data:
            cost_data.update(costs.cost_report(spec))
        return costs.build_risk(spec, cost_data)

    built = [
        _guarded("architecture", lambda: architecture.build_diagram(spec)),
        _guarded("readiness", lambda: architecture.build_readiness(spec)),
        _guarded("estimate", lambda: estimate.build(spec)),
        _guarded("monthly-cost", monthly),
        _guarded("budget-risk", risk),
        _guarded("plan", lambda: plan.build(spec)),
        _guarded("inference", lambda: inference.build(spec)),
    ]
    if spec.billing is not None:  # only with an export: no section, no numbers without one
        built.append(_guarded("actuals", lambda: billing.build(spec)))
    built.append(assumptions.build(built))
    return built
