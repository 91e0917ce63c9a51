"""mlscope's own history of which version held each alias (environment), and when.

MLflow only knows the current holder of an alias. Every change made through mlscope (promote,
rollback, deploy) is also appended here, in the same hash-chained format as the audit log, so
"what was in prod on date X" has an answer that can be verified.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlscope.errors import InputError
from mlscope.release.audit import AuditLog
from mlscope.release.state import state_dir

HISTORY_FILE = "alias_history.jsonl"
SET_ALIAS = "alias.set"


@dataclass(frozen=True)
class AliasEvent:
    ts: str
    model: str
    alias: str
    version: int | None  # None: the alias was removed
    previous: int | None
    actor: str
    cause: str  # promote | rollback | deploy | ...
    reason: str

    @property
    def when(self) -> datetime:
        return parse_when(self.ts)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_when(text: str) -> datetime:
    """ISO date or date-time; naive values are UTC. `2026-11-26` means the end of that day."""
    raw = text.strip()
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"'{text}' is not a date",
                         "use ISO 8601, e.g. 2026-11-26 or 2026-11-26T14:30:00Z") from exc
    if len(raw) == 10:  # a bare date: the state at the end of that day
        when = when.replace(hour=23, minute=59, second=59, microsecond=999999)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class AliasHistory:
    def __init__(self, path: Path | None = None) -> None:
        self.log = AuditLog(path or state_dir() / HISTORY_FILE)

    def record(self, model: str, alias: str, version: int | None, previous: int | None,
               actor: str, cause: str, reason: str = "") -> AliasEvent:
        entry = self.log.append(actor, SET_ALIAS, model, reason,
                                before={"alias": alias, "version": previous},
                                after={"alias": alias, "version": version, "cause": cause})
        return _event(entry)

    def events(self, model: str | None = None, alias: str | None = None) -> list[AliasEvent]:
        out = [_event(e) for e in self.log.entries() if e.get("action") == SET_ALIAS]
        return [e for e in out if (model is None or e.model == model)
                and (alias is None or e.alias == alias)]

    def holder_at(self, model: str, alias: str, when: datetime) -> AliasEvent | None:
        """The event that set the alias's holder as of `when` (None: nothing held it yet)."""
        found = None
        for event in self.events(model, alias):
            if event.when <= when:
                found = event
        return found

    def rollback_target(self, model: str, alias: str) -> int | None:
        """The version before the current one, replaying promotions as pushes, rollbacks as pops.

        Rolling back twice therefore walks back two promotions instead of toggling.
        """
        stack: list[int] = []
        for event in self.events(model, alias):
            if event.cause == "rollback":
                if stack:
                    stack.pop()
                if event.version is not None and (not stack or stack[-1] != event.version):
                    stack.append(event.version)
            elif event.version is not None:
                stack.append(event.version)
        return stack[-2] if len(stack) >= 2 else None


def _event(entry: dict[str, Any]) -> AliasEvent:
    before, after = entry.get("before") or {}, entry.get("after") or {}
    return AliasEvent(ts=str(entry["ts"]), model=str(entry["subject"]),
                      alias=str(after.get("alias")), version=after.get("version"),
                      previous=before.get("version"), actor=str(entry["actor"]),
                      cause=str(after.get("cause", "")), reason=str(entry.get("reason", "")))
