"""The release process: register, approve, promote through gates, roll back, and history.

Every state change is written to the hash-chained audit log (who, when, what, why,
before/after); alias changes also go to mlscope's alias history. Refused promotions are
audited too, with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlscope.errors import InputError, UnknownNameError
from mlscope.release.approvals import Approval, approve, author_of
from mlscope.release.audit import AuditLog, default_audit_log, utc_now
from mlscope.release.gates import GateContext, GateResult, run_gates
from mlscope.release.history import AliasEvent, AliasHistory
from mlscope.release.registry import Registry, VersionInfo, validate_alias
from mlscope.spec.release import EnvironmentGates

DEFAULT_ENVIRONMENTS = ("dev", "qa", "prod")


@dataclass
class PromotionResult:
    model: str
    version: int
    env: str
    promoted: bool
    previous: int | None
    gates: list[GateResult] = field(default_factory=list)
    dry_run: bool = False

    @property
    def refusals(self) -> list[str]:
        return [f"{g.gate}: {g.detail}" for g in self.gates if not g.passed]

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "env": self.env,
                "promoted": self.promoted, "previous": self.previous, "dry_run": self.dry_run,
                "gates": [g.as_dict() for g in self.gates], "refusals": self.refusals}


@dataclass
class Release:
    registry: Registry
    log: AuditLog
    history: AliasHistory
    environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS

    @classmethod
    def open(cls, tracking_uri: str | None = None,
             environments: list[str] | tuple[str, ...] | None = None) -> Release:
        return cls(Registry(tracking_uri), default_audit_log(), AliasHistory(),
                   tuple(environments or DEFAULT_ENVIRONMENTS))

    def _env(self, env: str) -> str:
        validate_alias(env)
        if env not in self.environments:
            raise UnknownNameError("environment", env, self.environments)
        return env

    # -- register -----------------------------------------------------------------------
    def register(self, model: str, run_id: str, actor: str, reason: str = "") -> VersionInfo:
        version = self.registry.register(model, run_id, author=actor)
        info = self.registry.version(model, version)
        self.log.append(actor, "register", f"{model}:{version}", reason,
                        after={"version": version, "run_id": run_id, "source": info.source,
                               "metrics": info.metrics})
        return info

    def register_dir(self, model: str, directory: Path, actor: str,
                     reason: str = "") -> VersionInfo:
        """Register a RecommenderArtifact directory trained elsewhere (logs a run holding it)."""
        from mlscope.release.artifact import META_FILE, MODEL_FILE

        if not (directory / MODEL_FILE).is_file():
            raise InputError(f"{directory} holds no {MODEL_FILE}",
                             "pass the directory written by `mlscope release train --out DIR`")
        import json

        meta = json.loads((directory / META_FILE).read_text()) if (
            directory / META_FILE).is_file() else {}
        metrics = {k: float(v) for k, v in (meta.get("metrics") or {}).items()
                   if isinstance(v, int | float)}
        run_id = self.registry.log_run(directory, params=meta.get("params") or {},
                                       metrics=metrics, run_name=f"{model}-import")
        return self.register(model, run_id, actor, reason)

    # -- approve ------------------------------------------------------------------------
    def approve(self, model: str, version: int, env: str, actor: str, reason: str) -> Approval:
        self._env(env)
        info = self.registry.version(model, version)
        return approve(self.log, model, version, env, actor, reason,
                       author_of(self.log, model, version, info.author))

    # -- promote ------------------------------------------------------------------------
    def promote(self, model: str, version: int, env: str, actor: str,
                gates: EnvironmentGates | None = None, reason: str = "",
                spec_dir: Path | None = None, requests_path: Path | None = None,
                dry_run: bool = False) -> PromotionResult:
        """Run the target's gates; move the alias only when every gate passed."""
        self._env(env)
        info = self.registry.version(model, version)
        previous = self.registry.alias_version(model, env)
        if previous == version:
            raise InputError(f"{model} v{version} already holds {env}",
                             "`mlscope release history` shows how it got there")
        ctx = GateContext(self.registry, self.log, info, env, spec_dir, requests_path)
        results = run_gates(ctx, gates)
        result = PromotionResult(model, version, env, False, previous, results, dry_run)
        if dry_run:
            return result
        subject = f"{model}:{version}"
        if result.refusals:
            self.log.append(actor, "promote.refused", subject, reason,
                            before={"env": env, "version": previous},
                            after={"env": env, "refusals": result.refusals})
            return result
        self._move_alias(model, env, version, previous, actor, "promote", reason,
                         extra={"gates": [g.gate for g in results]})
        result.promoted = True
        return result

    def _move_alias(self, model: str, env: str, version: int, previous: int | None,
                    actor: str, cause: str, reason: str, extra: dict[str, Any]) -> None:
        self.registry.set_alias(model, env, version)
        self.registry.set_version_tag(model, version, f"mlscope.{env}.since", utc_now())
        self.log.append(actor, cause, f"{model}:{version}", reason,
                        before={"env": env, "version": previous},
                        after={"env": env, "version": version, **extra})
        self.history.record(model, env, version, previous, actor, cause, reason)

    # -- rollback -----------------------------------------------------------------------
    def rollback(self, model: str, env: str, actor: str, reason: str = "",
                 to_version: int | None = None) -> AliasEvent:
        """Give the alias back to the previous holder (or `to_version`); no gates: an emergency."""
        self._env(env)
        current = self.registry.alias_version(model, env)
        if current is None:
            raise InputError(f"nothing holds {env} for {model}", "promote a version first")
        target = to_version if to_version is not None else self.history.rollback_target(model, env)
        if target is None:
            raise InputError(f"mlscope's history has no earlier holder of {env} for {model}",
                             "pass --to-version N to choose the version to restore")
        if target == current:
            raise InputError(f"v{target} already holds {env}")
        # Rollback skips the gates, so it may only restore a version that held the environment
        # before; anything else must go through `promote`.
        earlier = {e.version for e in self.history.events(model, env)}
        if target not in earlier:
            raise InputError(f"v{target} never held {env}, so it cannot be rolled back to",
                             f"promote it: `mlscope release promote {model} {target} --to {env}`")
        self.registry.version(model, target)
        self._move_alias(model, env, target, current, actor, "rollback", reason, extra={})
        return self.history.events(model, env)[-1]

    # -- history and status -------------------------------------------------------------
    def holders(self, model: str) -> dict[str, int | None]:
        return {env: self.registry.alias_version(model, env) for env in self.environments}

    def history_events(self, model: str, env: str | None = None) -> list[AliasEvent]:
        if env is not None:
            self._env(env)
        return self.history.events(model, env)

    def holder_at(self, model: str, env: str, when: datetime) -> AliasEvent | None:
        self._env(env)
        return self.history.holder_at(model, env, when)
