"""`mlscope explain`: what a component does, its AWS and open-source options, what it costs.

Prices come only from the mlscope catalog; when a component is not priced there, say so.
"""

from __future__ import annotations

import csv
from typing import Any

from mlscope.architecture.blueprints import LEVELS, load_blueprint
from mlscope.architecture.component_catalog import CostBasis, get_component_catalog
from mlscope.catalog import data_file, get_catalog
from mlscope.core.units import HOURS_PER_MONTH


def _storage_row(key: str) -> dict[str, str] | None:
    service, _, item = key.partition("/")
    table = data_file("aws_storage_transfer_prices.csv")
    for row in csv.DictReader(table.read_text().splitlines()):
        if row["service"] == service and row["item"] == item:
            return row
    return None


def price(cost: CostBasis, region: str) -> dict[str, Any]:
    """The catalog price of one unit of a component, or a note saying why there is none."""
    if cost.instance:
        inst = get_catalog().find_instance(cost.instance, region)
        if inst is None or inst.on_demand_usd_hr is None:
            return {"priced": False, "instance": cost.instance, "region": region,
                    "note": f"{cost.instance} in {region} is not in the mlscope catalog"}
        return {
            "priced": True, "instance": inst.instance_type, "region": inst.region,
            "basis": cost.basis, "on_demand_usd_hr": inst.on_demand_usd_hr,
            "spot_usd_hr": inst.spot_usd_hr,
            "always_on_usd_month": round(inst.on_demand_usd_hr * HOURS_PER_MONTH, 2),
            "price_quality": inst.price_quality, "source": inst.source, "date": inst.date,
        }
    if cost.storage:
        row = _storage_row(cost.storage)
        if row is None or region not in row["region"].split("|"):
            return {"priced": False, "region": region,
                    "note": f"{cost.storage} in {region} is not in the mlscope catalog"}
        return {"priced": True, "item": cost.storage, "region": region,
                "usd_per_unit": float(row["price_usd"]), "unit": row["unit"],
                "source": row["source"], "date": row["date"]}
    return {"priced": False, "note": cost.note or "not in the mlscope catalog"}


def explain_component(name: str, region: str = "us-east-1") -> dict[str, Any]:
    catalog = get_component_catalog()
    kind = catalog.kind(name)
    return {
        "kind": kind.id, "title": kind.title, "phase": catalog.phases[kind.phase].title,
        "does": kind.does, "why": kind.why, "aws": list(kind.aws), "open_source": list(kind.oss),
        "cost": price(kind.cost, region),
    }


def list_kinds() -> list[dict[str, str]]:
    catalog = get_component_catalog()
    return [{"kind": k.id, "title": k.title, "phase": catalog.phases[k.phase].title,
             "aws": k.aws[0] if k.aws else "", "open_source": k.oss[0] if k.oss else ""}
            for k in catalog.kinds.values()]


def describe_blueprint(use_case: str) -> dict[str, Any]:
    """A blueprint's components with the levels they appear at (ids for spec overrides)."""
    bp = load_blueprint(use_case)
    return {
        "use_case": bp.use_case, "title": bp.title, "summary": bp.summary,
        "components": [{"id": c.id, "kind": c.kind, "label": c.label,
                        "levels": sorted(c.levels)} for c in bp.components.values()],
        "levels": {str(lv): len(bp.at_level(lv).components) for lv in LEVELS},
    }
