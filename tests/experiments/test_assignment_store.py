"""Sticky assignment follows the weights; the outcome log is append-only and exports units."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from scipy import stats

from mlscope.errors import InputError
from mlscope.release.experiments.assignment import Split
from mlscope.release.experiments.store import OutcomeStore


def test_assignment_is_sticky_and_follows_the_weights() -> None:
    split = Split("reco-v7", ("champion", "challenger"), (0.8, 0.2))
    units = [f"user-{i}" for i in range(20_000)]
    first = [split.assign(u) for u in units]
    assert first == [split.assign(u) for u in units]  # sticky
    n = first.count("challenger")
    # a 20 % share: the binomial test must not reject the configured weight
    assert stats.binomtest(n, len(units), 0.2).pvalue > 0.001
    # another experiment splits the same users independently
    other = Split("search-v2", ("champion", "challenger"), (0.8, 0.2))
    both = sum(a == "challenger" and other.assign(u) == "challenger"
               for u, a in zip(units, first, strict=True))
    assert stats.binomtest(both, len(units), 0.04).pvalue > 0.001


def test_bad_splits_are_refused() -> None:
    with pytest.raises(InputError, match="sum to"):
        Split("e", ("a", "b"), (0.5, 0.6))
    with pytest.raises(InputError, match="two or more"):
        Split("e", ("a", "a"), (0.5, 0.5))


def test_store_is_append_only_and_exports_units(tmp_path: Path) -> None:
    store = OutcomeStore(tmp_path / "exp.sqlite")
    for unit, variant in (("u1", "A"), ("u2", "B"), ("u3", "B")):
        store.record_assignment("e1", unit, variant)
    store.record_assignment("e1", "u1", "B")  # a later re-assignment does not move u1
    store.record_outcome("e1", "u2", "revenue", 12.5)
    store.record_outcome("e1", "u2", "revenue", 2.5)
    store.record_outcome("e1", "u1", "clicks", 1)
    assert store.counts("e1") == {"A": 1, "B": 3}
    out = tmp_path / "units.csv"
    assert store.export_units("e1", "revenue", out) == 3
    rows = list(csv.DictReader(out.open()))
    assert [(r["unit_id"], r["variant"], float(r["revenue"])) for r in rows] == [
        ("u1", "A", 0.0), ("u2", "B", 15.0), ("u3", "B", 0.0)]
    with pytest.raises(InputError, match="finite"):
        store.record_outcome("e1", "u1", "revenue", float("nan"))
    db = sqlite3.connect(tmp_path / "exp.sqlite")
    for sql in ("UPDATE outcomes SET value = 0", "DELETE FROM assignments"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)


def test_parquet_store_gives_the_same_units_as_sqlite(tmp_path: Path) -> None:
    from mlscope.release.experiments.parquet_store import ParquetOutcomeStore

    sqlite = OutcomeStore(tmp_path / "exp.sqlite")
    parquet = ParquetOutcomeStore(tmp_path / "parts", batch_rows=3)
    events = [("a", "u1", "A"), ("a", "u2", "B"), ("a", "u3", "B"), ("a", "u1", "B")]
    outcomes = [("u2", "revenue", 12.5), ("u2", "revenue", 2.5), ("u1", "clicks", 1.0)]
    for store in (sqlite, parquet):
        for exp, unit, variant in events:
            store.record_assignment(exp, unit, variant)
        for unit, metric, value in outcomes:
            store.record_outcome("a", unit, metric, value)
    parquet.flush()
    assert len(list((tmp_path / "parts" / "assignments").glob("part-*.parquet"))) == 2
    assert parquet.counts("a") == sqlite.counts("a") == {"A": 1, "B": 3}
    sqlite.export_units("a", "revenue", tmp_path / "s.csv")
    parquet.export_units("a", "revenue", tmp_path / "p.csv")
    assert (tmp_path / "s.csv").read_text() == (tmp_path / "p.csv").read_text()
