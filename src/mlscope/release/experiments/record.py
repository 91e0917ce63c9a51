"""Experiment decisions in the release audit log, bound to the artifact that was tested.

`record_decision` appends an `experiment_decision` entry signed by the acting person (the same
SSH identity approvals use) with the data the decision saw (file digest, counts, statistics,
thresholds) and the candidate's registration: model, version, artifact digest, registration
entry. `latest_decision` is what the release's experiment gate trusts: the newest such entry for
the experiment and metric that names the candidate's artifact digest and registration, is
signed by an allowed signer (required for production), and is not older than the gate allows.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlscope.errors import InputError
from mlscope.release.approvals import Registration, registration, subject
from mlscope.release.audit import AuditLog
from mlscope.release.identity import Actor
from mlscope.release.signing import AllowedSigners

ACTION = "experiment_decision"


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def record_decision(log: AuditLog, entries: list[dict[str, Any]], actor: Actor,
                    experiment: str, model: str, version: int, result: dict[str, Any],
                    data_file: str | Path) -> dict[str, Any]:
    """Append the decision about `model` v`version` (the variant that won or lost)."""
    reg = registration(entries, model, version)
    if reg is None:
        raise InputError(f"{model} v{version} has no registration in the audit log",
                         "register it with `mlscope release register` first")
    seen = {
        "experiment": experiment, "metric": result["metric"], "decision": result["decision"],
        "reasons": result["reasons"], "method": result["method"], "alpha": result["alpha"],
        "srm": result["srm"], "variants": result["variants"],
        "comparisons": result["comparisons"],
        "data": Path(data_file).name, "data_digest": file_digest(data_file),
        "model": model, "version": version, "artifact_digest": reg.artifact_digest,
        "registered": reg.entry_hash,
    }
    entry = log.append(actor, ACTION, subject(model, version), reason=result["decision"],
                       after=seen)
    return {"seq": entry["seq"], "hash": entry["hash"], "signed": bool(entry.get("sig"))}


def latest_decision(log: AuditLog, entries: list[dict[str, Any]],
                    signers: AllowedSigners | None, reg: Registration, experiment: str,
                    metric: str, max_age_hours: float, require_signed: bool,
                    now: datetime | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    now = now or datetime.now(UTC)
    ignored: list[str] = []
    found = None
    for e in entries:
        if e.get("action") != ACTION or e.get("subject") != subject(reg.model, reg.version):
            continue
        after = e.get("after") or {}
        if after.get("experiment") != experiment or after.get("metric") != metric:
            continue
        signer = log.signer_of(e, signers) if (e.get("identity") or {}).get("verified") else None
        label = f"decision #{e['seq']}"
        ts = datetime.fromisoformat(str(e["ts"]).replace("Z", "+00:00"))
        if (e.get("identity") or {}).get("verified") and signer is None:
            ignored.append(f"{label}: signature does not verify")
        elif signer is None and require_signed:
            ignored.append(f"{label}: unsigned (local-development mode) decisions do not count")
        elif after.get("artifact_digest") != reg.artifact_digest:
            ignored.append(f"{label}: names another artifact (the model's files differ)")
        elif after.get("registered") != reg.entry_hash:
            ignored.append(f"{label}: is about an earlier registration of this version")
        elif now - ts > timedelta(hours=max_age_hours):
            ignored.append(f"{label}: older than {max_age_hours:g} h")
        else:
            found = {"seq": e["seq"], "ts": e["ts"], "decision": after.get("decision"),
                     "hash": e["hash"], "signer": signer}
    return found, ignored
