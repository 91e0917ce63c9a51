"""Spec section `architecture`: overrides on top of the use case's blueprint.

    architecture:
      add:    [{id: consent, kind: data_validation, label: "Consent check"}]
      remove: [batch]
      rename: {api: "Recommendations API v2"}
      flows:  [{from: consent, to: lake, label: "consented events"}]   # new, or relabels one
      remove_flows: [{from: app, to: api}]
"""

from __future__ import annotations

from pydantic import Field, field_validator

from mlscope.spec.base import SpecModel

ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class ComponentAdd(SpecModel):
    id: str = Field(pattern=ID_PATTERN, description="New component id (lowercase, _).")
    kind: str = Field(description="A component kind; `mlscope explain --list` shows them.")
    label: str | None = Field(None, min_length=1, max_length=80)
    aws: str | None = Field(None, description="AWS service to show instead of the default.")
    oss: str | None = Field(None, description="Open-source alternative to show.")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        # Imported here: the catalog is data owned by the architecture engine.
        from mlscope.architecture.catalog import get_component_catalog
        from mlscope.errors import UnknownNameError

        try:
            return get_component_catalog().kind(value).id
        except UnknownNameError as exc:  # pydantic turns ValueError into a located problem
            raise ValueError(exc.one_line()) from None

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


class ArchitectureSection(SpecModel):
    """Overrides on top of the use case's blueprint at the project's MLOps level."""

    add: list[ComponentAdd] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list, description="Component ids to drop.")
    rename: dict[str, str] = Field(default_factory=dict, description="Component id -> new label.")
    flows: list[FlowSpec] = Field(default_factory=list)
    remove_flows: list[FlowRef] = Field(default_factory=list)
