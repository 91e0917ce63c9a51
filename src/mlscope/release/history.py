"""Which version held each alias (environment), and when: replayed from the audit log.

The audit log is the source of truth: a promotion or rollback counts once its commit entry is
in the (verified) chain. There is no second file to edit, so "what was in prod on date X" and
"what does rollback restore" cannot be changed without breaking the chain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mlscope.errors import InputError

COMMITS = ("promote", "rollback")


@dataclass(frozen=True)
class AliasEvent:
    ts: str
    model: str
    alias: str
    version: int | None  # None: the alias was removed
    previous: int | None
    actor: str
    cause: str  # promote | rollback
    reason: str
    seq: int = 0

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


def events(entries: list[dict[str, Any]], model: str | None = None,
           alias: str | None = None) -> list[AliasEvent]:
    out = []
    for e in entries:
        if e.get("action") not in COMMITS:
            continue
        after, before = e.get("after") or {}, e.get("before") or {}
        name = str(e.get("subject", "")).rsplit(":", 1)[0]
        ev = AliasEvent(str(e["ts"]), name, str(after.get("env")), after.get("version"),
                        before.get("version"), str(e["actor"]), str(e["action"]),
                        str(e.get("reason", "")), int(e.get("seq", 0)))
        if (model is None or ev.model == model) and (alias is None or ev.alias == alias):
            out.append(ev)
    return out


def holders(entries: list[dict[str, Any]], model: str) -> dict[str, int | None]:
    """The holder of each environment according to the log."""
    out: dict[str, int | None] = {}
    for ev in events(entries, model):
        out[ev.alias] = ev.version
    return out


def holder_at(entries: list[dict[str, Any]], model: str, alias: str,
              when: datetime) -> AliasEvent | None:
    found = None
    for event in events(entries, model, alias):
        if event.when <= when:
            found = event
    return found


def rollback_target(entries: list[dict[str, Any]], model: str, alias: str) -> int | None:
    """The version before the current one, replaying promotions as pushes, rollbacks as pops.

    Rolling back twice therefore walks back two promotions instead of toggling.
    """
    stack: list[int] = []
    for event in events(entries, model, alias):
        if event.cause == "rollback":
            if stack:
                stack.pop()
            if event.version is not None and (not stack or stack[-1] != event.version):
                stack.append(event.version)
        elif event.version is not None:
            stack.append(event.version)
    return stack[-2] if len(stack) >= 2 else None
