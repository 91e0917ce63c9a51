"""Refresh prices offline from files users download themselves.

Two formats: SkyPilot's catalog `vms.csv` (one row per instance type and availability zone)
and an AWS Price List offer file (JSON, `AmazonEC2` or `AmazonSageMaker`). Imported rows go to
an overlay in the mlscope home and win over the packaged rows for the same instance and region.
"""

from __future__ import annotations

import csv
import io
import json
import math
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


def _number(value: str, what: str, where: str, positive: bool) -> str:
    """A finite number (positive for prices) as text; raises naming the row."""
    text = (value or "").strip()
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"{where}: {what} '{text}' is not a number",
                         "fix or remove that row") from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        need = "a positive finite price" if positive else "a finite non-negative number"
        raise InputError(f"{where}: {what} '{text}' is not {need}", "fix or remove that row")
    return text


def _skypilot_rows(path: Path, text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = set(reader.fieldnames or [])
    missing = SKYPILOT_COLUMNS - fields
    if missing:
        raise InputError(f"{path} is not a SkyPilot vms.csv (missing {sorted(missing)})",
                         "pass a SkyPilot catalog vms.csv or an AWS Price List offer JSON")
    # One row per availability zone: keep on-demand, and the lowest spot price over AZs, per
    # (instance, region) -- never a price from another region.
    best: dict[tuple[str, str], dict[str, str]] = {}
    for line, r in enumerate(reader, start=2):
        where = f"{path.name} row {line}"
        if not r.get("InstanceType") or not r.get("Region"):
            raise InputError(f"{where}: no instance type or region", "fix or remove that row")
        if not (r.get("Price") or "").strip():
            continue  # not offered on demand in this zone
        r["Price"] = _number(r["Price"], "Price", where, positive=True)
        spot = (r.get("SpotPrice") or "").strip()
        if spot:
            spot = _number(spot, "SpotPrice", where, positive=True)
        for col in ("vCPUs", "MemoryGiB", "AcceleratorCount"):
            if (r.get(col) or "").strip():
                r[col] = _number(r[col], col, where, positive=False)
        key = (r["InstanceType"], r["Region"])
        cur = best.get(key)
        if cur is None:
            best[key] = {**r, "SpotPrice": spot}
        elif spot and (not cur["SpotPrice"] or float(spot) < float(cur["SpotPrice"])):
            cur["SpotPrice"] = spot
    out = []
    for (itype, region), r in best.items():
        row = {"instance_type": itype, "service": "ec2", "region": region,
               "price_on_demand_usd_hr": r["Price"], "price_spot_usd_hr": r["SpotPrice"]}
        # Columns the file does not carry stay empty, so the catalog keeps its own values.
        for col, name in (("vCPUs", "vcpus"), ("MemoryGiB", "memory_gib"),
                          ("AcceleratorCount", "accelerator_count")):
            if col in fields:
                row[name] = r.get(col) or ""
        if "AcceleratorName" in fields:
            row["accelerator"] = _canonical_accelerator(r.get("AcceleratorName") or "")
            row.setdefault("accelerator_count", "0" if not row["accelerator"] else "")
        out.append(row)
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
        # An offer file has on-demand prices only: the spot price and the hardware columns
        # stay empty, so the catalog keeps its own values for this (instance, region).
        out.append({
            "instance_type": itype, "service": "sagemaker" if sagemaker else "ec2",
            "region": region, "vcpus": attrs.get("vcpu", ""),
            "memory_gib": attrs.get("memory", "").replace(" GiB", "").replace(",", ""),
            "price_on_demand_usd_hr": f"{price:g}",
        })
    return out, data.get("publicationDate")


def _on_demand_price(term: dict[str, Any]) -> float | None:
    for offer in term.values():
        for dim in offer.get("priceDimensions", {}).values():
            usd = dim.get("pricePerUnit", {}).get("USD")
            if usd is not None and dim.get("unit", "Hrs").lower().startswith("hr"):
                try:
                    value = float(usd)
                except (TypeError, ValueError):
                    continue
                if math.isfinite(value) and value > 0:
                    return value
    return None


def import_prices(path: str | Path) -> ImportResult:
    """Import a price file into the overlay; returns what was imported."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"price file '{p}' does not exist",
                         "pass the path of a SkyPilot vms.csv or an AWS offer JSON file")
    publication = None
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise InputError(f"{p} is not a readable text file",
                         "pass a SkyPilot vms.csv or an AWS Price List offer JSON") from None
    if "\x00" in text:
        raise InputError(f"{p} is a binary file, not a price list",
                         "pass a SkyPilot vms.csv or an AWS Price List offer JSON")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{p} is not valid JSON (line {exc.lineno})",
                             "download the offer file again") from None
        if not isinstance(data, dict):
            raise InputError(f"{p} is not an AWS Price List offer file",
                             "pass an AWS Price List offer file (AmazonEC2 or AmazonSageMaker)")
        rows, publication = _offer_rows(data, p)
        fmt = "aws-offer"
    else:
        try:
            rows = _skypilot_rows(p, text)
        except csv.Error as exc:
            raise InputError(f"{p} is not a readable CSV ({exc})",
                             "pass a SkyPilot catalog vms.csv") from None
        fmt = "skypilot-vms-csv"
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
        key = (r["instance_type"], r["region"])
        given = {k: v for k, v in r.items() if v != ""}
        merged[key] = {**merged.get(key, {}), **given, "price_quality": quality,
                       "source": source, "date": publication or now}
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
