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
@click.option("--experiment", default=None,
              help="Run an A/B test: route by X-Unit-Id between the champion and challengers.")
@click.option("--challenger", "challengers", multiple=True, metavar="NAME=ALIAS",
              help="A challenger variant and the alias it serves (with --experiment).")
@click.option("--weights", default=None, metavar="champion=0.5,NAME=0.5",
              help="Traffic split of the experiment (default: equal).")
@click.option("--policy", default="split", show_default=True,
              type=click.Choice(["split", "thompson", "thompson-gaussian", "ucb1", "epsilon"]),
              help="Sticky hash split, or a bandit learning from --reward outcomes.")
@click.option("--reward", default=None, help="Outcome metric a bandit policy learns from.")
@click.option("--outcomes", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Outcome log (SQLite; default: <experiment>.sqlite in the state dir).")
@json_option
def serve(model: str | None, alias: str | None, artifact: Path | None, tracking_uri: str | None,
          host: str, port: int, poll_s: float, experiment: str | None,
          challengers: tuple[str, ...], weights: str | None, policy: str, reward: str | None,
          outcomes: Path | None, as_json: bool) -> None:
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
    routers = None
    if experiment:
        from mlscope.serving.routes.experiment import config_from_flags, routers_for

        cfg = config_from_flags(experiment, challengers, weights, policy, reward, outcomes,
                                model=model, tracking_uri=tracking_uri, poll_s=poll_s)
        routers = routers_for(cfg)
    elif challengers or weights or reward or outcomes:
        raise InputError("--challenger, --weights, --reward and --outcomes need --experiment",
                         "name the experiment, e.g. --experiment reco-v7")
    info = {"url": f"http://{host}:{port}", "source": source.describe(), "version": ref.version,
            "artifact_dir": str(ref.artifact_dir), "poll_s": poll_s}
    if as_json:
        print_json(info)
    else:
        click.echo(f"Serving {info['source']} version {ref.version} at {info['url']} "
                   "(/predict, /recommend, /metrics, /healthz, /readyz); Ctrl-C stops")
    serve_forever(source, host=host, port=port, model_name=model or "model", poll_s=poll_s,
                  routers=routers)
