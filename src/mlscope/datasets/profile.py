"""`profile(path)`: rows, bytes, columns and types of a dataset file or folder."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlscope.datasets.formats import Format, dataset_files, delimiter, iter_lines, open_text
from mlscope.errors import InputError, require

# Types of text formats are inferred from the first rows only; say so in the output.
TYPE_SAMPLE_ROWS = 1000


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str  # int64, double, bool, string, null, list, struct; "a|b" when rows disagree


@dataclass
class FileProfile:
    path: str
    format: Format
    rows: int
    bytes: int
    columns: list[ColumnInfo]


@dataclass
class DatasetProfile:
    path: str
    formats: list[str]
    rows: int
    bytes: int
    columns: list[ColumnInfo]
    files: list[FileProfile]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _value_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "struct"


def _text_cell_type(cell: str) -> str:
    text = cell.strip()
    if not text:
        return "null"
    if text.lower() in ("true", "false"):
        return "bool"
    for kind, parse in (("int64", int), ("double", float)):
        try:
            parse(text)
        except ValueError:
            continue
        return kind
    return "string"


def _merge_types(seen: set[str]) -> str:
    kinds = seen - {"null"}
    if not kinds:
        return "null"
    if kinds == {"int64", "double"}:
        return "double"
    return "|".join(sorted(kinds))


def _columns(order: list[str], seen: dict[str, set[str]]) -> list[ColumnInfo]:
    return [ColumnInfo(name, _merge_types(seen[name])) for name in order]


def _profile_txt(path: Path) -> tuple[int, list[ColumnInfo]]:
    return sum(1 for _ in iter_lines(path)), [ColumnInfo("text", "string")]


def _profile_jsonl(path: Path) -> tuple[int, list[ColumnInfo]]:
    order: list[str] = []
    seen: dict[str, set[str]] = {}
    rows = 0
    for number, line in enumerate(iter_lines(path), start=1):
        rows += 1
        if rows > TYPE_SAMPLE_ROWS:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path.name} line {number} is not JSON ({exc.msg})",
                             "each line of a .jsonl file must be one JSON object") from None
        if not isinstance(record, dict):
            record = {"value": record}
        for key, value in record.items():
            if key not in seen:
                order.append(key)
                seen[key] = set()
            seen[key].add(_value_type(value))
    return rows, _columns(order, seen)


def _profile_csv(path: Path, fmt: Format) -> tuple[int, list[ColumnInfo]]:
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter(fmt))
        header = next(reader, None)
        if header is None:
            return 0, []
        seen: dict[str, set[str]] = {name: set() for name in header}
        rows = 0
        for row in reader:
            if not row:
                continue
            rows += 1
            if rows <= TYPE_SAMPLE_ROWS:
                for name, cell in zip(header, row, strict=False):
                    seen[name].add(_text_cell_type(cell))
    return rows, _columns(header, seen)


def _profile_parquet(path: Path) -> tuple[int, list[ColumnInfo]]:
    pq = require("pyarrow.parquet", "datasets", "pyarrow")

    try:
        meta = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise InputError(f"cannot read parquet file {path.name}: {exc}",
                         "check that the file is a complete parquet file") from None
    schema = meta.schema_arrow
    # large_string and string hold the same data; report one name.
    return meta.metadata.num_rows, [
        ColumnInfo(f.name, str(f.type).replace("large_string", "string")) for f in schema]


def profile_file(path: Path, fmt: Format) -> FileProfile:
    if fmt == "txt":
        rows, columns = _profile_txt(path)
    elif fmt == "jsonl":
        rows, columns = _profile_jsonl(path)
    elif fmt == "parquet":
        rows, columns = _profile_parquet(path)
    else:
        rows, columns = _profile_csv(path, fmt)
    return FileProfile(str(path), fmt, rows, path.stat().st_size, columns)


def profile(path: str | Path) -> DatasetProfile:
    """Profile a file or a folder of files (all supported formats, recursively)."""
    files = [profile_file(p, fmt) for p, fmt in dataset_files(path)]
    notes: list[str] = []
    if any(f.format in ("jsonl", "csv", "tsv") for f in files):
        notes.append(f"types of text formats inferred from the first {TYPE_SAMPLE_ROWS} rows "
                     "of each file")
    if any(Path(f.path).suffix == ".gz" for f in files):
        notes.append("bytes are compressed sizes on disk")
    columns = _union_columns(files, notes)
    return DatasetProfile(
        path=str(path), formats=sorted({f.format for f in files}),
        rows=sum(f.rows for f in files), bytes=sum(f.bytes for f in files),
        columns=columns, files=files, notes=notes)


def _union_columns(files: list[FileProfile], notes: list[str]) -> list[ColumnInfo]:
    order: list[str] = []
    types: dict[str, set[str]] = {}
    for f in files:
        for col in f.columns:
            if col.name not in types:
                order.append(col.name)
                types[col.name] = set()
            types[col.name].update(col.type.split("|"))
    schemas = {tuple((c.name, c.type) for c in f.columns) for f in files if f.rows}
    if len(schemas) > 1:
        notes.append("files have different columns or types; columns are their union")
    return _columns(order, types)
