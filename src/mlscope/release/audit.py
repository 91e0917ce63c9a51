"""A tamper-evident, append-only audit log: JSON lines chained by SHA-256 and signed.

Each entry holds who, when, what, why and before/after, plus `prev` (the previous entry's hash),
`identity` (verified or local-dev), `sig` (the actor's SSH signature over everything but `sig`
and `hash`) and `hash` (SHA-256 over the entry without `hash`). Editing, deleting or reordering
an entry breaks the chain; an entry appended by someone without a listed key fails its
signature (or is flagged unsigned, which never counts for production). A side file
(`<log>.head`) catches a cut-off tail by a careless editor; a determined writer can rewrite both
files, which only an anchor outside their reach catches (mlscope.release.anchor).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlscope.errors import InputError, MlscopeError
from mlscope.release.identity import Actor
from mlscope.release.redact import redact, redact_text
from mlscope.release.signing import AllowedSigners
from mlscope.release.state import state_dir

GENESIS = "0" * 64
AUDIT_FILE = "audit.jsonl"
_FIELDS = ("seq", "ts", "actor", "action", "subject", "reason", "before", "after", "prev",
           "identity", "sig")
LOCAL_DEV = "local-dev"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def signed_bytes(entry: dict[str, Any]) -> bytes:
    """What the actor signs: the entry without its signature and hash (seq and prev included,
    so a signed entry cannot be replayed at another place in another log)."""
    body = {k: v for k, v in entry.items() if k not in ("hash", "sig")}
    return canonical_json(body).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    first_bad: int | None  # 1-based entry (line) number of the first bad entry
    message: str
    entries: int
    head: str  # hash of the last good entry (GENESIS for an empty log)
    unsigned: int = 0  # entries written in local-development mode (flagged, never trusted)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "first_bad": self.first_bad, "message": self.message,
                "entries": self.entries, "head": self.head, "unsigned": self.unsigned}


class AuditWriteError(MlscopeError):
    """The log could not be written: the change it would record is not made (exit 1)."""

    exit_code = 1


class AuditLog:
    """Append-only hash-chained JSON-lines log. Appends are serialised with a file lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self._verified: dict[str, str | None] = {}  # hash -> verified principal (cache)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _last(self) -> tuple[int, str]:
        """(seq, hash) of the last line; (0, GENESIS) for an empty log. Reads only the tail."""
        if not self.path.exists():
            return 0, GENESIS
        with open(self.path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            block, data = 4096, b""
            while size > 0 and data.strip().count(b"\n") < 1:
                step = min(block, size)
                size -= step
                fh.seek(size)
                data = fh.read(step) + data
                block *= 2
        lines = [ln for ln in data.splitlines() if ln.strip()]
        if not lines:
            return 0, GENESIS
        try:
            entry = json.loads(lines[-1])
            return int(entry["seq"]), str(entry["hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"audit log {self.path} ends with a corrupt entry",
                             "run `mlscope audit verify` to find the first bad entry") from exc

    def append(self, actor: Actor | str, action: str, subject: str, reason: str = "",
               before: dict[str, Any] | None = None,
               after: dict[str, Any] | None = None) -> dict[str, Any]:
        """Append one entry (secrets redacted, signed by a verified actor) and return it.

        A plain name (str) writes an unsigned entry, flagged like local-development ones:
        nothing the release gates trust is ever read from such an entry.
        """
        if isinstance(actor, str):
            actor = Actor(actor)
        if not actor.name.strip() or not action.strip():
            raise InputError("an audit entry needs an actor and an action")
        try:
            return self._append(actor, action, subject, reason, before, after)
        except OSError as exc:
            raise AuditWriteError(f"cannot write the audit log {self.path}: "
                                  f"{exc.strerror or exc}", "nothing was recorded") from exc

    def _append(self, actor: Actor, action: str, subject: str, reason: str,
                before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
        with self._locked():
            seq, prev = self._last()
            entry: dict[str, Any] = {
                "seq": seq + 1, "ts": utc_now(), "actor": redact_text(actor.name),
                "action": action, "subject": redact_text(subject), "reason": redact_text(reason),
                "before": redact(before or {}), "after": redact(after or {}), "prev": prev,
                "identity": ({"verified": True, "fingerprint": actor.fingerprint}
                             if actor.verified else {"verified": False, "mode": LOCAL_DEV}),
            }
            entry["sig"] = actor.sign(signed_bytes(entry))
            entry["hash"] = entry_hash(entry)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(canonical_json(entry) + "\n")
                fh.flush()
                os.fsync(fh.fileno())  # an audit entry must survive a crash right after
            self.head_path.write_text(canonical_json({"seq": entry["seq"], "hash": entry["hash"]}))
        return entry

    def hashes(self) -> list[str]:
        return [str(e.get("hash")) for e in self.entries()]

    def entries(self) -> list[dict[str, Any]]:
        """Every parseable entry, in file order (use verify() before trusting them)."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def signer_of(self, entry: dict[str, Any], signers: AllowedSigners | None) -> str | None:
        """The verified principal who signed `entry`, or None (unsigned or a bad signature)."""
        digest = str(entry.get("hash"))
        if digest not in self._verified:
            found = None
            if signers is not None and entry.get("sig"):
                sig = signers.verify(signed_bytes(entry), str(entry["sig"]),
                                     claimed=str(entry.get("actor", "")))
                if sig is not None and sig.fingerprint == (entry.get("identity") or {}).get(
                        "fingerprint") and sig.principal == signers.canonical(entry["actor"]):
                    found = sig.principal
            self._verified[digest] = found
        return self._verified[digest]

    def verify(self, anchor: str | None = None, signers: AllowedSigners | None = None,
               signatures: bool = True) -> VerifyResult:
        """Check the chain, the head file and (unless `signatures` is False: the quick check
        before each command) every signature; `anchor`, a head hash recorded elsewhere
        earlier, must still be in the chain."""
        lines = ([ln for ln in self.path.read_text(encoding="utf-8").splitlines() if ln.strip()]
                 if self.path.exists() else [])
        hashes: list[str] = []
        unsigned = 0
        for number, line in enumerate(lines, start=1):
            prev = hashes[-1] if hashes else GENESIS
            problem = _check_line(line, number, prev)
            entry = json.loads(line) if problem is None else {}
            if problem is None and (entry.get("identity") or {}).get("verified"):
                if not signatures:
                    pass
                elif signers is None:
                    problem = "signed entry, but no allowed-signers file to check it against"
                elif self.signer_of(entry, signers) is None:
                    problem = (f"signature does not verify for {entry.get('actor')} against "
                               f"{signers.path.name} (forged or edited)")
            elif problem is None:
                if (entry.get("identity") or {}).get("mode") != LOCAL_DEV or entry.get("sig"):
                    problem = "neither signed nor a local-development entry"
                unsigned += 1
            if problem:
                return VerifyResult(False, number, f"entry {number}: {problem}", len(hashes), prev,
                                    unsigned)
            hashes.append(entry["hash"])
        head = hashes[-1] if hashes else GENESIS
        bad = self._check_head(hashes)
        if bad:
            number, problem = bad
            return VerifyResult(False, number, f"entry {number}: {problem}", len(hashes), head,
                                unsigned)
        if anchor is not None and anchor.strip().lower() not in hashes:
            problem = (f"the anchored hash {anchor.strip()[:16]}... is not in the chain: the "
                       "log was rewritten or is not the anchored log")
            return VerifyResult(False, None, problem, len(hashes), head, unsigned)
        flag = f", {unsigned} unsigned (local-dev)" if unsigned else ""
        return VerifyResult(True, None, f"{len(hashes)} entries, chain intact{flag}",
                            len(hashes), head, unsigned)

    def _check_head(self, hashes: list[str]) -> tuple[int, str] | None:
        """Compare the chain with the head file: catches entries cut off (or added to) the end."""
        count = len(hashes)
        if not self.head_path.exists():
            return None if count == 0 else (count, f"head file {self.head_path.name} is missing")
        try:
            head = json.loads(self.head_path.read_text())
            seq, digest = int(head["seq"]), str(head["hash"])
        except (ValueError, KeyError, TypeError):
            return count, f"head file {self.head_path.name} is corrupt"
        if seq == count == 0:
            return None
        if seq > count:
            return count + 1, (f"missing: the log ends at entry {count} but {seq} were written "
                               "(entries deleted from the end)")
        if seq < 1 or hashes[seq - 1] != digest:
            return max(seq, 1), "does not match the recorded head hash (rewritten)"
        if seq < count:
            return seq + 1, f"appended outside mlscope (the head records {seq} entries)"
        return None


def _check_line(line: str, number: int, prev: str) -> str | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return "not valid JSON"
    if not isinstance(entry, dict) or set(entry) != {*_FIELDS, "hash"}:
        return "fields missing or added"
    if entry["seq"] != number:
        return f"sequence number {entry['seq']} where {number} was expected (deleted or reordered)"
    if entry["prev"] != prev:
        return "previous-hash link broken (an entry before it was deleted, edited or reordered)"
    if entry_hash(entry) != entry["hash"]:
        return "content does not match its hash (edited)"
    return None


def default_audit_log() -> AuditLog:
    """The project's audit log: `audit.jsonl` in the release state directory."""
    return AuditLog(state_dir() / AUDIT_FILE)
