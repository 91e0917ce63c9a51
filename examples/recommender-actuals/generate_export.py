"""Regenerate the GENERATED billing export bundled with this example (not real AWS data).

    python examples/recommender-actuals/generate_export.py

December 2026 and 1-20 January 2027 of the recommender's resources, hour by hour, as a CUR 2.0
Parquet file; the GPU notebook is left running overnight from 12 January (a schedule violation).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mlscope.costs.billing import synth

OUT = Path(__file__).resolve().parent / "billing" / "GENERATED-cur2-2026-12_2027-01.parquet"


def main() -> None:
    items = synth.recommender_items(dt.date(2026, 12, 1), dt.date(2027, 1, 20), seed=0)
    synth.write_parquet(synth.cur2_rows(items), OUT)
    print(f"{OUT}: {len(items)} generated line items")


if __name__ == "__main__":
    main()
