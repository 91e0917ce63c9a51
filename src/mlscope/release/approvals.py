"""Approvals for promoting a version to an environment, recorded in the audit log.

The audit log is the store: an approval counts only if its entry is in an intact chain, so an
approval cannot be slipped in by editing a file. The version's author (whoever registered it)
cannot approve it; the attempt is refused and recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mlscope.errors import InputError
from mlscope.release.audit import AuditLog
from mlscope.release.gates import RefusedError

APPROVE = "approve"
APPROVE_REFUSED = "approve.refused"
REGISTER = "register"


def subject(model: str, version: int) -> str:
    return f"{model}:{version}"


@dataclass(frozen=True)
class Approval:
    actor: str
    env: str
    reason: str
    ts: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def author_of(log: AuditLog, model: str, version: int, fallback: str | None = None) -> str | None:
    """Who registered the version: the audit log's register entry, else the registry's tag."""
    for entry in log.entries():
        if entry.get("action") == REGISTER and entry.get("subject") == subject(model, version):
            return str(entry["actor"])
    return fallback


def approvals_for(log: AuditLog, model: str, version: int, env: str) -> list[Approval]:
    """Every approval of `model:version` for `env`, first per person, in log order."""
    seen: dict[str, Approval] = {}
    for entry in log.entries():
        if (entry.get("action") == APPROVE and entry.get("subject") == subject(model, version)
                and (entry.get("after") or {}).get("env") == env):
            actor = str(entry["actor"])
            seen.setdefault(actor, Approval(actor, env, str(entry.get("reason", "")),
                                            str(entry["ts"])))
    return list(seen.values())


def approve(log: AuditLog, model: str, version: int, env: str, actor: str, reason: str,
            author: str | None) -> Approval:
    """Record `actor`'s approval; RefusedError for the author approving their own version."""
    if not reason.strip():
        raise InputError("an approval needs a reason", "pass --reason 'why this is safe to ship'")
    if author is not None and actor == author:
        log.append(actor, APPROVE_REFUSED, subject(model, version), reason,
                   after={"env": env, "why": "self-approval"})
        raise RefusedError(f"{actor} registered {model} v{version} and cannot approve it",
                           "ask someone other than the author to run `mlscope release approve`")
    entry = log.append(actor, APPROVE, subject(model, version), reason, after={"env": env})
    return Approval(actor, env, str(entry["reason"]), str(entry["ts"]))
