"""The outcome log as Parquet part files, for volumes where one SQLite file is the bottleneck.

Rows are buffered and written as immutable part files (`assignments/part-*.parquet`,
`outcomes/part-*.parquet`, never rewritten: append-only by construction) when the buffer is
full or on `flush()`; the service flushes at shutdown. Reads go through pyarrow's dataset API,
and per-unit aggregation through pyarrow's group_by, so the folder can also be synced to S3
and queried with Athena or DuckDB as it is.
"""

from __future__ import annotations

import csv
import math
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlscope.errors import InputError, require

SCHEMAS = {
    "assignments": [("ts", "string"), ("experiment", "string"), ("unit_id", "string"),
                    ("variant", "string")],
    "outcomes": [("ts", "string"), ("experiment", "string"), ("unit_id", "string"),
                 ("metric", "string"), ("value", "float64")],
}


class ParquetOutcomeStore:
    def __init__(self, folder: str | Path, batch_rows: int = 1000) -> None:
        self.pa = require("pyarrow", "experiments")
        self.ds = require("pyarrow.dataset", "experiments", "pyarrow")
        self.pq = require("pyarrow.parquet", "experiments", "pyarrow")
        self.folder = Path(folder)
        self.batch_rows = batch_rows
        self._buffers: dict[str, list[dict[str, Any]]] = {k: [] for k in SCHEMAS}
        self._lock = threading.Lock()
        for kind in SCHEMAS:
            (self.folder / kind).mkdir(parents=True, exist_ok=True)

    def _schema(self, kind: str) -> Any:
        return self.pa.schema([(n, getattr(self.pa, t)()) for n, t in SCHEMAS[kind]])

    def _add(self, kind: str, row: dict[str, Any]) -> None:
        with self._lock:
            self._buffers[kind].append(row)
            full = len(self._buffers[kind]) >= self.batch_rows
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending = {k: rows for k, rows in self._buffers.items() if rows}
            self._buffers = {k: [] for k in SCHEMAS}
        for kind, rows in pending.items():
            table = self.pa.Table.from_pylist(rows, schema=self._schema(kind))
            name = f"part-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet"
            tmp = self.folder / kind / f".{name}.tmp"
            self.pq.write_table(table, tmp)
            tmp.replace(self.folder / kind / name)  # readers never see a half-written part

    def record_assignment(self, experiment: str, unit_id: str, variant: str) -> None:
        self._add("assignments", {"ts": datetime.now(UTC).isoformat(), "experiment": experiment,
                                  "unit_id": unit_id, "variant": variant})

    def record_outcome(self, experiment: str, unit_id: str, metric: str, value: float) -> None:
        if not math.isfinite(value):
            raise InputError(f"outcome value must be a finite number, got {value}")
        self._add("outcomes", {"ts": datetime.now(UTC).isoformat(), "experiment": experiment,
                               "unit_id": unit_id, "metric": metric, "value": float(value)})

    def _table(self, kind: str) -> Any:
        parts = sorted((self.folder / kind).glob("part-*.parquet"))
        if not parts:
            return self.pa.Table.from_pylist([], schema=self._schema(kind))
        return self.ds.dataset([str(p) for p in parts], format="parquet").to_table()

    def counts(self, experiment: str) -> dict[str, int]:
        t = self._table("assignments")
        t = t.filter(self.pa.compute.equal(t["experiment"], experiment))
        g = t.group_by("variant").aggregate([("unit_id", "count_distinct")])
        return dict(zip(g["variant"].to_pylist(), g["unit_id_count_distinct"].to_pylist(),
                        strict=True))

    def export_units(self, experiment: str, metric: str, out: str | Path,
                     aggregate: str = "sum") -> int:
        """Same table as the SQLite store's export: first variant per unit, summed outcome."""
        if aggregate not in {"sum", "mean"}:
            raise InputError(f"unknown aggregate '{aggregate}'", "use sum or mean")
        pc = self.pa.compute
        a = self._table("assignments")
        a = a.filter(pc.equal(a["experiment"], experiment)).sort_by("ts")
        first: dict[str, str] = {}
        for unit, variant in zip(a["unit_id"].to_pylist(), a["variant"].to_pylist(), strict=True):
            first.setdefault(unit, variant)
        o = self._table("outcomes")
        o = o.filter(pc.and_(pc.equal(o["experiment"], experiment), pc.equal(o["metric"], metric)))
        g = o.group_by("unit_id").aggregate([("value", aggregate)])
        value = dict(zip(g["unit_id"].to_pylist(), g[f"value_{aggregate}"].to_pylist(),
                         strict=True))
        rows = [(u, v, value.get(u, 0.0 if aggregate == "sum" else None))
                for u, v in sorted(first.items())]
        rows = [r for r in rows if r[2] is not None]
        if not rows:
            raise InputError(f"no units with outcomes for experiment '{experiment}'")
        with open(out, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["unit_id", "variant", metric])
            w.writerows(rows)
        return len(rows)
