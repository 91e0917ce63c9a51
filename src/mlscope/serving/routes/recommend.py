"""POST /recommend for ranking models (the recommender pyfunc): one user, top-k items.

The pyfunc answers unknown users with the popularity baseline and says so (`fallback`); an
answer that breaks the contract (non-finite scores) is refused as a model error.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from mlscope.serving.context import ServingContext
from mlscope.serving.schemas import RecommendRequest, RecommendResponse, ScoredItem

log = logging.getLogger("mlscope.serving")


def _direct(model: Any) -> Any:
    """The recommender wrapper inside a pyfunc model, when it is one (else None)."""
    try:
        inner = model.unwrap_python_model()
    except Exception:  # not a PythonModel flavor
        return None
    return inner if callable(getattr(inner, "recommend_one", None)) else None


def register(app: FastAPI, ctx: ServingContext) -> None:
    ctx.routes.add("/recommend")

    @app.post("/recommend", response_model=RecommendResponse)
    async def recommend(body: RecommendRequest, request: Request) -> Any:
        import pandas as pd

        from mlscope.release.pyfunc import raw_records

        loaded = ctx.holder.current  # read once: a swap during this request does not affect it
        if loaded is None:
            return JSONResponse(status_code=503, content={"error": "no model loaded yet"})
        request.state.model_version = loaded.version
        direct = _direct(loaded.model)
        try:
            if direct is not None:  # validated by pydantic above; skips DataFrame round trips
                row = direct.recommend_one(body.user_id, body.k, set(body.exclude))
            else:
                frame = pd.DataFrame({"user_id": [body.user_id], "k": [body.k],
                                      "exclude": [list(body.exclude)]})
                row = raw_records(await run_in_threadpool(loaded.model.predict, frame))[0]
            items, scores = list(row["items"]), [float(s) for s in row["scores"]]
            if not all(math.isfinite(s) for s in scores):
                raise ValueError("non-finite score")
        except Exception as exc:  # a broken model must not take the service down
            ctx.metrics.errors.labels("model").inc()
            log.error("model %s failed: %s", loaded.version, type(exc).__name__)
            return JSONResponse(status_code=500, content={"error": "model error"})
        fallback = bool(row.get("fallback"))
        reason = "unknown_user" if fallback else None
        if reason:
            ctx.metrics.fallbacks.labels(reason).inc()
            request.state.fallback_reason = reason
        return RecommendResponse(
            user_id=body.user_id, model_version=loaded.version, fallback=fallback,
            fallback_reason=reason,
            items=[ScoredItem(item_id=str(i), score=None if fallback else s)
                   for i, s in zip(items, scores, strict=True)])
