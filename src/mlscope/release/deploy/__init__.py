"""Deploy targets: `local` (a background uvicorn process) and `aws` (SageMaker endpoints).

Only what the registry says is deployed: for qa and prod (every environment but the first) the
version is the one the alias holds; anything else needs `--break-glass --reason`, which is
audited and reported by `release status` until a normal deploy resolves it. Every deploy,
traffic shift and stop appends a signed audit entry. boto3 and the serving stack are imported
only by the target that needs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlscope.errors import MlscopeError

TARGETS = ("local", "aws")


class DeployError(MlscopeError):
    """A deployment that did not complete; the message says what still serves."""


def record(action: str, subject: str, reason: str = "", before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append one audit entry for a deploy action, signed by the current (verified) actor."""
    from mlscope.release.audit import default_audit_log
    from mlscope.release.identity import current_actor
    from mlscope.release.policy import find_policy

    policy = find_policy()
    actor = current_actor(policy.signers if policy else None)
    return default_audit_log().append(actor, action, subject, reason, before=before,
                                      after=after)


@contextmanager
def recorded_failure(subject: str, attempted: dict[str, Any]) -> Iterator[None]:
    """Audit a deploy that failed (`deploy_failed`, with the reason) before re-raising it."""
    try:
        yield
    except DeployError as exc:
        record("deploy_failed", subject, exc.one_line(), before={}, after=attempted)
        raise


def resolve_deploy(release: Any, model: str, version: int | None, env: str,
                   break_glass: bool, reason: str) -> dict[str, Any]:
    """What may be deployed to `env`: the alias holder outside the first (dev) environment;
    another version only with break-glass and a reason. Returns version, files and digest."""
    from mlscope.errors import InputError
    from mlscope.release.approvals import registration
    from mlscope.release.base import RefusedError

    envs = release.environments
    holder = release.registry.alias_version(model, env)
    guarded = env in envs and env != envs[0]
    if break_glass and not reason.strip():
        raise InputError("--break-glass needs --reason", "say why the registry is bypassed")
    chosen = version if version is not None else holder
    if chosen is None:
        raise InputError(f"nothing holds {env} for {model}",
                         f"promote a version to {env} first, or pass VERSION for dev")
    emergency = False
    if guarded and chosen != holder:
        if not break_glass:
            raise RefusedError(f"{env} deploys what the registry says: the {env} alias holds "
                               f"{f'v{holder}' if holder else 'nothing'}, not v{chosen}",
                               f"promote v{chosen} to {env}, or pass --break-glass --reason")
        emergency = True
    if guarded and release.policy is None:
        raise RefusedError("no release policy: qa and prod deploys need the committed spec")
    reg = registration(release.entries(), model, chosen)
    digest = reg.artifact_digest if reg else release.registry.version(model, chosen).artifact_digest
    if guarded and reg is None:
        raise RefusedError(f"{model} v{chosen} was not registered through mlscope")
    directory = (release.registry.verified_artifact_dir(model, chosen, digest) if digest
                 else release.registry.artifact_dir(model, chosen))
    if emergency:
        release.log.append(release.actor(), "deploy.break_glass", f"{model}:{chosen}", reason,
                           before={"env": env, "alias": holder},
                           after={"env": env, "version": chosen})
    return {"version": chosen, "artifact_dir": directory, "digest": digest,
            "break_glass": emergency, "alias": holder}
