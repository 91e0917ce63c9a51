"""docs/report.md stays true: the report output it shows is regenerated and compared.

Run with MLSCOPE_UPDATE_DOCS=1 to rewrite the block after a deliberate change (an engine's
figures moved); the diff then shows what changed for readers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "report.md"
BLOCK = re.compile(r"(<!-- report-output -->\n```\n)(.*?)(```\n<!-- /report-output -->)", re.S)


def test_documented_report_output_is_real(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = run("report", str(ROOT / "examples" / "recommender" / "mlscope.yaml"), "-o",
              "build/report", "--as-of", "2026-12-01")
    assert res.code == 0, res.err
    text = DOC.read_text()
    m = BLOCK.search(text)
    assert m, "docs/report.md lost its report-output block"
    if os.environ.get("MLSCOPE_UPDATE_DOCS") == "1":
        DOC.write_text(text[:m.start(2)] + res.out + text[m.end(2):])
        return
    # The page's size moves with every drawing tweak; the figures readers act on must not.
    size = re.compile(r"\(\d[\d,]* KiB\)")
    assert size.sub("(KiB)", m.group(2)) == size.sub("(KiB)", res.out)
