"""`mlscope monitor`: data drift between two windows (and health checks)."""

from __future__ import annotations

import click

from mlscope.cli.output import console, json_option, print_json


@click.group()
def monitor() -> None:
    """Drift and health monitoring."""


@monitor.command()
@click.argument("reference", type=click.Path(dir_okay=False))
@click.argument("current", type=click.Path(dir_okay=False))
@click.option("--columns", default=None, help="Comma-separated features (default: all shared).")
@click.option("--html", type=click.Path(dir_okay=False), default=None,
              help="Also write the drift report as an HTML page here.")
@json_option
def drift(reference: str, current: str, columns: str | None, html: str | None,
          as_json: bool) -> None:
    """Per-feature drift between a reference and a current window (CSV or Parquet)."""
    from mlscope.errors import require

    require("scipy", "experiments")
    from mlscope.release.monitoring.report import drift_report

    result = drift_report(reference, current, columns.split(",") if columns else None, html)
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    table = Table("feature", "kind", "test", "statistic", "p-value / distance", "drift")
    for f in result["features"]:
        value = f.get("p_value", f.get("distance"))
        table.add_row(f["name"], f["kind"], f["test"], f"{f['statistic']:.4g}",
                      f"{value:.3g}", "DRIFT" if f["drift"] else "ok")
    out = console()
    out.print(table)
    out.print("Drift detected." if result["drift"] else "No drift detected.")


@monitor.command()
@click.option("--env", default="prod", show_default=True, help="Environment being checked.")
@click.option("--metrics-url", default=None, help="The service's /metrics URL.")
@click.option("--metrics-file", type=click.Path(dir_okay=False), default=None,
              help="A saved /metrics scrape instead of a URL.")
@click.option("--reference", type=click.Path(dir_okay=False), default=None,
              help="Reference window of the features (CSV or Parquet).")
@click.option("--current", type=click.Path(dir_okay=False), default=None,
              help="Current window of the live features.")
@click.option("--columns", default=None, help="Comma-separated features to compare.")
@click.option("--max-error-rate", type=float, default=0.01, show_default=True)
@click.option("--max-fallback-rate", type=float, default=0.05, show_default=True)
@click.option("--max-p99-ms", type=float, default=None)
@click.option("--min-requests", type=float, default=100, show_default=True,
              help="Below this many requests, rates are too noisy to alarm on.")
@click.option("--rollback", is_flag=True,
              help="On an alarm, give ENV back to its previous holder (audited, as an incident).")
@click.option("--model", default=None, help="Registered model to roll back (with --rollback).")
@click.option("--spec", "spec_path", default=None, type=click.Path(), envvar="MLSCOPE_SPEC",
              help="The committed mlscope.yaml holding the release policy.")
@click.option("--tracking-uri", default=None, metavar="URI")
@json_option
def check(env: str, metrics_url: str | None, metrics_file: str | None, reference: str | None,
          current: str | None, columns: str | None, max_error_rate: float,
          max_fallback_rate: float, max_p99_ms: float | None, min_requests: float,
          rollback: bool, model: str | None, spec_path: str | None, tracking_uri: str | None,
          as_json: bool) -> None:
    """Health and drift against thresholds; exit 1 when one is breached.

    With --rollback, a breach moves ENV's alias back to the version that held it before,
    through the release module (its rules apply; the rollback is audited as an incident, which
    voids the approvals of the version rolled back from).
    """
    from mlscope.release.monitoring.check import read_metrics, run_check
    from mlscope.release.monitoring.health import Thresholds

    limits = Thresholds(max_error_rate, max_fallback_rate, max_p99_ms, min_requests)
    text = (read_metrics(metrics_url, metrics_file)
            if metrics_url or metrics_file else None)
    if rollback and not model:
        from mlscope.errors import InputError

        raise InputError("--rollback needs --model", "name the registered model to roll back")
    result = run_check(env, limits, text, reference, current,
                       columns.split(",") if columns else None)
    payload = result.as_dict()
    if rollback and not result.ok:
        from mlscope.release.promotion import Release

        assert model is not None
        rel = Release.open(spec_path, tracking_uri)
        event = rel.rollback(model, env, rel.actor(),
                             reason="monitor alarm: " + "; ".join(result.breaches), incident=True)
        payload["rollback"] = event.as_dict()
    if as_json:
        print_json(payload)
    else:
        out = console()
        if result.health:
            h = result.health
            p99 = "n/a" if h["p99_ms"] is None else f"{h['p99_ms']:.0f} ms"
            out.print(f"{env}: {h['requests']:.0f} requests, errors {h['error_rate']:.2%}, "
                      f"fallbacks {h['fallback_rate']:.2%}, p99 {p99}")
        if result.drift:
            drifted = [f["name"] for f in result.drift["features"] if f["drift"]]
            out.print(f"drift: {', '.join(drifted) if drifted else 'none'}")
        out.print("ok" if result.ok else "ALARM: " + "; ".join(result.breaches))
        if "rollback" in payload:
            rb = payload["rollback"]
            out.print(f"rolled back {model} {env}: v{rb.get('previous')} -> v{rb.get('version')}")
    if not result.ok:
        raise SystemExit(1)


@monitor.command("performance")
@click.argument("predictions", type=click.Path(dir_okay=False))
@click.argument("labels", type=click.Path(dir_okay=False))
@click.option("--key", required=True, help="Column joining predictions to labels (request id).")
@click.option("--prediction", "prediction_col", required=True, help="Predicted score or value.")
@click.option("--label", "label_col", required=True, help="The outcome that arrived later.")
@click.option("--task", type=click.Choice(["classification", "regression"]), required=True)
@json_option
def performance_cmd(predictions: str, labels: str, key: str, prediction_col: str,
                    label_col: str, task: str, as_json: bool) -> None:
    """Live model performance once delayed labels arrive (accuracy/AUC, or RMSE/MAE)."""
    from mlscope.release.monitoring.performance import performance

    result = performance(predictions, labels, key, prediction_col, label_col, task)
    if as_json:
        print_json(result)
        return
    metrics = {k: v for k, v in result.items()
               if k in {"accuracy", "auc", "rmse", "mae"} and v is not None}
    console().print(f"{result['labelled']:,} of {result['served']:,} predictions labelled "
                    f"({result['coverage']:.1%}): "
                    + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
                    + (f" — {result['note']}" if result["note"] else ""))


@monitor.command("ci")
@click.option("--provider", type=click.Choice(["github"]), required=True)
@click.option("--model", required=True, help="Registered model to watch and roll back.")
@click.option("--env", default="prod", show_default=True)
@click.option("--schedule", default="*/15 * * * *", show_default=True, help="Cron, UTC.")
@click.option("--spec", "spec_file", default="mlscope.yaml", show_default=True,
              help="Repository path of the committed release policy.")
@click.option("--metrics-var", default="PROD_METRICS_URL", show_default=True,
              help="GitHub variable holding the service's /metrics URL.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write here (default: .github/workflows/mlscope-monitor.yml).")
def ci(provider: str, model: str, env: str, schedule: str, spec_file: str, metrics_var: str,
       output: str | None) -> None:
    """Write a scheduled workflow that runs `monitor check --rollback` on ENV."""
    from pathlib import Path

    from mlscope.release.monitoring.ci import monitor_workflow

    text = monitor_workflow(model, env, schedule, spec_file, metrics_var)
    path = Path(output or ".github/workflows/mlscope-monitor.yml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    console().print(f"wrote {path}")
