"""MLflow's scoring protocol for any pyfunc model: POST /invocations (SageMaker's contract too)
and /predict with `{"dataframe_records": [...]}`, `{"dataframe_split": {...}}` or
`{"inputs": ...}`. Inputs are checked against the model's signature by MLflow (422 when they do
not match); at most MAX_ROWS rows per request."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from mlscope.serving.context import ServingContext

log = logging.getLogger("mlscope.serving")
MAX_ROWS = 1000


def parse_frame(body: Any) -> Any:
    """The request body (one MLflow scoring-protocol field) as a DataFrame; ValueError if bad."""
    import pandas as pd

    if not isinstance(body, dict) or len(body) != 1:
        raise ValueError("send one of dataframe_records, dataframe_split, inputs")
    key, value = next(iter(body.items()))
    if key == "dataframe_records" and isinstance(value, list):
        frame = pd.DataFrame.from_records(value)
    elif key == "dataframe_split" and isinstance(value, dict):
        frame = pd.DataFrame(data=value.get("data"), columns=value.get("columns"))
    elif key == "inputs" and isinstance(value, list | dict):
        frame = pd.DataFrame(value if isinstance(value, list) else [value])
    else:
        raise ValueError(f"unknown or malformed input field {key!r}")
    if len(frame) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows per request")
    return frame


async def answer(ctx: ServingContext, loaded: Any, request: Request) -> Any:
    """One scoring-protocol answer from `loaded` (a JSONResponse for errors, else a dict);
    shared by the plain route and the experiment router, which picks `loaded` per unit."""
    from mlscope.release.pyfunc import outputs_as_records

    request.state.model_version = loaded.version
    try:
        frame = parse_frame(json.loads(await request.body()))
    except ValueError as exc:
        ctx.metrics.errors.labels("invalid_input").inc()
        return JSONResponse(status_code=422, content={"error": "invalid input",
                                                      "reasons": [str(exc)[:200]]})
    try:
        output = await run_in_threadpool(loaded.model.predict, frame)
    except Exception as exc:  # schema enforcement and model failures
        kind = type(exc).__name__
        if kind == "MlflowException":
            ctx.metrics.errors.labels("invalid_input").inc()
            return JSONResponse(status_code=422, content={
                "error": "input does not match the model's signature"})
        ctx.metrics.errors.labels("model").inc()
        log.error("model %s failed: %s", loaded.version, kind)
        return JSONResponse(status_code=500, content={"error": "model error"})
    return {"predictions": outputs_as_records(output), "model_version": loaded.version}


def register(app: FastAPI, ctx: ServingContext) -> None:
    ctx.routes.update({"/invocations", "/predict"})

    async def predict(request: Request) -> Any:
        loaded = ctx.holder.current
        if loaded is None:
            return JSONResponse(status_code=503, content={"error": "no model loaded yet"})
        return await answer(ctx, loaded, request)

    app.add_api_route("/invocations", predict, methods=["POST"], include_in_schema=False)
    app.add_api_route("/predict", predict, methods=["POST"])
