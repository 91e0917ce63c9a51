"""Experiment decisions written to the release audit log, with the data they saw."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from mlscope.release.audit import AuditLog


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def record_decision(audit_log: str | Path, result: dict[str, Any], data_file: str | Path,
                    actor: str | None = None) -> dict[str, Any]:
    """Append the decision with the counts, statistics and thresholds behind it."""
    if actor is None:
        from mlscope.release.identity import current_identity

        actor = current_identity()
    seen = {
        "data": str(data_file), "data_digest": file_digest(data_file),
        "metric": result["metric"], "method": result["method"], "alpha": result["alpha"],
        "srm": result["srm"], "variants": result["variants"],
        "comparisons": result["comparisons"], "decision": result["decision"],
        "reasons": result["reasons"],
    }
    entry = AuditLog(Path(audit_log)).append(actor, "experiment_decision", result["metric"],
                                             reason=result["decision"], after=seen)
    return {"seq": entry["seq"], "hash": entry["hash"]}
