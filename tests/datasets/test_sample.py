"""Seeded fraction samples: exact sizes, nesting, repeatability, formats kept."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.datasets import profile, sample
from mlscope.datasets.sample import keep_mask
from mlscope.errors import InputError


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 2000), small=st.floats(0.001, 1.0), seed=st.integers(0, 2**16))
def test_masks_are_exact_and_nested(rows: int, small: float, seed: int) -> None:
    big = min(1.0, small * 2)
    a, b = keep_mask(rows, small, seed), keep_mask(rows, big, seed)
    assert a.sum() == min(rows, max(1, round(small * rows)))
    assert not (a & ~b).any()  # the small sample is inside the big one
    assert (keep_mask(rows, small, seed) == a).all()


def test_folder_sample_keeps_layout_formats_and_rows(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    result = sample(folder, 0.1, out, seed=3)
    assert result.files == 3 and result.source_rows == 470
    assert result.rows == 5 + 12 + 30
    prof = profile(out)
    assert prof.rows == 47 and prof.formats == ["csv", "jsonl", "txt"]
    assert (out / "sub" / "table.csv").read_text().startswith("x,y,label\n")
    src_lines = set((folder / "notes.txt").read_text().splitlines())
    assert set((out / "notes.txt").read_text().splitlines()) <= src_lines


def test_same_seed_same_sample_other_seed_other_sample(folder: Path, tmp_path: Path) -> None:
    csv_path = folder / "sub" / "table.csv"
    one = Path(sample(csv_path, 0.2, tmp_path / "a", seed=1).path).read_text()
    again = Path(sample(csv_path, 0.2, tmp_path / "b", seed=1).path).read_text()
    other = Path(sample(csv_path, 0.2, tmp_path / "c", seed=2).path).read_text()
    assert one == again != other


def test_parquet_sample(tmp_path: Path) -> None:
    src = tmp_path / "t.parquet"
    pd.DataFrame({"a": range(1000)}).to_parquet(src)
    result = sample(src, 0.05, tmp_path / "out")
    back = pd.read_parquet(result.path)
    assert len(back) == 50 and back["a"].is_monotonic_increasing


def test_sample_refuses_to_overwrite_the_dataset(folder: Path) -> None:
    with pytest.raises(InputError, match="inside the dataset"):
        sample(folder, 0.5, folder / "samples")
    with pytest.raises(InputError, match="inside the dataset"):
        sample(folder / "notes.txt", 0.5, folder)
    with pytest.raises(InputError, match=r"outside \(0, 1\]"):
        sample(folder, 1.5, folder.parent / "x")


def test_cli_sample(run, folder: Path, tmp_path: Path) -> None:
    res = run("dataset", "sample", str(folder / "events.jsonl"), "--fraction", "0.25",
              "--out", str(tmp_path / "o"), "--json")
    assert res.code == 0
    assert res.json()["rows"] == 30
    bad = run("dataset", "sample", str(folder), "--fraction", "0", "--out", str(tmp_path / "o"))
    assert bad.code == 2 and "outside (0, 1]" in bad.err
