"""Small dataset files in every supported format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    (root / "notes.txt").write_text("".join(f"line {i} of plain text\n" for i in range(50)))
    (root / "events.jsonl").write_text("".join(
        json.dumps({"id": i, "text": "word " * (i % 9 + 1), "score": i / 3, "ok": i % 2 == 0})
        + "\n" for i in range(120)))
    (root / "sub").mkdir()
    (root / "sub" / "table.csv").write_text(
        "x,y,label\n" + "".join(f"{i},{i * 0.5},{'ab'[i % 2]}\n" for i in range(300)))
    (root / ".hidden.csv").write_text("a\n1\n")
    (root / "readme.pdf").write_bytes(b"%PDF")
    return root
