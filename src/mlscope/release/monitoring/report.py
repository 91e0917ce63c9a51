"""Drift of two windows of a feature table, as one JSON-ready report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlscope.errors import InputError
from mlscope.release.experiments.table import read_columns
from mlscope.release.monitoring.drift import (
    DISTANCE_THRESHOLD,
    P_THRESHOLD,
    SMALL_SAMPLE,
    dataset_drift,
)


def drift_report(reference: str | Path, current: str | Path,
                 columns: list[str] | None = None,
                 html: str | Path | None = None) -> dict[str, Any]:
    """Drift per shared feature; with `html`, also the report page written there."""
    ref = read_columns(reference, columns)
    cur_all = read_columns(current, columns)
    names = [c for c in ref if c in cur_all] if columns is None else columns
    if not names:
        raise InputError("the two windows share no column",
                         f"reference has {', '.join(ref)}; current has {', '.join(cur_all)}")
    features = dataset_drift({n: ref[n] for n in names}, {n: cur_all[n] for n in names})
    report = {
        "reference_rows": len(next(iter(ref.values()))),
        "current_rows": len(next(iter(cur_all.values()))),
        "features": [f.as_dict() for f in features],
        "drift": any(f.drift for f in features),
        "method": (f"KS / chi-squared at p < {P_THRESHOLD} up to {SMALL_SAMPLE} reference rows; "
                   f"normed Wasserstein / Jensen-Shannon at {DISTANCE_THRESHOLD} above"),
    }
    if html is not None:
        from mlscope.release.monitoring.html import write_html

        report["html"] = str(write_html(report, ref, cur_all, html, Path(reference).name,
                                        Path(current).name))
    return report
