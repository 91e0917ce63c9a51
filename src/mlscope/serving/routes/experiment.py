"""A/B (and bandit) routing in the prediction service, plus outcomes posted back.

With an experiment configured, `/predict` and `/invocations` route each request to the
champion (the app's own holder, e.g. the prod alias) or a challenger (another alias, loaded and
validated by its own holder, hot-swapped the same way) by the unit id in the `X-Unit-Id`
header: a sticky SHA-256 split with the configured weights, or a bandit policy (Thompson, UCB1,
epsilon-greedy) whose state is updated from the outcomes of its reward metric and persisted.
Each assignment (experiment, unit, variant) goes to the append-only outcome store; request
bodies are never logged. A request without a unit id is served by the champion and counted as
unassigned. `POST /outcome` and `GET /experiment` come from `serving.experiment_routes`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from mlscope.errors import InputError
from mlscope.release.experiments.assignment import Split
from mlscope.release.experiments.bandits import POLICIES, BanditState
from mlscope.release.experiments.store import OutcomeStore
from mlscope.serving.context import Router, ServingContext
from mlscope.serving.experiment_routes import Experiment, Outcome
from mlscope.serving.holder import ModelHolder
from mlscope.serving.source import ModelSource

log = logging.getLogger("mlscope.serving")
UNIT_HEADER = "x-unit-id"
CHAMPION = "champion"


@dataclass
class ExperimentConfig:
    name: str
    store: Path
    challengers: dict[str, ModelSource]  # variant name -> where its model comes from
    weights: dict[str, float]  # includes "champion"
    policy: str = "split"  # split | thompson | thompson-gaussian | ucb1 | epsilon
    reward_metric: str | None = None  # the outcome metric a bandit learns from
    state_file: Path | None = None  # bandit state (JSON), persisted after each update
    poll_s: float = 5.0
    seed: int | None = None
    variants: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.variants = [CHAMPION, *self.challengers]
        if CHAMPION in self.challengers:
            raise InputError("a challenger cannot be called 'champion'")
        if set(self.weights) != set(self.variants):
            raise InputError(f"weights name {sorted(self.weights)}, variants are "
                             f"{sorted(self.variants)}", "give one weight per variant")
        if self.policy != "split" and self.policy not in POLICIES:
            raise InputError(f"unknown routing policy '{self.policy}'",
                             f"use split or one of {', '.join(POLICIES)}")
        if self.policy != "split" and not self.reward_metric:
            raise InputError("a bandit policy needs the outcome metric it learns from",
                             "give --reward METRIC")


class _Router:
    def __init__(self, cfg: ExperimentConfig) -> None:
        self.cfg = cfg
        store = OutcomeStore(cfg.store)
        split = Split(cfg.name, tuple(cfg.variants), tuple(cfg.weights[v] for v in cfg.variants))
        self.experiment = Experiment(split, store)
        self.holders = {name: ModelHolder(src) for name, src in cfg.challengers.items()}
        self.bandit = self._load_bandit()
        self.assigned: dict[str, str] = {}  # unit -> variant (sticky bandit arms)
        self.rng = np.random.default_rng(cfg.seed)
        self.lock = threading.Lock()
        for holder in self.holders.values():
            holder.start_polling(cfg.poll_s)

    def _load_bandit(self) -> BanditState | None:
        if self.cfg.policy == "split":
            return None
        path = self.cfg.state_file
        if path is not None and path.exists():
            data = json.loads(path.read_text())
            state = BanditState(**data)
            if state.arms == self.cfg.variants and state.policy == self.cfg.policy:
                return state
            log.warning("bandit state in %s is for other arms or policy; starting afresh", path)
        return BanditState(list(self.cfg.variants), self.cfg.policy)

    def _save_bandit(self) -> None:
        if self.bandit is None or self.cfg.state_file is None:
            return
        tmp = self.cfg.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.bandit.as_dict()))
        os.replace(tmp, self.cfg.state_file)  # a crash never leaves half a state

    def choose(self, unit_id: str) -> str:
        if self.bandit is None:
            return self.experiment.split.assign(unit_id)
        with self.lock:
            if unit_id not in self.assigned:
                arm = self.bandit.choose(self.rng)
                self.assigned[unit_id] = self.bandit.arms[arm]
            return self.assigned[unit_id]

    def reward(self, unit_id: str, metric: str, value: float) -> None:
        if self.bandit is None or metric != self.cfg.reward_metric:
            return
        with self.lock:
            variant = self.assigned.get(unit_id)
            if variant is None:
                return
            self.bandit.update(self.bandit.arms.index(variant), value)
            self._save_bandit()

    def model_for(self, variant: str, ctx: ServingContext) -> Any:
        if variant == CHAMPION:
            return ctx.holder.current
        holder = self.holders[variant]
        if holder.current is None:
            holder.refresh()
        return holder.current


def experiment_router(cfg: ExperimentConfig) -> Router:
    """A router for `create_app(routers=[...])` that replaces the plain predict route."""

    def register(app: FastAPI, ctx: ServingContext) -> None:
        from mlscope.serving.routes.predict import answer

        router = _Router(cfg)
        ctx.routes.update({"/invocations", "/predict", "/outcome", "/experiment"})
        served = Counter("mlscope_variant_requests_total",
                         "Prediction requests by experiment variant.", ["variant"],
                         registry=ctx.metrics.registry)

        async def predict(request: Request) -> Any:
            unit = request.headers.get(UNIT_HEADER, "")
            if unit and (len(unit) > 128 or not unit.isprintable()):
                return JSONResponse(status_code=422, content={
                    "error": "invalid input", "reasons": ["X-Unit-Id: at most 128 printable "
                                                          "characters"]})
            variant = CHAMPION
            if unit:
                variant = router.choose(unit)
                await run_in_threadpool(router.experiment.store.record_assignment,
                                        cfg.name, unit, variant)
            loaded = await run_in_threadpool(router.model_for, variant, ctx)
            if loaded is None and variant != CHAMPION:
                variant, loaded = CHAMPION, ctx.holder.current  # challenger down: fall back
                ctx.metrics.fallbacks.labels("challenger_unavailable").inc()
            if loaded is None:
                return JSONResponse(status_code=503, content={"error": "no model loaded yet"})
            served.labels(variant if unit else "unassigned").inc()
            out = await answer(ctx, loaded, request)
            if isinstance(out, dict):
                out["variant"] = variant
            return out

        app.add_api_route("/invocations", predict, methods=["POST"], include_in_schema=False)
        app.add_api_route("/predict", predict, methods=["POST"])

        @app.post("/outcome", status_code=202)
        async def outcome(body: Outcome) -> dict[str, Any]:
            await run_in_threadpool(router.experiment.store.record_outcome, cfg.name,
                                    body.unit_id, body.metric, body.value)
            await run_in_threadpool(router.reward, body.unit_id, body.metric, body.value)
            return {"recorded": True, "experiment": cfg.name}

        @app.get("/experiment")
        async def status() -> dict[str, Any]:
            counts = await run_in_threadpool(router.experiment.store.counts, cfg.name)
            return {"experiment": cfg.name, "policy": cfg.policy, "weights": cfg.weights,
                    "units": counts, "challengers": {
                        n: (h.current.version if h.current else None)
                        for n, h in router.holders.items()},
                    "bandit": router.bandit.as_dict() if router.bandit else None}

    return register


def routers_for(cfg: ExperimentConfig) -> list[Callable[[FastAPI, ServingContext], None]]:
    """The experiment router in place of the plain predict route; /recommend stays."""
    from mlscope.serving.routes import recommend

    return [experiment_router(cfg), recommend.register]


def config_from_flags(name: str, challengers: tuple[str, ...], weights: str | None, policy: str,
                      reward: str | None, outcomes: Path | None, *, model: str | None,
                      tracking_uri: str | None, poll_s: float) -> ExperimentConfig:
    """`serve --experiment` flags to a config; challengers follow registry aliases."""
    from mlscope.release.experiments.analysis import parse_weights
    from mlscope.release.state import state_dir
    from mlscope.serving.source import AliasSource

    if not challengers:
        raise InputError("an experiment needs at least one challenger",
                         "add --challenger NAME=ALIAS, e.g. --challenger challenger=qa")
    if not model:
        raise InputError("challengers follow registry aliases, so --experiment needs --model")
    sources: dict[str, ModelSource] = {}
    for item in challengers:
        variant, sep, alias = item.partition("=")
        if not sep or not variant or not alias:
            raise InputError(f"bad --challenger '{item}'", "write it as NAME=ALIAS")
        sources[variant] = AliasSource(model, alias, tracking_uri)
    names = [CHAMPION, *sources]
    split = parse_weights(weights) if weights else {n: 1 / len(names) for n in names}
    store = outcomes or state_dir() / f"{name}.sqlite"
    return ExperimentConfig(name=name, store=store, challengers=sources, weights=split,
                            policy=policy, reward_metric=reward,
                            state_file=store.with_suffix(".bandit.json"), poll_s=poll_s)
