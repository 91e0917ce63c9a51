"""Fixtures: generated exports of one known set of line items in every format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mlscope.costs.billing import synth

# Real samples copied from the project's shared reference folder, with their licences.
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def items() -> list[synth.Item]:
    out = synth.every_line_item_type()
    for day in range(1, 4):
        out += synth.every_line_item_type(dt.datetime(2027, 2, day, 9))
    return out


@pytest.fixture(scope="session")
def exports(items: list[synth.Item], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exports")
    cur2 = synth.cur2_rows(items)
    legacy_csv = synth.legacy_rows(items, csv_headers=True)
    legacy_pq = synth.legacy_rows(items, csv_headers=False,
                                  drop=("pricing_purchase_option", "product_instance_type"))
    return {
        "cur2-parquet": synth.write_parquet(cur2, root / "cur2.parquet"),
        "cur2-csv": synth.write_csv(cur2, root / "cur2.csv.gz"),
        "legacy-csv": synth.write_csv(legacy_csv, root / "legacy.csv.gz"),
        "legacy-parquet": synth.write_parquet(legacy_pq, root / "legacy.parquet"),
        "focus-1.0": synth.write_csv(synth.focus_rows(items, "1.0"), root / "focus10.csv",
                                     null="NULL"),
        "focus-1.1": synth.write_parquet(synth.focus_rows(items, "1.1"), root / "focus11.parquet"),
        "focus-1.2": synth.write_csv(synth.focus_rows(items, "1.2"), root / "focus12.csv.gz"),
    }
