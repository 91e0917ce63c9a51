"""A user-declared size driver: the cost follows distinct counts of some columns, not rows.

ALS costs grow with the distinct users + items (the factor matrices), which saturate as rows
grow: a 10 % sample of ratings already holds most users. With `--size-by user,item` the fit's
x is (distinct users + distinct items in the sample) / (the same in the whole dataset), read
with pandas (parquet through pyarrow) and only the named columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlscope.datasets.formats import dataset_files
from mlscope.errors import InputError, require


def parse_columns(text: str) -> list[str]:
    columns = [c.strip() for c in text.split(",") if c.strip()]
    if not columns:
        raise InputError(f"--size-by '{text}' names no column",
                         "give the columns whose distinct counts drive the cost, e.g. user,item")
    return columns


def distinct_counts(path: str | Path, columns: Sequence[str]) -> dict[str, int]:
    """Distinct values of each column over every file of the dataset."""
    pd = require("pandas", "calibrate")
    seen: dict[str, set[object]] = {c: set() for c in columns}
    for file, fmt in dataset_files(path):
        if fmt == "parquet":
            require("pyarrow", "calibrate")
            frame = pd.read_parquet(file, columns=list(columns))
        elif fmt in ("csv", "tsv"):
            frame = pd.read_csv(file, sep="," if fmt == "csv" else "\t", usecols=list(columns)
                                ) if _has(file, fmt, columns) else None
        elif fmt == "jsonl":
            frame = pd.read_json(file, lines=True)
        else:
            raise InputError(f"--size-by needs columns, but '{file.name}' is plain text",
                             "use a csv, tsv, jsonl or parquet dataset")
        if frame is None or any(c not in frame.columns for c in columns):
            have = [] if frame is None else list(frame.columns)
            missing = [c for c in columns if c not in have]
            raise InputError(f"'{file.name}' has no column {', '.join(missing) or columns}",
                             "name columns the dataset has in --size-by")
        for c in columns:
            seen[c].update(frame[c].dropna().unique().tolist())
    return {c: len(v) for c, v in seen.items()}


def _has(file: Path, fmt: str, columns: Sequence[str]) -> bool:
    import csv

    from mlscope.datasets.formats import open_text

    with open_text(file) as fh:
        header = next(csv.reader(fh, delimiter="," if fmt == "csv" else "\t"), [])
    return all(c in header for c in columns)


def driver_size(path: str | Path, columns: Sequence[str]) -> float:
    """Sum of distinct counts of `columns` (e.g. users + items)."""
    return float(sum(distinct_counts(path, columns).values()))
