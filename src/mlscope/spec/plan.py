"""Spec section `plan`: time-boxed experiments and features with demos (owned by the report).

A plan is a start date, an MVP date, a deadline, the team, and a sequence of phases. Each phase
should be time-boxed (`weeks` or `days`) and end with a demo; `mlscope plan` flags those that are
not rather than rejecting them, so a draft plan still loads.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from mlscope.spec.base import SpecModel


def _member_from_text(value: object) -> object:
    """Accept `- Ana (ML engineer)` or `- Ana` as shorthand for {name, role}."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(")") and "(" in text:
            name, _, role = text[:-1].partition("(")
            return {"name": name.strip(), "role": role.strip()}
        return {"name": text}
    return value


class TeamMember(SpecModel):
    name: str = Field(min_length=1, description="A person or a role to hire.")
    role: str | None = Field(None, description="What they do on this project.")
    allocation: float = Field(1.0, gt=0, le=1, description="Share of their time (0-1].")


class PhaseSection(SpecModel):
    """One time-boxed step. Phases run one after another, in the order written."""

    name: str = Field(min_length=1, description="e.g. 'ALS baseline'.")
    kind: Literal["experiment", "feature"] = Field(
        "experiment", description="experiment: answers a question; feature: ships something.")
    weeks: float | None = Field(None, gt=0, description="Time box in calendar weeks.")
    days: int | None = Field(None, gt=0, description="Time box in working days (Mon-Fri).")
    demo: bool | str = Field(
        False, description="true, or what is shown to sponsors at the end of the phase.")
    goal: str | None = Field(None, description="The question answered or the outcome shipped.")
    attendees: list[str] = Field(
        default_factory=list,
        description="Who attends the demo (default by kind: sponsors and product for features, "
                    "the team and product owner for experiments).")
    mvp: bool = Field(False, description="Completing this phase completes the MVP.")

    @model_validator(mode="after")
    def _one_time_box(self) -> PhaseSection:
        if self.weeks is not None and self.days is not None:
            raise ValueError("give the time box as weeks or days, not both")
        return self


class PlanSection(SpecModel):
    start: dt.date | None = Field(None, description="First day of the first phase (YYYY-MM-DD).")
    mvp: dt.date | None = Field(None, description="Date the MVP is promised for.")
    deadline: dt.date | None = Field(None, description="Date the whole plan must be done by.")
    team: list[Annotated[TeamMember, BeforeValidator(_member_from_text)]] = Field(
        default_factory=list)
    phases: list[PhaseSection] = Field(default_factory=list)
    loaded_cost_usd_per_fte_year: float | None = Field(
        None, gt=0, allow_inf_nan=False,
        description="Loaded cost of one full-time person for a year (salary, taxes, benefits, "
                    "overhead), to price the team; the report states the default it assumes.")
    decision: str | None = Field(
        None, min_length=1, description="The decision asked of the sponsor, in one sentence "
                                        "(default: approve the plan, team and cloud budget).")

    @model_validator(mode="after")
    def _dates_in_order(self) -> PlanSection:
        for label, later in (("mvp", self.mvp), ("deadline", self.deadline)):
            if self.start and later and later < self.start:
                raise ValueError(f"{label} {later} is before start {self.start}")
        if self.mvp and self.deadline and self.deadline < self.mvp:
            raise ValueError(f"deadline {self.deadline} is before the mvp date {self.mvp}")
        return self
