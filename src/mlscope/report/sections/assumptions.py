"""Section: every assumption the other sections made, with its source and the catalog's dates."""

from __future__ import annotations

from collections.abc import Sequence

from mlscope.catalog import get_catalog
from mlscope.report.model import Section


def build(sections: Sequence[Section]) -> Section:
    sec = Section("assumptions", "Assumptions and sources",
                  "Every figure above rests on these assumptions; prices and hardware figures "
                  "come from the catalog, dated below.")
    dates = get_catalog().dates
    sec.facts = [(f"Catalog: {name.replace('_', ' ')}", f"as of {date}")
                 for name, date in sorted(dates.items())]
    for s in sections:
        if s.assumptions:
            sec.lists.append((f"{s.title}: assumptions", _unique(s.assumptions)))
        if s.sources:
            sec.lists.append((f"{s.title}: sources", _unique(s.sources)))
    missing = [s.title for s in sections if s.status != "ok"]
    if missing:
        sec.notes.append("Not computed, so no assumptions are listed for: "
                         + ", ".join(missing) + ".")
    sec.data = {"catalog_dates": dates, "assumptions": {
        s.id: {"assumptions": s.assumptions, "sources": s.sources}
        for s in sections if s.assumptions or s.sources}}
    return sec


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
