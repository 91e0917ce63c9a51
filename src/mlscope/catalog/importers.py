"""Refresh prices offline from files users download themselves.

Two formats: SkyPilot's catalog `vms.csv` (one row per instance type and availability zone)
and an AWS Price List offer file (JSON, `AmazonEC2` or `AmazonSageMaker`). Imported rows go to
an overlay in the mlscope home and win over the packaged rows for the same instance and region.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlscope.catalog.core import (
    INSTANCE_FIELDS,
    OVERLAY_FILE,
    get_catalog,
    mlscope_home,
    reset_catalog,
)
from mlscope.errors import InputError

SKYPILOT_COLUMNS = {"InstanceType", "Price", "Region"}


@dataclass(frozen=True)
class ImportResult:
    rows: int
    new_types: int
    format: str
    imported_at: str
    overlay: Path
    publication_date: str | None


def _skypilot_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = SKYPILOT_COLUMNS - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"{path} is not a SkyPilot vms.csv (missing {sorted(missing)})",
                             "pass a SkyPilot catalog vms.csv or an AWS Price List offer JSON")
        # One row per availability zone: keep on-demand, and the lowest spot price over AZs.
        best: dict[tuple[str, str], dict[str, str]] = {}
        for r in reader:
            key = (r["InstanceType"], r["Region"])
            if not r.get("Price"):
                continue
            cur = best.get(key)
            spot = r.get("SpotPrice") or ""
            if cur is None:
                best[key] = {**r, "SpotPrice": spot}
            elif spot and (not cur["SpotPrice"] or float(spot) < float(cur["SpotPrice"])):
                cur["SpotPrice"] = spot
    out = []
    for (itype, region), r in best.items():
        out.append({
            "instance_type": itype, "service": "ec2", "region": region,
            "vcpus": r.get("vCPUs", ""), "memory_gib": r.get("MemoryGiB", ""),
            "accelerator": _canonical_accelerator(r.get("AcceleratorName", "")),
            "accelerator_count": r.get("AcceleratorCount", "") or "0",
            "price_on_demand_usd_hr": r["Price"], "price_spot_usd_hr": r["SpotPrice"],
        })
    return out


def _canonical_accelerator(name: str) -> str:
    if not name:
        return ""
    acc = get_catalog().find_accelerator(name)
    return acc.name if acc else name


def _offer_rows(data: dict[str, Any], path: Path) -> tuple[list[dict[str, str]], str | None]:
    products = data.get("products")
    terms = data.get("terms", {}).get("OnDemand")
    if not isinstance(products, dict) or not isinstance(terms, dict):
        raise InputError(f"{path} has no products/terms.OnDemand",
                         "pass an AWS Price List offer file (AmazonEC2 or AmazonSageMaker)")
    sagemaker = str(data.get("offerCode", "")).lower() == "amazonsagemaker"
    known = {i.instance_type: i for i in get_catalog().instances}
    out = []
    for sku, product in products.items():
        attrs = product.get("attributes", {})
        if sagemaker:
            itype = attrs.get("instanceName") or attrs.get("instanceType", "")
            # Training prices: the component AWS labels "Training" (notebooks, hosting differ).
            if not itype.startswith("ml.") or attrs.get("component", "Training") != "Training":
                continue
        else:
            itype = attrs.get("instanceType", "")
            if (attrs.get("operatingSystem") != "Linux" or attrs.get("tenancy") != "Shared"
                    or attrs.get("preInstalledSw", "NA") != "NA"
                    or attrs.get("capacitystatus", "Used") != "Used"):
                continue
        region = attrs.get("regionCode", "")
        price = _on_demand_price(terms.get(sku, {}))
        if not itype or not region or price is None:
            continue
        ref = known.get(itype)
        spot = f"{ref.spot_usd_hr:g}" if ref and ref.spot_usd_hr else ""
        out.append({
            "instance_type": itype, "service": "sagemaker" if sagemaker else "ec2",
            "region": region, "vcpus": attrs.get("vcpu", str(ref.vcpus) if ref else ""),
            "memory_gib": attrs.get("memory", "").replace(" GiB", "").replace(",", "")
            or (str(ref.memory_gib) if ref else ""),
            "accelerator": ref.accelerator or "" if ref else "",
            "accelerator_count": str(ref.accelerator_count) if ref else attrs.get("gpu", "0"),
            "price_on_demand_usd_hr": f"{price:g}",
            "price_spot_usd_hr": spot,
        })
    return out, data.get("publicationDate")


def _on_demand_price(term: dict[str, Any]) -> float | None:
    for offer in term.values():
        for dim in offer.get("priceDimensions", {}).values():
            usd = dim.get("pricePerUnit", {}).get("USD")
            if usd is not None and dim.get("unit", "Hrs").lower().startswith("hr"):
                value = float(usd)
                if value > 0:
                    return value
    return None


def import_prices(path: str | Path) -> ImportResult:
    """Import a price file into the overlay; returns what was imported."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"price file '{p}' does not exist",
                         "pass the path of a SkyPilot vms.csv or an AWS offer JSON file")
    publication = None
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{p} is not valid JSON (line {exc.lineno})",
                             "download the offer file again") from None
        rows, publication = _offer_rows(data, p)
        fmt = "aws-offer"
    else:
        rows = _skypilot_rows(p)
        fmt = "skypilot-vms-csv"
    for r in rows:
        for key in ("price_on_demand_usd_hr", "price_spot_usd_hr", "vcpus", "memory_gib",
                    "accelerator_count"):
            try:
                if r[key] != "" and float(r[key]) < 0:
                    raise ValueError
            except ValueError:
                raise InputError(f"{p}: bad {key} '{r[key]}' for {r['instance_type']}",
                                 "fix or remove that row") from None
    if not rows:
        raise InputError(f"{p} holds no usable instance prices",
                         "check that it is an EC2/SageMaker price file with hourly prices")
    now = datetime.now(UTC).strftime("%Y-%m-%d")
    quality = "imported"
    source = f"{fmt}: {p.name}" + (f" (published {publication})" if publication else "")
    overlay = mlscope_home() / "catalog" / OVERLAY_FILE
    overlay.parent.mkdir(parents=True, exist_ok=True)
    merged: dict[tuple[str, str], dict[str, str]] = {}
    if overlay.exists():
        with overlay.open(newline="") as f:
            for r in csv.DictReader(f):
                merged[(r["instance_type"], r["region"])] = r
    before = {i.instance_type for i in get_catalog().instances}
    for r in rows:
        merged[(r["instance_type"], r["region"])] = {
            **r, "price_quality": quality, "source": source, "date": publication or now}
    tmp = overlay.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=INSTANCE_FIELDS)
        w.writeheader()
        for r in merged.values():
            w.writerow({k: r.get(k, "") for k in INSTANCE_FIELDS})
    tmp.replace(overlay)  # atomic: a failed import never leaves a half-written catalog
    overlay.with_suffix(".json").write_text(json.dumps(
        {"imported_at": now, "source": source, "rows": len(rows)}, indent=2))
    reset_catalog()
    new_types = len({r["instance_type"] for r in rows} - before)
    return ImportResult(len(rows), new_types, fmt, now, overlay, publication)
