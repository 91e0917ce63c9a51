"""What the report is made of: sections holding facts, charts, tables and findings.

Sections are plain data so the HTML template, the CLI summary and `--json` all read the same
thing; an engine that is missing or failed leaves its section with a plain notice, never numbers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "unavailable", "no-input", "failed"]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    numeric: tuple[int, ...] = ()  # columns to right-align


@dataclass
class Figure:
    svg: str
    caption: str
    link: str | None = None  # a file beside the report with the full-size drawing


@dataclass
class FindingView:
    level: str  # error | warning | info
    message: str
    fix: str = ""
    why: str = ""
    rule: str = ""


@dataclass
class Section:
    id: str
    title: str
    lead: str  # one plain sentence: what this section tells a sponsor
    status: Status = "ok"
    notice: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    findings: list[FindingView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Gathered into the "Assumptions and sources" section.
    assumptions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    lists: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading, items)
    data: dict[str, Any] = field(default_factory=dict)  # machine-readable, for --json
    attachments: dict[str, str] = field(default_factory=dict)  # file name -> text, beside it

    def unavailable(self, why: str, status: Status = "unavailable") -> Section:
        self.status = status
        self.notice = why
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status,
                "notice": self.notice or None, "charts": len(self.figures), "data": self.data}


class EngineUnavailable(Exception):
    """An engine module or function the report calls is not there (yet)."""


def engine_function(module: str, name: str, engine: str) -> Callable[..., Any]:
    """Import `module.name`, or explain plainly which engine is missing and why."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module == missing or module.startswith(missing + "."):
            raise EngineUnavailable(f"not available yet: the {engine} ({module}) is not "
                                    "installed/implemented") from None
        raise EngineUnavailable(
            f"not available: the {engine} needs the Python package '{missing}', which is not "
            "installed (pip install 'mlscope[all]')") from None
    func = getattr(mod, name, None)
    if not callable(func):
        raise EngineUnavailable(
            f"not available yet: the {engine} has no {module}.{name}() implemented")
    return func
