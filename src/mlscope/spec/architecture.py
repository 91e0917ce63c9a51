"""Spec section `architecture`: overrides on top of the use case's blueprint.

    architecture:
      add:    [{id: consent, kind: data_validation, label: "Consent check"}]
      remove: [batch]
      rename: {api: "Recommendations API v2"}
      flows:  [{from: consent, to: lake, label: "consented events"}]   # new, or relabels one
      remove_flows: [{from: app, to: api}]
      waivers: [{rule: ab-testing, reason: "pilot has one variant", expires: 2027-06-30}]

Pure models: kinds, ids and flows are checked against the component catalog and the blueprint by
the architecture engine (`mlscope.architecture.overrides`), which reports each with its line.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from mlscope.spec.base import SpecModel

ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class ComponentAdd(SpecModel):
    id: str = Field(pattern=ID_PATTERN, description="New component id (lowercase, _).")
    kind: str = Field(min_length=1,
                      description="A component kind; `mlscope explain --list` shows them.")
    label: str | None = Field(None, min_length=1, max_length=80)
    aws: str | None = Field(None, description="AWS service to show instead of the default.")
    oss: str | None = Field(None, description="Open-source alternative to show.")

    @field_validator("label")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError("a label must fit on one line")
        return value


class FlowRef(SpecModel):
    from_: str = Field(alias="from", pattern=ID_PATTERN)
    to: str = Field(pattern=ID_PATTERN)


class FlowSpec(FlowRef):
    label: str = Field("", max_length=60)
    loop: bool = Field(False, description="Goes back upstream (feedback, a reply); "
                       "only such flows may close a cycle.")


class Waiver(SpecModel):
    """Accept one readiness finding for a while, with the reason written down."""

    rule: str = Field(min_length=1, description="The finding's rule id (`mlscope check` shows it).")
    components: list[str] = Field(
        default_factory=list,
        description="Only findings about these component ids (default: every finding of the rule).")
    reason: str = Field(min_length=10, description="Why the gap is accepted, for the auditors.")
    expires: dt.date = Field(description="After this date the finding counts again (YYYY-MM-DD).")
    owner: str | None = Field(None, description="Who accepted the risk.")


class ArchitectureSection(SpecModel):
    """Overrides on top of the use case's blueprint at the project's MLOps level."""

    add: list[ComponentAdd] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list, description="Component ids to drop.")
    rename: dict[str, str] = Field(default_factory=dict, description="Component id -> new label.")
    flows: list[FlowSpec] = Field(default_factory=list)
    remove_flows: list[FlowRef] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list,
                                  description="Readiness findings accepted until a date.")
