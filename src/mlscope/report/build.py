"""Assemble the report from a spec and write it as one self-contained HTML file (and PDF).

`as_of` fixes the report's date (the months priced, waiver expiry, the date printed), so the
same spec and date give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import glob
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mlscope.architecture.locate import load_with_locator
from mlscope.errors import InputError, require
from mlscope.report.context import ReportContext
from mlscope.report.decision import Decision, build_decision, risk_cost, risk_probability
from mlscope.report.model import Section
from mlscope.report.sections import build_sections
from mlscope.spec.models import ProjectSpec

REPORT_FILE = "index.html"
PDF_FILE = "report.pdf"


@dataclass
class Report:
    spec: ProjectSpec
    source: str
    as_of: dt.date
    sections: list[Section]
    decision: Decision

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    @property
    def failed(self) -> list[Section]:
        return [s for s in self.sections if s.status == "failed"]

    @property
    def summary(self) -> list[tuple[str, str]]:
        return self.decision.rows()

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.spec.project.name, "source": self.source,
            "as_of": self.as_of.isoformat(),
            "decision": self.decision.to_dict(),
            "summary": dict(self.summary),
            "sections": [s.to_dict() for s in self.sections],
            "failed": [s.id for s in self.failed],
        }


def build_report(spec: ProjectSpec, source: str = "mlscope.yaml", as_of: dt.date | None = None,
                 *, locate: Any = None, loaded_rate: float | None = None) -> Report:
    day = as_of or dt.datetime.now(dt.UTC).date()
    ctx = ReportContext(spec, day, locate=locate, loaded_rate=loaded_rate)
    ctx.graph()  # an architecture that cannot be built is bad input (exit 2), not a section
    sections = build_sections(ctx)
    return Report(spec, source, day, sections, build_decision(ctx, sections))


def render_html(report: Report) -> str:
    jinja2 = require("jinja2", "report")
    Markup = require("markupsafe", "report").Markup
    Environment, PackageLoader = jinja2.Environment, jinja2.PackageLoader
    select_autoescape = jinja2.select_autoescape

    env = Environment(loader=PackageLoader("mlscope.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    css = (resources.files("mlscope.report") / "templates" / "report.css").read_text("utf-8")
    return env.get_template("report.html.j2").render(
        report=report, spec=report.spec, css=Markup(css), decision=report.decision,
        risk_probability=risk_probability, risk_cost=risk_cost,
        svg=lambda s: Markup(s),  # our charts escape their text; the diagrams are sanitised
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


def with_billing_export(spec: ProjectSpec, export: str) -> ProjectSpec:
    """The spec with its `billing.export` replaced by `export` (relative to the working folder).

    The spec's tag keys are kept when it has a `billing:` section; the defaults otherwise.
    """
    from mlscope.spec.billing import BillingSection

    if not export.startswith("s3://") and not glob.glob(export):
        raise InputError(f"billing export {export} not found",
                         "pass a CUR 2.0, legacy CUR or FOCUS export: a file, folder, glob or "
                         "s3:// prefix")
    keys = spec.billing.tag_keys if spec.billing is not None else None
    section = (BillingSection(export=export, tag_keys=keys) if keys is not None
               else BillingSection(export=export))
    return spec.model_copy(update={"billing": section})


def write_report(spec_path: str | Path, out_dir: str | Path, *, pdf: bool = False,
                 as_of: dt.date | None = None, loaded_rate: float | None = None,
                 billing_export: str | None = None) -> WrittenReport:
    spec, locate = load_with_locator(spec_path)
    if billing_export is not None:
        spec = with_billing_export(spec, billing_export)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"output path {out} exists and is not a folder",
                         "pass a folder with -o, e.g. -o build/report")
    report = build_report(spec, _display_path(Path(spec_path)), as_of, locate=locate,
                          loaded_rate=loaded_rate)
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
