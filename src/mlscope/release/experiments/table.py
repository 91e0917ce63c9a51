"""Reading an experiment's units: CSV or Parquet, one row per unit, through pyarrow."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mlscope.errors import InputError, require


def read_columns(path: str | Path, columns: list[str] | None) -> dict[str, list[object]]:
    """The named (default: all) columns of a CSV or Parquet file; unknown ones are refused."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such file: {p}", "give the path of a CSV or Parquet file")
    pa_csv = require("pyarrow.csv", "experiments", "pyarrow")
    pq = require("pyarrow.parquet", "experiments", "pyarrow")
    try:
        parquet = p.suffix.lower() in {".parquet", ".pq"}
        table = pq.read_table(p) if parquet else pa_csv.read_csv(p)
    except Exception as exc:  # pyarrow raises many kinds for unreadable files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read {p.name}: {first}",
                         "give a CSV with a header row, or a Parquet file") from exc
    if table.num_rows == 0:
        raise InputError(f"{p.name} has no rows", "give a file with one row per unit")
    columns = list(table.column_names) if columns is None else columns
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InputError(f"{p.name} has no column {', '.join(repr(m) for m in missing)}",
                         f"columns there are: {', '.join(table.column_names)}")
    return {c: table.column(c).to_pylist() for c in columns}


def numeric(values: list[object], column: str) -> np.ndarray:
    """A metric column as floats; anything non-numeric, missing, NaN or infinite is refused."""
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        if v is None:  # pyarrow reads empty cells and NaN as null
            raise InputError(f"column '{column}' row {i + 1} is missing (empty or NaN)",
                             "metric values must be finite numbers; drop or fill the row")
        if isinstance(v, bool):
            out[i] = float(v)
            continue
        try:
            f = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError(f"column '{column}' row {i + 1} is not a number ({v!r})",
                             "metric values must be numbers, 0/1 for conversions") from None
        if not math.isfinite(f):
            raise InputError(f"column '{column}' row {i + 1} is {v!r}",
                             "metric values must be finite numbers") from None
        out[i] = f
    return out
