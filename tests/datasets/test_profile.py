"""`profile()` and `mlscope dataset profile`: rows, bytes, columns and types."""

from __future__ import annotations

import csv
import gzip
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.datasets import profile
from mlscope.errors import InputError


def test_folder_profile_sums_files_and_skips_hidden_and_unknown(folder: Path) -> None:
    prof = profile(folder)
    assert prof.rows == 50 + 120 + 300
    assert prof.formats == ["csv", "jsonl", "txt"]
    assert len(prof.files) == 3
    assert prof.bytes == sum(p.stat().st_size for p in (
        folder / "notes.txt", folder / "events.jsonl", folder / "sub" / "table.csv"))
    types = {c.name: c.type for c in prof.columns}
    assert types == {"id": "int64", "text": "string", "score": "double", "ok": "bool",
                     "x": "int64", "y": "double", "label": "string"}
    assert any("union" in n for n in prof.notes)


def test_parquet_rows_and_types_come_from_metadata(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": range(7), "b": [0.5] * 7, "s": list("abcdefg")}).to_parquet(path)
    prof = profile(path)
    assert prof.rows == 7
    assert {c.name: c.type for c in prof.columns} == {"a": "int64", "b": "double", "s": "string"}


def test_gzipped_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("a,b\n1,x\n2,y\n")
    prof = profile(path)
    assert prof.rows == 2 and prof.formats == ["csv"]


def test_quoted_newlines_in_csv_are_one_row(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('id,comment\n1,"two\nlines"\n2,plain\n')
    assert profile(path).rows == 2


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("missing.csv", None, "does not exist"),
    ("data.xlsx", b"x", "unsupported dataset file"),
    ("bad.jsonl", b'{"a": 1}\nnot json\n', "line 2 is not JSON"),
])
def test_bad_paths_raise_with_a_fix(tmp_path: Path, name: str, content: bytes | None,
                                    problem: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as err:
        profile(path)
    assert problem in err.value.problem and err.value.fix


def test_a_folder_without_dataset_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError, match="holds no dataset files"):
        profile(tmp_path)


halves = st.integers(-10**6, 10**6).map(lambda v: v + 0.5)  # floats that never look like ints
cells = st.one_of(st.integers(-10**6, 10**6), halves,
                  st.text(alphabet="abcxyz", min_size=1, max_size=5))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(-1000, 1000), cells), min_size=1, max_size=40))
def test_csv_profile_counts_rows_and_infers_types(rows: list[tuple[int, object]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["n", "v"])
            writer.writerows(rows)
        prof = profile(path)
    assert prof.rows == len(rows)
    types = {c.name: c.type for c in prof.columns}
    assert types["n"] == "int64"
    kinds = {type(v) for _, v in rows}
    expected = ("string" if kinds == {str} else "double" if kinds <= {int, float} and float in kinds
                else "int64" if kinds == {int} else None)
    if expected:
        assert types["v"] == expected
    else:  # numbers and words together
        assert "string" in types["v"].split("|")


def test_cli_profile_json_and_table(run, folder: Path) -> None:
    res = run("dataset", "profile", str(folder), "--json")
    assert res.code == 0
    out = res.json()
    assert out["rows"] == 470 and {"name": "label", "type": "string"} in out["columns"]
    table = run("dataset", "profile", str(folder / "sub" / "table.csv"))
    assert table.code == 0 and "300 rows" in table.out
    missing = run("dataset", "profile", str(folder / "nope"))
    assert missing.code == 2 and missing.err.startswith("Error:")
