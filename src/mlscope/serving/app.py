"""The FastAPI app: /recommend, /healthz, /readyz, /metrics, /version, /admin/reload."""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlscope.release.artifact import RecommenderArtifact
from mlscope.serving.holder import ModelHolder
from mlscope.serving.logs import log_request
from mlscope.serving.metrics import ServingMetrics
from mlscope.serving.schemas import RecommendRequest, RecommendResponse, ScoredItem
from mlscope.serving.source import ModelRef, ModelSource

log = logging.getLogger("mlscope.serving")

# /ping and /invocations are SageMaker's container contract, so the same app runs in an endpoint.
ROUTES = {"/recommend", "/healthz", "/readyz", "/metrics", "/version", "/admin/reload", "/ping",
          "/invocations"}
REQUEST_ID = re.compile(rb"[A-Za-z0-9._\-]{1,64}")
LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


class ObservabilityMiddleware:
    """Counts, times and logs every HTTP request (pure ASGI: cheaper than BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        request_id = _request_id(scope)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Exception:
            status = 500
            self.metrics.errors.labels("internal").inc()
            raise
        finally:
            elapsed = time.perf_counter() - start
            path = scope.get("path", "")
            route = path if path in ROUTES else "other"  # bounded label cardinality
            self.metrics.requests.labels(route, scope.get("method", ""), str(status)).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            state = scope.get("state") or {}
            log_request(request_id=request_id, method=scope.get("method"), route=route,
                        status=status,
                        latency_ms=round(elapsed * 1000, 3),
                        model_version=state.get("model_version"),
                        fallback=state.get("fallback_reason"))


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a plain token (it ends up in logs), else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id" and REQUEST_ID.fullmatch(value):
            return value.decode()
    return uuid.uuid4().hex


def create_app(source: ModelSource, *, model_name: str = "model", poll_s: float = 0.0,
               admin_token: str | None = None,
               loader: Callable[[ModelRef], RecommenderArtifact] | None = None) -> FastAPI:
    """Build the app. `poll_s` > 0 re-reads the source that often and hot-swaps on change."""
    metrics = ServingMetrics(model_name)
    holder = ModelHolder(source, loader=loader, on_swap=metrics.set_version,
                         on_reload_error=lambda _reason: metrics.errors.labels("reload").inc())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(holder.refresh)  # not ready (503) until this succeeds
        holder.start_polling(poll_s)
        try:
            yield
        finally:
            holder.stop_polling()

    app = FastAPI(title="mlscope serving", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.holder = holder
    app.state.metrics = metrics
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid_input(_request: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.errors.labels("invalid_input").inc()
        reasons = [{"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                    "reason": str(err.get("msg", "invalid"))} for err in exc.errors()]
        return JSONResponse(status_code=422, content={"error": "invalid input", "reasons": reasons})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. invalid UTF-8)
            metrics.errors.labels("invalid_input").inc()
            return JSONResponse(status_code=422, content={
                "error": "invalid input", "reasons": [{"field": "", "reason": str(exc.detail)}]})
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)},
                            headers=getattr(exc, "headers", None))

    @app.post("/recommend", response_model=RecommendResponse)
    @app.post("/invocations", response_model=RecommendResponse, include_in_schema=False)
    async def recommend(body: RecommendRequest, request: Request) -> Any:
        model = holder.current  # read once: a swap during this request does not affect it
        if model is None:
            return JSONResponse(status_code=503, content={"error": "no model loaded yet"})
        request.state.model_version = model.version
        exclude = set(body.exclude)
        reason: str | None = None
        items: list[ScoredItem]
        if not model.artifact.knows_user(body.user_id):
            reason = "unknown_user"
        else:
            try:
                scored = model.artifact.recommend(body.user_id, body.k, exclude)
                items = [ScoredItem(item_id=i, score=s) for i, s in scored]
            except Exception as exc:  # a broken model must not take the service down
                reason = "model_error"
                metrics.errors.labels("model").inc()
                log.error("model %s failed: %s", model.version, type(exc).__name__)
        if reason is not None:
            metrics.fallbacks.labels(reason).inc()
            request.state.fallback_reason = reason
            items = [ScoredItem(item_id=i, score=None)
                     for i in model.artifact.popular(body.k, exclude)]
        return RecommendResponse(user_id=body.user_id, items=items, model_version=model.version,
                                 fallback=reason is not None, fallback_reason=reason)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    @app.get("/ping", include_in_schema=False)
    async def readyz() -> Response:
        model = holder.current
        if model is None:
            return JSONResponse(status_code=503,
                                content={"ready": False, "error": holder.last_error})
        return JSONResponse({"ready": True, "model_version": model.version})

    @app.get("/version")
    async def version() -> dict[str, Any]:
        model = holder.current
        return {"model": model_name, "source": source.describe(),
                "version": model.version if model else None,
                "loaded_at": model.loaded_at if model else None}

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/admin/reload")
    async def reload(request: Request) -> JSONResponse:
        if not _admin_allowed(request, admin_token):
            return JSONResponse(status_code=403, content={"error": "admin token required"})
        outcome = await run_in_threadpool(holder.refresh)  # load off the event loop
        code = 200 if outcome.error is None else 409
        return JSONResponse(status_code=code, content={
            "swapped": outcome.swapped, "version": outcome.version,
            "previous": outcome.previous, "error": outcome.error})

    return app


def _admin_allowed(request: Request, token: str | None) -> bool:
    """With a token configured, require it; without one, only loopback clients may reload."""
    if token:
        given = request.headers.get("x-admin-token", "")
        return hmac.compare_digest(given.encode(), token.encode())
    host = request.client.host if request.client else ""
    return host in LOOPBACK
