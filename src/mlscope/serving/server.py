"""Run the app under uvicorn; shared by `mlscope serve` and the local deploy target's process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlscope.errors import ConflictError, EngineMissingError, InputError
from mlscope.serving.source import AliasSource, ModelSource, PointerFileSource, StaticSource

# Read from the environment, never from argv (anyone can read argv with ps).
ADMIN_TOKEN_ENV = "MLSCOPE_ADMIN_TOKEN"


def require_serving_extra() -> None:
    """One-line error (exit 2) instead of an ImportError traceback without the extra."""
    import importlib.util

    missing = [m for m in ("fastapi", "uvicorn", "httpx", "prometheus_client")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise EngineMissingError(f"serving needs {', '.join(missing)}, which is not installed",
                                 "pip install 'mlscope[serving]'")


def build_source(*, model: str | None = None, alias: str | None = None,
                 artifact: Path | None = None, pointer: Path | None = None,
                 tracking_uri: str | None = None) -> ModelSource:
    chosen = [name for name, v in (("--alias", alias), ("--artifact", artifact),
                                   ("--pointer", pointer)) if v is not None]
    if len(chosen) != 1:
        got = ", ".join(chosen) or "none"
        raise ConflictError(f"give exactly one of --alias, --artifact, --pointer (got {got})",
                            "e.g. `mlscope serve --model recommender --alias prod`")
    if alias is not None:
        if not model:
            raise InputError("--alias needs --model", "e.g. --model recommender --alias prod")
        return AliasSource(model, alias, tracking_uri)
    if artifact is not None:
        return StaticSource(artifact)
    assert pointer is not None
    return PointerFileSource(pointer)


def check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise InputError(f"port {port} is out of range", "use a port between 1 and 65535")
    return port


def serve_forever(source: ModelSource, *, host: str, port: int, model_name: str,
                  poll_s: float, routers: list[Any] | None = None) -> None:
    """Block serving HTTP until SIGINT/SIGTERM (uvicorn drains in-flight requests on shutdown)."""
    import uvicorn

    from mlscope.serving.app import create_app
    from mlscope.serving.logs import configure_json_logging

    configure_json_logging()
    app = create_app(source, model_name=model_name, poll_s=poll_s,
                     admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None, routers=routers)
    uvicorn.run(app, host=host, port=check_port(port), access_log=False, log_level="warning",
                timeout_graceful_shutdown=10)
