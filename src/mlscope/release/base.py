"""Small types shared by gates, approvals and promotion (so none of them imports another)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlscope.errors import InputError


class RefusedError(InputError):
    """A policy said no (a gate, a self-approval, a tampered log). Exit code 1: the input was
    well formed, the control refused it."""

    exit_code = 1


@dataclass
class GateResult:
    gate: str
    passed: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "passed": self.passed, "detail": self.detail,
                "data": self.data}
