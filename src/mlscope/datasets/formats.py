"""Which files a dataset is made of and how each one is read."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

from mlscope.errors import InputError

Format = Literal["txt", "jsonl", "csv", "tsv", "parquet"]

# suffix (without .gz) -> format; line formats and csv/tsv may also be gzip-compressed.
SUFFIX_FORMATS: dict[str, Format] = {
    ".txt": "txt", ".text": "txt", ".md": "txt",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".parquet": "parquet", ".pq": "parquet",
}
SUPPORTED_SUFFIXES = tuple(sorted(SUFFIX_FORMATS))


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def format_of(path: Path) -> Format | None:
    """The format of one file from its suffix (`data.csv.gz` is csv), or None if unsupported."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
        if suffixes and SUFFIX_FORMATS.get(suffixes[-1]) == "parquet":
            return None  # parquet compresses itself; a gzipped parquet is not readable as is
    return SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None


def dataset_files(path: str | Path) -> list[tuple[Path, Format]]:
    """The readable files of a file or folder (recursively, hidden files skipped), sorted."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"dataset path '{root}' does not exist",
                         "give an existing file or folder")
    supported = ", ".join(SUPPORTED_SUFFIXES)
    if root.is_file():
        fmt = format_of(root)
        if fmt is None:
            raise InputError(f"unsupported dataset file '{root.name}'",
                             f"use one of {supported} (optionally .gz for text formats)")
        return [(root, fmt)]
    files: list[tuple[Path, Format]] = []
    for child in sorted(root.rglob("*")):
        if not child.is_file() or any(p.startswith(".") for p in child.relative_to(root).parts):
            continue
        fmt = format_of(child)
        if fmt is not None:
            files.append((child, fmt))
    if not files:
        raise InputError(f"folder '{root}' holds no dataset files",
                         f"put files with one of {supported} in it")
    return files


def open_text(path: Path) -> IO[str]:
    """Open a (possibly gzipped) text file; undecodable bytes are replaced, not fatal."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return path.open("r", encoding="utf-8", errors="replace", newline="")


def open_text_for_write(path: Path) -> IO[str]:
    if is_gzip(path):
        return gzip.open(path, "wt", encoding="utf-8", newline="")
    return path.open("w", encoding="utf-8", newline="")


def iter_lines(path: Path) -> Iterator[str]:
    """Lines of a line format (txt/jsonl) without the trailing newline; blank lines skipped."""
    with open_text(path) as fh:
        for line in fh:
            stripped = line.rstrip("\r\n")
            if stripped.strip():
                yield stripped


def delimiter(fmt: Format) -> str:
    return "\t" if fmt == "tsv" else ","
