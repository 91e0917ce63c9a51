"""The append-only log of assignments and outcomes that the prediction service writes.

SQLite (one file, WAL, safe for several writer processes); triggers refuse UPDATE and DELETE so
a recorded outcome cannot be edited after the fact. `export_units` turns the log into the
one-row-per-unit table `mlscope experiment analyze` reads.
"""

from __future__ import annotations

import csv
import math
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from mlscope.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS assignments (
  ts TEXT NOT NULL, experiment TEXT NOT NULL, unit_id TEXT NOT NULL, variant TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
  ts TEXT NOT NULL, experiment TEXT NOT NULL, unit_id TEXT NOT NULL, metric TEXT NOT NULL,
  value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS assignments_unit ON assignments (experiment, unit_id);
CREATE TRIGGER IF NOT EXISTS assignments_append_only BEFORE UPDATE ON assignments
  BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS assignments_no_delete BEFORE DELETE ON assignments
  BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS outcomes_append_only BEFORE UPDATE ON outcomes
  BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER IF NOT EXISTS outcomes_no_delete BEFORE DELETE ON outcomes
  BEGIN SELECT RAISE(ABORT, 'append-only'); END;
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class OutcomeStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connect().executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # One connection per thread (sqlite3 connections are not shared across threads), kept
        # open: opening one per row cost ~10 ms. WAL with synchronous=NORMAL survives a crash
        # of the service; only a power loss can drop the last transactions.
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def record_assignment(self, experiment: str, unit_id: str, variant: str) -> None:
        self._connect().execute("INSERT INTO assignments VALUES (?, ?, ?, ?)",
                                (_now(), experiment, unit_id, variant))

    def record_outcome(self, experiment: str, unit_id: str, metric: str, value: float) -> None:
        if not math.isfinite(value):
            raise InputError(f"outcome value must be a finite number, got {value}")
        if not unit_id or not metric:
            raise InputError("an outcome needs a unit id and a metric name")
        self._connect().execute("INSERT INTO outcomes VALUES (?, ?, ?, ?, ?)",
                                (_now(), experiment, unit_id, metric, float(value)))

    def counts(self, experiment: str) -> dict[str, int]:
        rows = self._connect().execute(
            "SELECT variant, COUNT(DISTINCT unit_id) FROM assignments WHERE experiment = ? "
            "GROUP BY variant", (experiment,)).fetchall()
        return {str(v): int(n) for v, n in rows}

    def export_units(self, experiment: str, metric: str, out: str | Path,
                     aggregate: str = "sum") -> int:
        """One row per assigned unit: its first variant and the sum (or mean) of its outcomes.

        Units with no outcome count as 0 for a sum (a visit without a purchase) and are left
        out for a mean. Returns the number of rows written.
        """
        if aggregate not in {"sum", "mean"}:
            raise InputError(f"unknown aggregate '{aggregate}'", "use sum or mean")
        agg = "COALESCE(SUM(o.value), 0.0)" if aggregate == "sum" else "AVG(o.value)"
        query = f"""
            WITH first AS (
              SELECT unit_id, variant FROM (
                SELECT unit_id, variant, ROW_NUMBER() OVER (PARTITION BY unit_id ORDER BY ts)
                  AS k FROM assignments WHERE experiment = :e) WHERE k = 1)
            SELECT f.unit_id, f.variant, {agg} FROM first f
            LEFT JOIN outcomes o ON o.unit_id = f.unit_id AND o.experiment = :e
              AND o.metric = :m
            GROUP BY f.unit_id, f.variant ORDER BY f.unit_id"""
        rows = [r for r in self._connect().execute(query, {"e": experiment, "m": metric})
                .fetchall() if r[2] is not None]
        if not rows:
            raise InputError(f"no units with outcomes for experiment '{experiment}'",
                             "check the experiment name and that the service logs outcomes")
        with open(out, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["unit_id", "variant", metric])
            w.writerows(rows)
        return len(rows)
