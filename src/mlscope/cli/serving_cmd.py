"""`mlscope serve`: run the prediction service in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from mlscope.cli.output import json_option, print_json


@click.command("serve")
@click.option("--model", help="Registered model name (with --alias).")
@click.option("--alias", help="Environment alias to follow, e.g. prod; promotions hot-swap in.")
@click.option("--artifact", type=click.Path(path_type=Path, file_okay=False),
              help="Serve an artifact directory directly instead of a registry alias.")
@click.option("--tracking-uri", help="MLflow tracking URI (default: $MLSCOPE_TRACKING_URI, "
              "or SQLite in the state dir).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; 0.0.0.0 exposes the service to the network.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--poll", "poll_s", default=5.0, show_default=True, type=float,
              help="Seconds between checks of the alias (0: only POST /admin/reload swaps).")
@json_option
def serve(model: str | None, alias: str | None, artifact: Path | None, tracking_uri: str | None,
          host: str, port: int, poll_s: float, as_json: bool) -> None:
    """Serve the model version an alias holds (FastAPI + uvicorn) until Ctrl-C.

    \b
    Example:
      mlscope serve --model recommender --alias prod --port 8080
      curl -s localhost:8080/recommend -d '{"user_id": "196", "k": 5}' \\
           -H 'content-type: application/json'
    """
    from mlscope.errors import InputError
    from mlscope.serving.server import (
        build_source,
        check_port,
        require_serving_extra,
        serve_forever,
    )

    require_serving_extra()
    check_port(port)
    if poll_s < 0:
        raise InputError(f"--poll {poll_s} is negative", "use 0 to disable polling")
    source = build_source(model=model, alias=alias, artifact=artifact, tracking_uri=tracking_uri)
    ref = source.current()  # fail fast (exit 2) when the alias holds nothing
    info = {"url": f"http://{host}:{port}", "source": source.describe(), "version": ref.version,
            "artifact_dir": str(ref.artifact_dir), "poll_s": poll_s}
    if as_json:
        print_json(info)
    else:
        click.echo(f"Serving {info['source']} version {ref.version} at {info['url']} "
                   "(/recommend, /metrics, /healthz, /readyz); Ctrl-C stops")
    serve_forever(source, host=host, port=port, model_name=model or "model", poll_s=poll_s)
