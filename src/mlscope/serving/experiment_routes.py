"""Experiment endpoints of the prediction service: outcomes posted back, assignment counts.

`POST /outcome` records {unit_id, metric, value} in the append-only outcome store with the
experiment it belongs to; the body is validated strictly (finite numbers, bounded names), so a
bad client gets a 422 with reasons and cannot grow the store with garbage. Bodies are never
logged. `GET /experiment` shows the configured split and the units assigned so far.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
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


def add_experiment_routes(app: FastAPI, experiment: Experiment) -> None:
    @app.post("/outcome", status_code=202)
    async def outcome(body: Outcome) -> dict[str, Any]:
        await run_in_threadpool(experiment.store.record_outcome, experiment.split.experiment,
                                body.unit_id, body.metric, body.value)
        return {"recorded": True, "experiment": experiment.split.experiment}

    @app.get("/experiment")
    async def status() -> dict[str, Any]:
        counts = await run_in_threadpool(experiment.store.counts, experiment.split.experiment)
        return {"experiment": experiment.split.experiment,
                "weights": dict(zip(experiment.split.variants, experiment.split.weights,
                                    strict=True)),
                "units": counts}
