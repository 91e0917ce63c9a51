"""`mlscope release status`: what each alias holds, what is actually serving, and drift.

Serving is read from the local deploy target's running servers (their /readyz) and from
SageMaker endpoints whose models carry mlscope's version tags (when an endpoint is named in
`MLSCOPE_STATUS_ENDPOINTS=env=endpoint,...`). A break-glass deploy stays "unresolved" until a
normal deploy of that environment follows it.
"""

from __future__ import annotations

import os
from typing import Any

from mlscope.release.promotion import Release


def _local_serving() -> dict[str, str | None]:
    try:
        from mlscope.release.deploy.local import local_status

        return {s["env"]: s.get("serving_version") for s in local_status()}
    except Exception:  # httpx missing or no servers: nothing local is serving
        return {}


def aws_serving(endpoint: str, settings: Any) -> list[str]:
    """The mlscope versions an endpoint's variants serve (from the SageMaker model tags)."""
    from mlscope.release.deploy.aws import make_clients

    sm = make_clients(settings).sagemaker
    desc = sm.describe_endpoint(EndpointName=endpoint)
    config = sm.describe_endpoint_config(EndpointConfigName=desc["EndpointConfigName"])
    versions = []
    for variant in config["ProductionVariants"]:
        model = sm.describe_model(ModelName=variant["ModelName"])
        tags = sm.list_tags(ResourceArn=model["ModelArn"]).get("Tags", [])
        found = {t["Key"]: t["Value"] for t in tags}.get("mlscope:version")
        if found:
            versions.append(found)
    return versions


def _aws_serving() -> dict[str, str | None]:
    raw = os.environ.get("MLSCOPE_STATUS_ENDPOINTS", "").strip()
    if not raw:
        return {}
    from mlscope.release.deploy.aws import AwsSettings

    out: dict[str, str | None] = {}
    settings = AwsSettings(region=os.environ.get("AWS_REGION", "us-east-1"),
                           endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    for part in raw.split(","):
        env, _, endpoint = part.partition("=")
        versions = aws_serving(endpoint.strip(), settings)
        out[env.strip()] = ",".join(sorted(set(versions))) or None
    return out


def unresolved_break_glass(entries: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    open_items: dict[str, dict[str, Any]] = {}
    for e in entries:
        subject = str(e.get("subject", ""))
        env = (e.get("after") or {}).get("env")
        if e.get("action") == "deploy.break_glass" and subject.startswith(model + ":"):
            open_items[str(env)] = {"env": env, "version": (e.get("after") or {}).get("version"),
                                    "actor": e["actor"], "reason": e.get("reason", ""),
                                    "seq": e["seq"]}
        elif e.get("action") == "deploy" and subject.startswith(model + "/"):
            env = (e.get("after") or {}).get("env")
            # the deploy right after the break-glass entry is the emergency deploy itself
            if env in open_items and open_items[str(env)]["seq"] < e["seq"] - 1:
                open_items.pop(str(env))
    return list(open_items.values())


def release_status(release: Release, model: str) -> dict[str, Any]:
    versions = release.registry.versions(model)
    holders = release.holders(model)
    serving = {**_local_serving(), **_aws_serving()}
    envs: dict[str, Any] = {}
    drift = False
    for env in release.environments:
        alias = holders.get(env)
        live = serving.get(env)
        bad = live is not None and live != str(alias)
        drift = drift or bad
        envs[env] = {"alias": alias, "serving": live, "drift": bad}
    entries = release.entries()
    return {"model": model, "environments": envs, "drift": drift,
            "break_glass": unresolved_break_glass(entries, model),
            "versions": [v.as_dict() | {"artifact_digest": v.artifact_digest} for v in versions]}
