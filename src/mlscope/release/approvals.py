"""Signed approvals and rejections, bound to content.

An approval is an audit entry signed by the approver's SSH key. It names the artifact digest,
the policy digest, the registration entry (so a model deleted and re-created with a new "v4"
is a different subject), the environment and an expiry. It counts only when all of those match
the promotion, its signature verifies against the committed allowed-signers file, the approver
is not the author (compared as canonical identities and as key fingerprints) and, when the
policy lists approvers, is one of them, and no rollback for an incident has voided it since.
Refused attempts (self-approval, an unlisted approver) and rejections are recorded too; a valid
rejection blocks the promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mlscope.errors import InputError
from mlscope.release.audit import AuditLog
from mlscope.release.base import RefusedError
from mlscope.release.identity import Actor
from mlscope.release.signing import AllowedSigners

APPROVE = "approve"
REJECT = "reject"
APPROVE_REFUSED = "approve.refused"
REGISTER = "register"
ROLLBACK = "rollback"


def subject(model: str, version: int) -> str:
    return f"{model}:{version}"


@dataclass(frozen=True)
class Registration:
    """The audit entry that registered a version: its author, digest and policy."""

    model: str
    version: int
    author: str
    fingerprint: str | None
    artifact_digest: str
    policy_digest: str
    entry_hash: str
    ts: str


def registration(entries: list[dict[str, Any]], model: str, version: int) -> Registration | None:
    """The latest register entry for model:version (a re-created model re-registers)."""
    found = None
    for e in entries:
        if e.get("action") == REGISTER and e.get("subject") == subject(model, version):
            after = e.get("after") or {}
            found = Registration(model, version, str(e["actor"]),
                                 (e.get("identity") or {}).get("fingerprint"),
                                 str(after.get("artifact_digest")),
                                 str(after.get("policy_digest")), str(e["hash"]), str(e["ts"]))
    return found


@dataclass(frozen=True)
class Approval:
    actor: str
    env: str
    reason: str
    ts: str
    expires: str
    entry_hash: str
    signed: bool
    decision: str = APPROVE

    def as_dict(self) -> dict[str, Any]:
        return {"actor": self.actor, "env": self.env, "reason": self.reason, "ts": self.ts,
                "expires": self.expires, "entry_hash": self.entry_hash, "signed": self.signed,
                "decision": self.decision}


@dataclass
class ApprovalCheck:
    valid: list[Approval]
    rejections: list[Approval]
    ignored: list[str]  # why each other approval does not count


def _parse_ts(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check_approvals(log: AuditLog, entries: list[dict[str, Any]], reg: Registration, env: str,
                    signers: AllowedSigners | None, allowed: set[str] | None,
                    require_signed: bool, now: datetime | None = None) -> ApprovalCheck:
    """Which recorded approvals and rejections of `reg` for `env` count now."""
    now = now or datetime.now(UTC)
    voided = _voided_at(entries, reg.artifact_digest)
    valid: list[Approval] = []
    rejections: list[Approval] = []
    ignored: list[str] = []
    people: set[str] = set()
    keys: set[str] = set()
    author = signers.canonical(reg.author) if signers else reg.author
    for e in entries:
        if e.get("action") not in (APPROVE, REJECT) or e.get("subject") != subject(
                reg.model, reg.version):
            continue
        after = e.get("after") or {}
        if after.get("env") != env:
            continue
        ident = e.get("identity") or {}
        signer = log.signer_of(e, signers) if ident.get("verified") else None
        who = signer or str(e["actor"])
        fp = ident.get("fingerprint") if signer else None
        label = f"{who} ({e['action']} #{e['seq']})"
        problem = None
        if ident.get("verified") and signer is None:
            problem = "signature does not verify"
        elif signer is None and require_signed:
            problem = "unsigned (local-development mode) approvals do not count here"
        elif after.get("artifact_digest") != reg.artifact_digest:
            problem = "names another artifact (the model's files differ)"
        elif after.get("registered") != reg.entry_hash:
            problem = "approves an earlier registration of this version number"
        elif after.get("policy_digest") != reg.policy_digest:
            problem = "was given under another policy"
        elif _parse_ts(str(after.get("expires"))) <= now:
            problem = f"expired at {after.get('expires')}"
        elif voided is not None and _parse_ts(str(e["ts"])) <= voided:
            problem = "voided by a rollback for an incident"
        elif who == author or (fp is not None and fp == reg.fingerprint):
            problem = "the author cannot approve their own version"
        elif allowed is not None and who not in allowed:
            problem = f"{who} is not an approver for {env}"
        elif who in people or (fp is not None and fp in keys):
            problem = "the same person (identity or key) counts once"
        if problem:
            ignored.append(f"{label}: {problem}")
            continue
        people.add(who)
        if fp:
            keys.add(fp)
        item = Approval(who, env, str(e.get("reason", "")), str(e["ts"]),
                        str(after.get("expires")), str(e["hash"]), signer is not None,
                        str(e["action"]))
        (rejections if e["action"] == REJECT else valid).append(item)
    return ApprovalCheck(valid, rejections, ignored)


def _voided_at(entries: list[dict[str, Any]], digest: str) -> datetime | None:
    """When the last incident rollback away from `digest` happened (None: never)."""
    when = None
    for e in entries:
        after = e.get("after") or {}
        if e.get("action") == ROLLBACK and digest in (after.get("voids") or []):
            when = _parse_ts(str(e["ts"]))
    return when


def record_decision(log: AuditLog, actor: Actor, reg: Registration, env: str, reason: str,
                    decision: str, ttl_hours: float, allowed: set[str] | None,
                    signers: AllowedSigners | None) -> Approval:
    """Record `actor`'s signed approval or rejection; RefusedError (recorded) for the author
    or someone the policy does not list."""
    if not reason.strip():
        raise InputError(f"a{'n approval' if decision == APPROVE else ' rejection'} needs a "
                         "reason", "pass --reason 'why'")
    author = signers.canonical(reg.author) if signers else reg.author
    why = None
    if actor.name == author or (actor.fingerprint and actor.fingerprint == reg.fingerprint):
        why = "self-approval"
    elif allowed is not None and actor.name not in allowed:
        why = f"not an approver for {env}"
    target = subject(reg.model, reg.version)
    if why is not None:
        log.append(actor, APPROVE_REFUSED, target, reason, after={"env": env, "why": why})
        raise RefusedError(f"{actor.name} cannot {decision} {reg.model} v{reg.version} for "
                           f"{env}: {why}", "ask an approver listed in the policy")
    expires = (datetime.now(UTC) + timedelta(hours=ttl_hours)).isoformat(timespec="seconds")
    entry = log.append(actor, decision, target, reason, after={
        "env": env, "artifact_digest": reg.artifact_digest, "policy_digest": reg.policy_digest,
        "registered": reg.entry_hash, "expires": expires})
    return Approval(actor.name, env, str(entry["reason"]), str(entry["ts"]), expires,
                    str(entry["hash"]), actor.verified, decision)
