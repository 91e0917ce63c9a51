"""Unit prices for environment resources: storage, transfer and MWAA here; instance-hours from
`mlscope.pricing` (by purchase option).

Storage and transfer prices come from the catalog's dated `aws_storage_transfer_prices.csv`,
MWAA from `costs/data/mwaa_prices.csv` (secondary sources, only the figures that could be
sourced: mw1.small). A price that is not known raises an error that asks for it in the spec;
nothing here invents a figure.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from mlscope import pricing
from mlscope.catalog import data_file
from mlscope.errors import InputError

STORAGE_ITEMS: dict[str, tuple[str, str]] = {
    "s3-standard": ("S3", "Standard storage"),
    "s3-standard-ia": ("S3", "Standard-IA storage"),
    "s3-intelligent-tiering": ("S3", "Intelligent-Tiering frequent access"),
    "ebs-gp3": ("EBS", "gp3 storage"),
    "ebs-gp2": ("EBS", "gp2 storage"),
    "ebs-io2": ("EBS", "io1/io2 storage"),
    "ebs-st1": ("EBS", "st1 storage"),
    "ebs-sc1": ("EBS", "sc1 storage"),
    "sagemaker-ml-storage": ("SageMaker", "ML storage (notebook/endpoint/training)"),
}
TRANSFER_ITEMS: dict[str, tuple[str, str]] = {
    "inter-region": ("DataTransfer", "Out to other AWS regions"),
    "cross-az": ("DataTransfer", "Intra-region cross-AZ (each direction billed)"),
    "nat-processed": ("NAT", "NAT gateway data processed"),
}
# Internet egress is tiered per month: (tier size in GB, item in the price file).
INTERNET_TIERS: tuple[tuple[float, str], ...] = (
    (10 * 1024, "Out to internet first 10 TB/month"),
    (40 * 1024, "Out to internet next 40 TB/month"),
    (100 * 1024, "Out to internet next 100 TB/month"),
    (float("inf"), "Out to internet over 150 TB/month"),
)


@dataclass(frozen=True)
class UnitPrice:
    usd: float
    unit: str
    quality: str  # catalog | imported | secondary-rough | derived-rough | user
    source: str
    date: str
    sigma: float = 0.0  # log-spread of the price itself (spot: its uplift range)
    notes: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _storage_rows() -> list[dict[str, str]]:
    text = data_file("aws_storage_transfer_prices.csv")
    return list(csv.DictReader(text.read_text().splitlines()))


@lru_cache(maxsize=1)
def _mwaa_rows() -> list[dict[str, str]]:
    text = resources.files("mlscope.costs") / "data" / "mwaa_prices.csv"
    return list(csv.DictReader(text.read_text().splitlines()))


def _region_matches(field: str, region: str) -> bool:
    return field == "all listed" or region in field.split("|")


def storage_transfer_price(service: str, item: str, region: str) -> UnitPrice | None:
    for row in _storage_rows():
        if row["service"] == service and row["item"] == item and _region_matches(row["region"],
                                                                                  region):
            return UnitPrice(float(row["price_usd"]), row["unit"], "secondary-rough",
                             row["source"], row["date"])
    return None


def require(price: UnitPrice | None, what: str, region: str, override_key: str) -> UnitPrice:
    if price is None:
        raise InputError(f"no price for {what} in {region} in the catalog",
                         f"give `{override_key}` for this resource in the spec")
    return price


def storage_price(storage_class: str, region: str) -> UnitPrice:
    service, item = STORAGE_ITEMS[storage_class]
    return require(storage_transfer_price(service, item, region), f"{storage_class} storage",
                   region, "usd_per_gb_month")


def transfer_price(direction: str, region: str) -> UnitPrice:
    service, item = TRANSFER_ITEMS[direction]
    return require(storage_transfer_price(service, item, region), f"{direction} transfer",
                   region, "usd_per_gb")


def internet_egress_tiers(region: str) -> list[tuple[float, float]]:
    """(tier size GB, $/GB) for internet egress in `region`, as far as the price file knows."""
    tiers = []
    for size, item in INTERNET_TIERS:
        price = storage_transfer_price("DataTransfer", item, region)
        if price is None:
            break
        tiers.append((size, price.usd))
    if not tiers:
        raise InputError(f"no internet egress price for {region} in the catalog",
                         "give `usd_per_gb` for this transfer resource in the spec")
    return tiers


def tiered_cost(gb: np.ndarray, tiers: list[tuple[float, float]]) -> np.ndarray:
    """Cost of `gb` under tiered $/GB prices (vectorised); the last tier absorbs the rest."""
    cost = np.zeros_like(gb, dtype=float)
    floor = 0.0
    for i, (size, usd) in enumerate(tiers):
        top = float("inf") if i == len(tiers) - 1 else floor + size
        cost += np.clip(gb - floor, 0.0, top - floor) * usd
        floor = top
    return cost


def mwaa_price(environment_class: str, item: str, region: str) -> UnitPrice | None:
    for row in _mwaa_rows():
        if (row["environment_class"] == environment_class and row["item"] == item
                and row["region"] == region):
            return UnitPrice(float(row["price_usd"]), row["unit"], row["price_quality"],
                             row["source"], row["date"])
    return None


def instance_price(instance_type: str, region: str, spot: bool = False) -> UnitPrice:
    """$/hour of one instance from `mlscope.pricing` (the one home of instance-hour prices and
    its spot convention); the cost engine uses the median and keeps the stated range."""
    found = pricing.price(instance_type, region, "spot" if spot else "on-demand")
    usd = found.usd_per_hour
    return UnitPrice(usd.median, "hour", found.quality, found.source, found.date,
                     sigma=usd.sigma, notes=found.assumptions)


def user_price(usd: float, unit: str) -> UnitPrice:
    return UnitPrice(usd, unit, "user", "given in the spec", "")
