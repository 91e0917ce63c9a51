"""The root model of mlscope.yaml. Each section lives in the module of the engine that owns it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mlscope.spec.architecture import ArchitectureSection
from mlscope.spec.base import SpecModel
from mlscope.spec.billing import BillingSection
from mlscope.spec.core_sections import (
    DatasetSection,
    ModelSection,
    ProjectSection,
    TrainingSection,
)
from mlscope.spec.costs import BudgetSection, EnvironmentSection
from mlscope.spec.experience import ExperienceSection
from mlscope.spec.inference import InferenceSection
from mlscope.spec.plan import PlanSection
from mlscope.spec.release import ReleaseSection, ServingSection

SPEC_VERSION = 1


class ProjectSpec(SpecModel):
    """An ML project on AWS: what it is, what it trains on, how it runs and ships."""

    version: int = Field(SPEC_VERSION, description="Spec format version.")
    project: ProjectSection
    dataset: DatasetSection = Field(default_factory=DatasetSection)
    model: ModelSection = Field(default_factory=ModelSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    architecture: ArchitectureSection = Field(default_factory=ArchitectureSection)
    environments: list[EnvironmentSection] = Field(default_factory=list)
    budget: BudgetSection = Field(default_factory=BudgetSection)
    serving: ServingSection = Field(default_factory=ServingSection)
    release: ReleaseSection = Field(default_factory=ReleaseSection)
    plan: PlanSection = Field(default_factory=PlanSection)
    inference: InferenceSection | None = None
    billing: BillingSection | None = None
    experience: ExperienceSection = Field(default_factory=ExperienceSection)


def json_schema() -> dict[str, Any]:
    schema = ProjectSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlscope.yaml"
    return schema
