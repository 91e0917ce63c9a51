"""`mlscope deploy`: put a registered model version on a target, inspect, shift, stop.

    mlscope deploy MODEL VERSION --env dev [--target local|aws]   (shorthand for `deploy run`)
    mlscope deploy status [--target local|aws]
    mlscope deploy shift --endpoint-name rec-prod --weights v1=0.9,v2=0.1
    mlscope deploy stop --env dev
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mlscope.cli.output import console, json_option, print_json
from mlscope.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_SUBCOMMAND = "run"


class DeployGroup(click.Group):
    """`mlscope deploy MODEL VERSION ...` runs `deploy run`; known names run subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = [DEFAULT_SUBCOMMAND, *args]
        return super().parse_args(ctx, args)


def aws_options(func: F) -> F:
    options = [
        click.option("--region", default=lambda: os.environ.get("AWS_REGION")
                     or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                     help="AWS region [default: $AWS_REGION or us-east-1]."),
        click.option("--endpoint-name", help="SageMaker endpoint [default: MODEL-ENV]."),
        click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL",
                     help="Another AWS API endpoint, e.g. a moto server for a dry run."),
        click.option("--retry-mode", type=click.Choice(["standard", "adaptive"]),
                     default="adaptive", show_default=True, help="botocore retry mode."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(region: str, endpoint_name: str | None, endpoint_url: str | None,
              retry_mode: str, **extra: Any) -> Any:
    from mlscope.release.deploy.aws import AwsSettings

    return AwsSettings(region=region, endpoint_name=endpoint_name, endpoint_url=endpoint_url,
                       retry_mode=retry_mode, **extra)


@click.group("deploy", cls=DeployGroup)
def deploy() -> None:
    """Deploy a registered model version locally or to AWS SageMaker.

    `mlscope deploy MODEL VERSION --env ENV` is short for `mlscope deploy run ...`.
    """


@deploy.command("run")
@click.argument("model")
@click.argument("version", type=click.IntRange(min=1), required=False)
@click.option("--env", required=True, help="Environment: dev, qa, prod...")
@click.option("--break-glass", is_flag=True,
              help="Deploy VERSION to qa/prod although the alias holds another (audited, "
                   "flagged by `release status` until a normal deploy).")
@click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True)
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@click.option("--tracking-uri", help="MLflow tracking URI (default: $MLSCOPE_TRACKING_URI, "
              "or SQLite in the state dir).")
@click.option("--host", default="127.0.0.1", show_default=True, help="local: interface to bind.")
@click.option("--port", type=click.IntRange(1, 65535), help="local: port [default: a free one].")
@click.option("--weight", type=click.FloatRange(0, 1, min_open=True), default=1.0,
              show_default=True, help="aws: traffic share of the new variant (canary if < 1).")
@click.option("--bucket", envvar="MLSCOPE_AWS_BUCKET", help="aws: S3 bucket for model.tar.gz.")
@click.option("--role-arn", envvar="MLSCOPE_AWS_ROLE_ARN", help="aws: SageMaker execution role.")
@click.option("--image", envvar="MLSCOPE_AWS_IMAGE", help="aws: inference container image URI.")
@click.option("--instance-type", default="ml.m5.large", show_default=True)
@click.option("--instance-count", type=click.IntRange(min=1), default=1, show_default=True)
@aws_options
@json_option
def run_deploy(model: str, version: int | None, env: str, break_glass: bool, target: str,
               reason: str, tracking_uri: str | None, host: str, port: int | None,
               weight: float,
               bucket: str | None, role_arn: str | None, image: str | None,
               instance_type: str, instance_count: int, region: str,
               endpoint_name: str | None, endpoint_url: str | None, retry_mode: str,
               as_json: bool) -> None:
    """Deploy what ENV's alias holds (qa, prod), or MODEL VERSION to dev, on a target."""
    from mlscope.release.deploy import resolve_deploy
    from mlscope.release.promotion import Release

    if target == "local" and weight != 1.0:
        raise InputError("--weight applies to the aws target only",
                         "the local server serves one version; promote to swap it")
    chosen = resolve_deploy(Release.open(None, tracking_uri), model, version, env, break_glass,
                            reason)
    version = int(chosen["version"])
    artifact_dir = Path(chosen["artifact_dir"])
    result: dict[str, Any]
    if target == "local":
        from mlscope.release.deploy.local import deploy_local
        from mlscope.serving.server import require_serving_extra

        require_serving_extra()

        result = deploy_local(model, str(version), artifact_dir, env, host=host, port=port,
                              reason=reason, digest=chosen["digest"])
        line = (f"{model} v{version} serving in {env} at {result['url']} "
                f"({result['action']}, pid {result['pid']})")
    else:
        from mlscope.release.deploy.aws import deploy_aws

        settings = _settings(region, endpoint_name, endpoint_url, retry_mode, bucket=bucket,
                             role_arn=role_arn, image_uri=image, instance_type=instance_type,
                             instance_count=instance_count)
        result = deploy_aws(model, str(version), artifact_dir, env, settings, weight=weight,
                            reason=reason, digest=chosen["digest"])
        line = (f"{model} v{version} on endpoint {result['endpoint']} ({result['action']}); "
                f"weights {result['after']['weights']}")
    if as_json:
        print_json(result)
    else:
        click.echo(line)


@deploy.command("status")
@click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True)
@aws_options
@json_option
def status(target: str, region: str, endpoint_name: str | None, endpoint_url: str | None,
           retry_mode: str, as_json: bool) -> None:
    """Local servers that run, or an AWS endpoint's status and variant weights."""
    if target == "aws":
        from mlscope.release.deploy.aws import aws_status

        if not endpoint_name:
            raise InputError("--endpoint-name is needed with --target aws",
                             "e.g. --endpoint-name recommender-prod")
        info = aws_status(endpoint_name, _settings(region, endpoint_name, endpoint_url,
                                                   retry_mode))
        if as_json:
            print_json(info)
        else:
            click.echo(f"{info['endpoint']}: {info['status']} config {info['config']} "
                       f"weights {info['weights']}")
        return
    from rich.table import Table

    from mlscope.release.deploy.local import local_status

    servers = local_status()
    if as_json:
        print_json({"target": "local", "servers": servers})
        return
    if not servers:
        click.echo("No local servers running (start one with `mlscope deploy MODEL VERSION "
                   "--env dev`).")
        return
    table = Table("env", "model", "version", "url", "pid", "ready")
    for s in servers:
        table.add_row(s["env"], s["model"], s["version"], s["url"], str(s["pid"]),
                      "yes" if s["ready"] else "no")
    console().print(table)


def parse_weights(text: str) -> dict[str, float]:
    """`v1=0.9,v2=0.1` → {"v1": 0.9, "v2": 0.1}; InputError naming the bad part."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        name, sep, raw = part.partition("=")
        name = name.strip()
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not sep or not name or not value >= 0 or value == float("inf"):
            raise InputError(f"weight {part!r} is not VARIANT=SHARE",
                             "e.g. --weights v1=0.9,v2=0.1 (shares >= 0)")
        if name in out:
            raise InputError(f"variant {name!r} is given twice")
        out[name] = value
    return out


@deploy.command("shift")
@click.option("--weights", "weights_text", default=None, help="e.g. v1=0.9,v2=0.1")
@click.option("--bandit-state", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Instead of --weights: an experiment's bandit state (from `serve "
                   "--experiment --policy ...`), turned into the shares it would route.")
@click.option("--variants", default=None, metavar="ARM=VARIANT,...",
              help="With --bandit-state: endpoint variant of each arm, e.g. "
                   "champion=v1,challenger=v2.")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@aws_options
@json_option
def shift(weights_text: str | None, bandit_state: str | None, variants: str | None, reason: str,
          region: str, endpoint_name: str | None, endpoint_url: str | None, retry_mode: str,
          as_json: bool) -> None:
    """Move traffic between an AWS endpoint's variants (UpdateEndpointWeightsAndCapacities)."""
    from mlscope.release.deploy.aws import shift_traffic

    if (weights_text is None) == (bandit_state is None):
        raise InputError("give exactly one of --weights and --bandit-state",
                         "e.g. --weights v1=0.9,v2=0.1")
    if bandit_state is not None:
        import json
        from pathlib import Path

        from mlscope.release.experiments.bandits import BanditState
        from mlscope.release.experiments.weights import bandit_shares, variant_weights

        if not variants:
            raise InputError("--bandit-state needs --variants",
                             "e.g. --variants champion=v1,challenger=v2")
        mapping = dict(part.split("=", 1) for part in variants.split(",") if "=" in part)
        state = BanditState(**json.loads(Path(bandit_state).read_text()))
        weights = variant_weights(bandit_shares(state), mapping)
    else:
        assert weights_text is not None
        weights = parse_weights(weights_text)
    if not endpoint_name:
        raise InputError("--endpoint-name is needed", "e.g. --endpoint-name recommender-prod")
    info = shift_traffic(endpoint_name, weights,
                         _settings(region, endpoint_name, endpoint_url, retry_mode),
                         reason=reason)
    if as_json:
        print_json(info)
    else:
        click.echo(f"{info['endpoint']}: weights now {info['weights']}")


@deploy.command("stop")
@click.option("--env", required=True, help="Environment whose local server to stop.")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@json_option
def stop(env: str, reason: str, as_json: bool) -> None:
    """Stop the local server of ENV (SIGTERM: in-flight requests finish first)."""
    from mlscope.release.deploy.local import stop_local

    info = stop_local(env, reason=reason)
    if as_json:
        print_json(info)
    else:
        click.echo(f"Stopped {info['model']} v{info['version']} in {env} (pid {info['pid']})")
