"""Seeded fraction samples that keep the format of the source (for `{sample_path}`).

Each row gets a seeded random key; a sample at fraction f keeps the round(f * rows) rows with the
smallest keys, in their original order. So samples are exact in size, repeat for a seed, and
are nested: the 1 % sample is inside the 2 % sample, which keeps calibration curves smooth.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlscope.datasets.formats import (
    Format,
    dataset_files,
    delimiter,
    iter_lines,
    open_text,
    open_text_for_write,
)
from mlscope.datasets.profile import profile_file
from mlscope.errors import InputError, require


@dataclass
class SampleResult:
    path: str  # the sample file, or folder when the source is a folder
    fraction: float
    seed: int
    rows: int
    source_rows: int
    files: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_fraction(fraction: float) -> float:
    if not (0.0 < fraction <= 1.0):
        raise InputError(f"fraction {fraction} is outside (0, 1]",
                         "give a fraction such as 0.05 for 5 % of the rows")
    return fraction


def keep_mask(rows: int, fraction: float, seed: int, salt: str = "") -> np.ndarray:
    """Boolean mask of the rows a sample keeps: the smallest seeded keys, at least one row."""
    rng = np.random.default_rng([seed, zlib.crc32(salt.encode())])
    keys = rng.random(rows)
    count = min(rows, max(1, round(fraction * rows))) if rows else 0
    mask = np.zeros(rows, dtype=bool)
    mask[np.argsort(keys, kind="stable")[:count]] = True
    return mask


def _sample_lines(src: Path, dst: Path, mask: np.ndarray) -> None:
    with open_text_for_write(dst) as out:
        for index, line in enumerate(iter_lines(src)):
            if mask[index]:
                out.write(line + "\n")


def _sample_csv(src: Path, dst: Path, fmt: Format, mask: np.ndarray) -> None:
    sep = delimiter(fmt)
    with open_text(src) as fh, open_text_for_write(dst) as out:
        reader = csv.reader(fh, delimiter=sep)
        writer = csv.writer(out, delimiter=sep, lineterminator="\n")
        header = next(reader, None)
        if header is None:
            return
        writer.writerow(header)
        index = 0
        for row in reader:
            if not row:
                continue
            if mask[index]:
                writer.writerow(row)
            index += 1


def _sample_parquet(src: Path, dst: Path, mask: np.ndarray) -> None:
    pq = require("pyarrow.parquet", "datasets", "pyarrow")

    table = pq.read_table(src)
    pq.write_table(table.take(np.flatnonzero(mask)), dst)


def sample_file(src: Path, fmt: Format, dst: Path, fraction: float, seed: int,
                salt: str = "") -> tuple[int, int]:
    """Write the sample of one file; returns (rows kept, rows in source)."""
    rows = profile_file(src, fmt).rows
    mask = keep_mask(rows, fraction, seed, salt)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("txt", "jsonl"):
        _sample_lines(src, dst, mask)
    elif fmt == "parquet":
        _sample_parquet(src, dst, mask)
    else:
        _sample_csv(src, dst, fmt, mask)
    return int(mask.sum()), rows


def _would_overwrite(root: Path, out: Path) -> bool:
    src, dst = root.resolve(), out.resolve()
    if root.is_file():
        return (dst / root.name) == src
    return dst == src or src in dst.parents


def sample(path: str | Path, fraction: float, out_dir: str | Path, seed: int = 0) -> SampleResult:
    """Write a seeded sample of `path` into `out_dir`, keeping file names and formats."""
    check_fraction(fraction)
    root = Path(path)
    out = Path(out_dir)
    files = dataset_files(root)
    if _would_overwrite(root, out):
        raise InputError(f"sample folder '{out}' is inside the dataset '{root}'",
                         "write samples to a folder outside the dataset")
    kept = total = 0
    for src, fmt in files:
        rel = src.name if root.is_file() else str(src.relative_to(root))
        k, n = sample_file(src, fmt, out / rel, fraction, seed, salt=rel)
        kept += k
        total += n
    target = out / root.name if root.is_file() else out
    return SampleResult(str(target), fraction, seed, kept, total, len(files))
