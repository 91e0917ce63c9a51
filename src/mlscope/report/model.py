"""What the report is made of: sections holding facts, charts, tables and findings.

Sections are plain data so the HTML template, the CLI summary and `--json` all read the same
thing; a section that has nothing to show or failed keeps a plain notice, never numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "no-input", "failed"]


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
    kind: str = ""  # css class of the figure ("system", "story", "container")


@dataclass
class FindingView:
    level: str  # error | warning | info
    message: str
    fix: str = ""
    why: str = ""
    rule: str = ""
    location: str = ""  # spec file:line:col
    components: tuple[str, ...] = ()
    waived: str = ""  # "until 2027-03-31: reason" when a waiver accepts it


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

    def unavailable(self, why: str, status: Status = "no-input") -> Section:
        self.status = status
        self.notice = why
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status,
                "notice": self.notice or None, "charts": len(self.figures), "data": self.data}


class Skip(Exception):
    """The spec gives this section nothing to show (no budget, no plan): said plainly, not a
    failure."""
