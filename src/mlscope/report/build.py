"""Assemble the report from a spec and write it as one self-contained HTML file (and PDF)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mlscope.errors import InputError
from mlscope.report.model import Section
from mlscope.report.sections import build_sections
from mlscope.report.summary import summary_rows
from mlscope.spec import load_spec
from mlscope.spec.models import ProjectSpec

REPORT_FILE = "index.html"
PDF_FILE = "report.pdf"


@dataclass
class Report:
    spec: ProjectSpec
    source: str
    generated_at: dt.datetime
    sections: list[Section]
    summary: list[tuple[str, str]] = field(default_factory=list)

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.spec.project.name, "source": self.source,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "summary": dict(self.summary),
            "sections": [s.to_dict() for s in self.sections],
        }


def build_report(spec: ProjectSpec, source: str = "mlscope.yaml",
                 now: dt.datetime | None = None) -> Report:
    sections = build_sections(spec)
    report = Report(spec, source, now or dt.datetime.now(dt.UTC), sections)
    report.summary = summary_rows(report.sections)
    return report


def render_html(report: Report) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(loader=PackageLoader("mlscope.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    css = (resources.files("mlscope.report") / "templates" / "report.css").read_text("utf-8")
    return env.get_template("report.html.j2").render(
        report=report, spec=report.spec, css=Markup(css),
        svg=lambda s: Markup(s),  # our charts escape their text; the diagram is sanitised
    )


def _display_path(path: Path) -> str:
    """The spec's path relative to the working folder, so reports do not show home folders."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


@dataclass
class WrittenReport:
    report: Report
    html_path: Path
    pdf_path: Path | None
    size_bytes: int


def write_report(spec_path: str | Path, out_dir: str | Path, *, pdf: bool = False) -> WrittenReport:
    spec = load_spec(spec_path)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"output path {out} exists and is not a folder",
                         "pass a folder with -o, e.g. -o build/report")
    report = build_report(spec, _display_path(Path(spec_path)))
    html_path = out / REPORT_FILE
    try:
        out.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(report), encoding="utf-8")
        for section in report.sections:
            for name, content in section.attachments.items():
                (out / name).write_text(content, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the report to {out}: {exc.strerror or exc}",
                         "pass a folder you can write to with -o") from None
    pdf_path = None
    if pdf:
        from mlscope.report.browser import print_pdf

        pdf_path = print_pdf(html_path, out / PDF_FILE)
    names = [REPORT_FILE, *(n for s in report.sections for n in s.attachments)]
    size = sum((out / n).stat().st_size for n in names)
    return WrittenReport(report, html_path, pdf_path, size)
