"""The release process: register, approve, promote through gates, roll back, repair, history.

Every state change runs under one lock (read -> decide -> write) and writes its audit intent
*before* the registry alias moves and its commit after, so a crash or an unwritable log never
leaves an alias moved without a record: either the intent is missing (nothing moved) or it is
pending until `mlscope audit repair` reconciles it with the registry. Refusals are audited too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlscope.errors import InputError, UnknownNameError
from mlscope.release import history
from mlscope.release.anchor import AnchorRecord, anchors_from
from mlscope.release.approvals import (
    APPROVE,
    Approval,
    Registration,
    record_decision,
    registration,
)
from mlscope.release.audit import AuditLog, AuditWriteError, default_audit_log, utc_now
from mlscope.release.base import GateResult, RefusedError
from mlscope.release.digest import dir_digest, file_digest
from mlscope.release.gates import GateContext, run_gates
from mlscope.release.identity import Actor, current_actor
from mlscope.release.lock import release_lock
from mlscope.release.policy import Policy, find_policy
from mlscope.release.registry import (
    DIGEST_TAG,
    POLICY_TAG,
    Registry,
    VersionInfo,
    validate_alias,
)
from mlscope.release.state import state_dir

INTENT = ".intent"
ABORTED = "alias.aborted"


@dataclass
class PromotionResult:
    model: str
    version: int
    env: str
    promoted: bool
    previous: int | None
    gates: list[GateResult] = field(default_factory=list)
    dry_run: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def refusals(self) -> list[str]:
        return [f"{g.gate}: {g.detail}" for g in self.gates if not g.passed]

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "env": self.env,
                "promoted": self.promoted, "previous": self.previous, "dry_run": self.dry_run,
                "gates": [g.as_dict() for g in self.gates], "refusals": self.refusals,
                "overrides": self.overrides}


def pending_intents(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Intent entries with no commit or abort after them."""
    closed = {(e.get("after") or {}).get("intent") for e in entries
              if not str(e.get("action", "")).endswith(INTENT)}
    return [e for e in entries if str(e.get("action", "")).endswith(INTENT)
            and e["hash"] not in closed]


@dataclass
class Release:
    registry: Registry
    log: AuditLog
    policy: Policy | None
    state: Path

    @classmethod
    def open(cls, spec: str | Path | None = None, tracking_uri: str | None = None) -> Release:
        policy = find_policy(spec)
        uri = tracking_uri or (policy.section.tracking_uri if policy else None)
        return cls(Registry(uri), default_audit_log(), policy, state_dir())

    # -- helpers ------------------------------------------------------------------------
    @property
    def environments(self) -> tuple[str, ...]:
        return self.policy.environments if self.policy else ("dev", "qa", "prod")

    def require_policy(self) -> Policy:
        if self.policy is None:
            raise RefusedError("no release policy: mlscope.yaml was not found, so no gates "
                               "could be applied", "run from the repository that holds the "
                               "committed mlscope.yaml, or set MLSCOPE_SPEC")
        return self.policy

    def actor(self) -> Actor:
        """Who acts, verified against the policy's allowed signers (so: the policy first)."""
        return current_actor(self.require_policy().signers)

    def _require_signed_for_production(self, actor: Actor, env: str) -> None:
        if self.policy is not None and env == self.policy.production and not actor.verified:
            raise RefusedError(f"changing {env} needs a signed identity; {actor.name} acts in "
                               "local-development mode", "set MLSCOPE_SIGNING_KEY to a key in "
                               "the allowed-signers file")

    def _env(self, env: str) -> str:
        validate_alias(env)
        if env not in self.environments:
            raise UnknownNameError("environment", env, self.environments)
        return env

    def entries(self) -> list[dict[str, Any]]:
        """The log's entries after a quick chain check; RefusedError when it is broken."""
        verdict = self.log.verify(signatures=False)
        if not verdict.ok:
            raise RefusedError(f"the audit log is not intact ({verdict.message})",
                               "restore it from its anchored copy; `mlscope audit verify` "
                               "says more")
        return self.log.entries()

    def _ready_entries(self) -> list[dict[str, Any]]:
        entries = self.entries()
        pending = pending_intents(entries)
        if pending:
            first = pending[0]
            raise RefusedError(f"a {first['action']} of {first['subject']} (entry {first['seq']}) "
                               "was started but not finished", "run `mlscope audit repair`")
        return entries

    def _anchor(self) -> None:
        if self.policy is None or self.policy.section.anchor is None:
            return
        hashes = self.log.hashes()
        if hashes:
            for anchor in anchors_from(self.policy.section.anchor):
                anchor.publish(AnchorRecord(len(hashes), hashes[-1]))

    def _registration(self, entries: list[dict[str, Any]], model: str,
                      version: int) -> Registration:
        reg = registration(entries, model, version)
        if reg is None:
            raise RefusedError(f"{model} v{version} was not registered through mlscope (no "
                               "register entry in the audit log)",
                               "register it with `mlscope release register`")
        signers = self.policy.signers if self.policy else None
        entry = next(e for e in entries if e["hash"] == reg.entry_hash)
        if (entry.get("identity") or {}).get("verified") and self.log.signer_of(
                entry, signers) is None:
            raise RefusedError(f"the registration of {model} v{version} is not validly signed")
        return reg

    # -- register -----------------------------------------------------------------------
    def register(self, model: str, run_id: str, actor: Actor, reason: str = "") -> VersionInfo:
        """Register the run's MLflow Model as a new version, recording its artifact digest and
        the policy digest it will be promoted under."""
        from mlscope.release.pyfunc import validate_model

        policy = self.require_policy()
        with release_lock(self.state):
            self._ready_entries()
            version = self.registry.register(model, run_id, author=actor.name)
            directory = self.registry.artifact_dir(model, version)
            validate_model(directory)  # an MLflow Model with signature, example, finite output
            digest = dir_digest(directory)
            self.registry.set_version_tag(model, version, DIGEST_TAG, digest)
            self.registry.set_version_tag(model, version, POLICY_TAG, policy.digest)
            info = self.registry.version(model, version)
            self.log.append(actor, "register", f"{model}:{version}", reason, after={
                "version": version, "run_id": run_id, "artifact_digest": digest,
                "policy_digest": policy.digest, "policy_committed": policy.committed,
                "policy_commit": policy.commit, "metrics": info.metrics})
            self._anchor()
        return info

    def register_dir(self, model: str, directory: Path, actor: Actor,
                     reason: str = "", metrics: dict[str, float] | None = None) -> VersionInfo:
        """Register an MLflow Model directory saved elsewhere (logs a run holding it)."""
        from mlscope.release.pyfunc import is_mlflow_model

        if not is_mlflow_model(directory):
            raise InputError(f"{directory} is not an MLflow Model (no MLmodel file)",
                             "save it with mlflow.<flavor>.save_model(...)")
        run_id = self.registry.log_run(directory, metrics=metrics or {},
                                       run_name=f"{model}-import")
        return self.register(model, run_id, actor, reason)

    # -- approve / reject ---------------------------------------------------------------
    def approve(self, model: str, version: int, env: str, actor: Actor, reason: str,
                decision: str = APPROVE) -> Approval:
        policy = self.require_policy()
        self._env(env)
        with release_lock(self.state):
            entries = self._ready_entries()
            reg = self._registration(entries, model, version)
            return record_decision(self.log, actor, reg, env, reason, decision,
                                   policy.section.approval_ttl_hours, policy.approvers(env),
                                   policy.signers)

    # -- promote ------------------------------------------------------------------------
    def promote(self, model: str, version: int, env: str, actor: Actor, reason: str = "",
                requests_path: Path | None = None, dry_run: bool = False) -> PromotionResult:
        """Run the policy's gates for `env`; move the alias only when every gate passed."""
        policy = self.require_policy()
        self._env(env)
        if not dry_run:
            self._require_signed_for_production(actor, env)
        with release_lock(self.state):
            entries = self._ready_entries()
            info = self.registry.version(model, version)
            previous = self.registry.alias_version(model, env)
            if previous == version:
                raise InputError(f"{model} v{version} already holds {env}",
                                 "`mlscope release history` shows how it got there")
            reg = self._registration(entries, model, version)
            overrides: dict[str, Any] = {}
            if requests_path is not None:
                overrides["requests"] = {"path": str(requests_path),
                                         "sha256": file_digest(Path(requests_path))}
            results = self._preconditions(policy, env, reg, info, overrides)
            ctx = GateContext(self.registry, self.log, policy, info, reg, entries, env,
                              Path(requests_path) if requests_path else None)
            # Files that do not match their digest are never loaded; everything else is run so
            # that one refusal lists every problem.
            if not any(not g.passed for g in results if g.gate == "artifact"):
                results.extend(run_gates(ctx, policy.gates(env)))
            result = PromotionResult(model, version, env, False, previous, results, dry_run,
                                     overrides)
            if dry_run:
                return result
            subject = f"{model}:{version}"
            if result.refusals:
                self.log.append(actor, "promote.refused", subject, reason,
                                before={"env": env, "version": previous},
                                after={"env": env, "refusals": result.refusals,
                                       "overrides": overrides})
                self._anchor()
                return result
            self._move(model, env, version, previous, actor, "promote", reason, {
                "gates": [g.gate for g in results], "approvals": ctx.approval_hashes,
                "artifact_digest": reg.artifact_digest, "policy_digest": policy.digest,
                "overrides": overrides})
            result.promoted = True
            return result

    def _preconditions(self, policy: Policy, env: str, reg: Registration, info: VersionInfo,
                       overrides: dict[str, Any]) -> list[GateResult]:
        out = []
        same = reg.policy_digest == policy.digest
        out.append(GateResult("policy", same, f"policy {policy.digest[:19]}... "
                              + ("is the one recorded at registration" if same else
                                 f"differs from the {reg.policy_digest[:19]}... recorded at "
                                 "registration (gates cannot be chosen by the caller)"),
                              policy.as_dict()))
        if env == policy.production:
            out.append(GateResult("policy_committed", policy.committed,
                                  "the policy files are committed and unmodified in git"
                                  if policy.committed else "the policy files (spec, allowed "
                                  "signers, evaluation set) must be committed and unmodified "
                                  "for production", {"commit": policy.commit}))
            if overrides:
                out.append(GateResult("overrides", False, "--requests overrides the pinned "
                                      "evaluation set and is refused for production",
                                      overrides))
        try:
            directory = self.registry.verified_artifact_dir(info.model, info.version,
                                                            reg.artifact_digest)
            ok = info.artifact_digest == reg.artifact_digest and directory.is_dir()
            out.append(GateResult("artifact", ok, f"files match the registered digest "
                                  f"{reg.artifact_digest[:19]}..." if ok else
                                  "the registry's digest tag differs from the registration"))
        except RefusedError as exc:
            out.append(GateResult("artifact", False, exc.problem))
        return out

    def _move(self, model: str, env: str, version: int, previous: int | None, actor: Actor,
              cause: str, reason: str, extra: dict[str, Any]) -> None:
        subject = f"{model}:{version}"
        before = {"env": env, "version": previous}
        after = {"env": env, "version": version, **extra}
        intent = self.log.append(actor, cause + INTENT, subject, reason, before=before,
                                 after=after)
        self.registry.set_alias(model, env, version)
        try:
            self.registry.set_version_tag(model, version, f"mlscope.{env}.since", utc_now())
            self.log.append(actor, cause, subject, reason, before=before,
                            after={**after, "intent": intent["hash"]})
        except AuditWriteError as exc:
            raise RefusedError(f"{model} {env} now holds v{version} but the audit commit could "
                               f"not be written ({exc.problem})",
                               "fix the log's storage, then run `mlscope audit repair`") from exc
        self._anchor()

    # -- rollback -----------------------------------------------------------------------
    def rollback(self, model: str, env: str, actor: Actor, reason: str = "",
                 to_version: int | None = None, incident: bool = True) -> history.AliasEvent:
        """Give the alias back to the previous holder (or `to_version`, which must have held
        it before); no gates: an emergency. An incident rollback voids every approval of the
        version rolled back from."""
        self.require_policy()
        self._env(env)
        self._require_signed_for_production(actor, env)
        with release_lock(self.state):
            entries = self._ready_entries()
            current = self.registry.alias_version(model, env)
            if current is None:
                raise InputError(f"nothing holds {env} for {model}", "promote a version first")
            target = (to_version if to_version is not None
                      else history.rollback_target(entries, model, env))
            if target is None:
                raise InputError(f"the audit log has no earlier holder of {env} for {model}",
                                 "pass --to-version N to choose the version to restore")
            if target == current:
                raise InputError(f"v{target} already holds {env}")
            earlier = {e.version for e in history.events(entries, model, env)}
            if target not in earlier:
                raise InputError(f"v{target} never held {env}, so it cannot be rolled back to",
                                 f"promote it: `mlscope release promote {model} {target} "
                                 f"--to {env}`")
            reg = self._registration(entries, model, target)
            self.registry.verified_artifact_dir(model, target, reg.artifact_digest)
            current_reg = registration(entries, model, current)
            voids = [current_reg.artifact_digest] if incident and current_reg else []
            self._move(model, env, target, current, actor, "rollback", reason,
                       {"incident": incident, "voids": voids,
                        "artifact_digest": reg.artifact_digest})
            return history.events(self.log.entries(), model, env)[-1]

    # -- repair -------------------------------------------------------------------------
    def repair(self, actor: Actor) -> list[dict[str, Any]]:
        """Reconcile every half-done change with the registry: commit it when the alias moved,
        abort it when it did not; refuse when the alias holds something else."""
        self.require_policy()
        out = []
        with release_lock(self.state):
            for intent in pending_intents(self.entries()):
                model = str(intent["subject"]).rsplit(":", 1)[0]
                after, before = intent.get("after") or {}, intent.get("before") or {}
                env, version = str(after["env"]), after.get("version")
                holder = self.registry.alias_version(model, env)
                cause = str(intent["action"])[:-len(INTENT)]
                if holder == version:
                    self.log.append(actor, cause, str(intent["subject"]), "repair: the alias "
                                    "moved before the crash", before=before,
                                    after={**after, "intent": intent["hash"], "repaired": True})
                    outcome = "committed"
                elif holder == before.get("version"):
                    self.log.append(actor, ABORTED, str(intent["subject"]), "repair: the alias "
                                    "never moved", before=before,
                                    after={"env": env, "intent": intent["hash"]})
                    outcome = "aborted"
                else:
                    raise RefusedError(f"{model} {env} holds v{holder}, neither the intended "
                                       f"v{version} nor the previous v{before.get('version')}",
                                       "the alias was changed outside mlscope; restore it "
                                       "with the MLflow client, then repair")
                out.append({"intent": intent["seq"], "subject": intent["subject"], "env": env,
                            "outcome": outcome})
            if out:
                self._anchor()
        return out

    # -- history and status -------------------------------------------------------------
    def holders(self, model: str) -> dict[str, int | None]:
        return {env: self.registry.alias_version(model, env) for env in self.environments}

    def history_events(self, model: str, env: str | None = None) -> list[history.AliasEvent]:
        if env is not None:
            self._env(env)
        return history.events(self.entries(), model, env)

    def holder_at(self, model: str, env: str, when: datetime) -> history.AliasEvent | None:
        self._env(env)
        return history.holder_at(self.entries(), model, env, when)
