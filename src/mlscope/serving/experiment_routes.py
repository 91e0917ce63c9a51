"""What the service's experiment routes share: a running experiment and the outcome body.

`POST /outcome` bodies ({unit_id, metric, value}) are validated strictly (finite numbers,
bounded names), so a bad client gets a 422 with reasons and cannot fill the store with
garbage. The routes themselves are in `serving.routes.experiment`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from mlscope.release.experiments.assignment import Split
from mlscope.release.experiments.store import OutcomeStore

Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@\-]+$")]


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: Name
    metric: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    value: Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]


class Experiment:
    """A running experiment: its split, and where its assignments and outcomes go."""

    def __init__(self, split: Split, store: OutcomeStore) -> None:
        self.split = split
        self.store = store

    def assign(self, unit_id: str) -> str:
        variant = self.split.assign(unit_id)
        self.store.record_assignment(self.split.experiment, unit_id, variant)
        return variant
