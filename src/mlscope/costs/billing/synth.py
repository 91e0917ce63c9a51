"""GENERATED billing exports with known truth, for tests, benchmarks and the bundled example.

Nothing here is real AWS data. Each generated line item carries the billed and effective cost
it was built with, so tests compare mlscope's DuckDB totals with an independent sum in Python;
the same items are written as CUR 2.0, legacy CUR (CSV headers or Athena Parquet) or FOCUS.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.errors import require

HOUR = dt.timedelta(hours=1)


@dataclass
class Item:
    """One line item as AWS's CUR would have it, plus its true effective cost."""

    start: dt.datetime
    end: dt.datetime
    line_item_type: str
    unblended: float
    effective: float
    account: str = "111122223333"
    service: str = "AmazonEC2"
    region: str = "us-east-1"
    usage_type: str = ""
    instance_type: str = ""
    resource_id: str = ""
    usage_amount: float = 1.0
    public_on_demand: float | None = None
    purchase_option: str = "OnDemand"
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    sp_arn: str = ""
    sp_effective: float | None = None
    sp_total_commitment: float | None = None
    sp_used_commitment: float | None = None
    ri_arn: str = ""
    ri_effective: float | None = None
    ri_unused_upfront: float | None = None
    ri_unused_recurring: float | None = None
    currency: str = "USD"

    @property
    def billed(self) -> float:
        return self.unblended

    @property
    def list_cost(self) -> float:
        return self.public_on_demand if self.public_on_demand is not None else self.unblended

    @property
    def category(self) -> str:
        return {"Tax": "Tax", "Credit": "Credit", "Fee": "Purchase", "RIFee": "Purchase",
                "SavingsPlanRecurringFee": "Purchase", "SavingsPlanUpfrontFee": "Purchase",
                }.get(self.line_item_type, "Usage")


# -- CUR 2.0 -------------------------------------------------------------------------------
def _cur_fields(item: Item) -> dict[str, Any]:
    def opt(value: float | None) -> float | None:
        return value

    return {
        "identity_line_item_id": None,
        "identity_time_interval": f"{item.start:%Y-%m-%dT%H:%M:%SZ}/{item.end:%Y-%m-%dT%H:%M:%SZ}",
        "bill_billing_period_start_date": dt.datetime(item.start.year, item.start.month, 1),
        "bill_payer_account_id": "999988887777",
        "line_item_usage_account_id": item.account,
        "line_item_line_item_type": item.line_item_type,
        "line_item_usage_start_date": item.start,
        "line_item_usage_end_date": item.end,
        "line_item_product_code": item.service,
        "line_item_usage_type": item.usage_type,
        "line_item_operation": "RunInstances",
        "line_item_resource_id": item.resource_id,
        "line_item_usage_amount": item.usage_amount,
        "line_item_currency_code": item.currency,
        "line_item_unblended_cost": item.unblended,
        "line_item_net_unblended_cost": item.unblended,
        "line_item_line_item_description": item.description,
        "product_region_code": item.region,
        "product_instance_type": item.instance_type,
        "pricing_public_on_demand_cost": item.list_cost,
        "pricing_purchase_option": item.purchase_option,
        "savings_plan_savings_plan_a_r_n": item.sp_arn,
        "savings_plan_savings_plan_effective_cost": opt(item.sp_effective),
        "savings_plan_total_commitment_to_date": opt(item.sp_total_commitment),
        "savings_plan_used_commitment": opt(item.sp_used_commitment),
        "reservation_reservation_a_r_n": item.ri_arn,
        "reservation_effective_cost": opt(item.ri_effective),
        "reservation_unused_amortized_upfront_fee_for_billing_period": opt(item.ri_unused_upfront),
        "reservation_unused_recurring_fee": opt(item.ri_unused_recurring),
    }


def _cur2_tags(tags: dict[str, str]) -> dict[str, str]:
    # CUR 2.0 spells user tags `user_<key>` in its resource_tags map.
    return {f"user_{k}": v for k, v in tags.items()}


def cur2_rows(items: Iterable[Item]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        row = _cur_fields(item)
        row["bill_payer_account_name"] = "example-payer"
        row["resource_tags"] = _cur2_tags(item.tags)
        row["product"] = {"region": item.region, "servicecode": item.service}
        row["cost_category"] = {}
        row["discount"] = {}
        rows.append(row)
    return rows


def write_parquet(rows: list[dict[str, Any]], path: str | Path) -> Path:
    pa = require("pyarrow", "billing")
    pq = require("pyarrow.parquet", "billing", "pyarrow")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=_schema(rows))
    pq.write_table(table, path, compression="zstd")
    return path


def _schema(rows: list[dict[str, Any]]) -> Any:
    pa = require("pyarrow", "billing")
    fields = []
    for name in rows[0]:
        values = [r.get(name) for r in rows]
        sample = next((v for v in values if v is not None), None)
        if isinstance(sample, dict) or name in ("resource_tags", "product", "cost_category"):
            kind = pa.map_(pa.string(), pa.string())
        elif name == "discount":
            kind = pa.map_(pa.string(), pa.float64())
        elif isinstance(sample, dt.datetime):
            kind = pa.timestamp("ms")
        elif isinstance(sample, float) or (name.endswith("_cost") or "commitment" in name
                                           or name.endswith("amount") or name.endswith("fee")
                                           or "unused" in name):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%dT%H:%M:%SZ}"
    return str(value)


def write_csv(rows: list[dict[str, Any]], path: str | Path, columns: Sequence[str] | None = None,
              null: str = "") -> Path:
    import csv
    import io

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(columns or rows[0])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([null if row.get(n) is None else _csv_text(row.get(n)) for n in names])
    data = buf.getvalue().encode()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)
    return path


# -- legacy CUR ----------------------------------------------------------------------------
def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.capitalize() for w in rest)


LEGACY_GROUPS = ("line_item", "savings_plan", "identity", "bill", "product", "pricing",
                 "reservation")


def snake_to_legacy(name: str) -> str:
    """`line_item_unblended_cost` -> `lineItem/UnblendedCost` (the legacy CSV header)."""
    for group in LEGACY_GROUPS:
        if name.startswith(group + "_"):
            rest = name[len(group) + 1:]
            if rest == "savings_plan_a_r_n":
                return f"{_camel(group)}/SavingsPlanARN"
            if rest == "reservation_a_r_n":
                return f"{_camel(group)}/ReservationARN"
            camel = _camel(rest)
            if group in ("product", "pricing") and rest in ("region_code", "instance_type",
                                                             "purchase_option"):
                return f"{group}/{camel}"
            return f"{_camel(group)}/{camel[0].upper()}{camel[1:]}"
    return name


def legacy_rows(items: Iterable[Item], csv_headers: bool,
                drop: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Legacy CUR rows: one column per tag; `drop` leaves optional columns out (as months do)."""
    items = list(items)
    keys = sorted({k for i in items for k in i.tags})
    rows = []
    for item in items:
        base = {k: v for k, v in _cur_fields(item).items()
                if k not in drop and k != "line_item_net_unblended_cost"}
        if csv_headers:
            row = {snake_to_legacy(k): v for k, v in base.items()}
            row.update({f"resourceTags/user:{k}": item.tags.get(k) for k in keys})
        else:
            row = dict(base)
            row.update({f"resource_tags_user_{k}": item.tags.get(k) for k in keys})
        rows.append(row)
    return rows


# -- FOCUS ---------------------------------------------------------------------------------
FOCUS_10_EXTRA: tuple[str, ...] = ()
FOCUS_11_EXTRA = ("CapacityReservationId", "CommitmentDiscountQuantity",
                  "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter")
FOCUS_12_EXTRA = ("BillingAccountType", "InvoiceId", "PricingCurrency", "SubAccountType")


def focus_rows(items: Iterable[Item], version: str = "1.2") -> list[dict[str, Any]]:
    rows = []
    for item in items:
        committed = item.line_item_type in ("SavingsPlanCoveredUsage", "DiscountedUsage")
        if item.line_item_type == "SavingsPlanNegation":
            continue  # FOCUS has no negation rows: covered usage is billed at 0 instead
        row: dict[str, Any] = {
            "BilledCost": focus_billed(item),
            "EffectiveCost": item.effective,
            "ListCost": item.list_cost,
            "ContractedCost": item.billed,
            "BillingAccountId": "999988887777",
            "BillingCurrency": item.currency,
            "BillingPeriodStart": dt.datetime(item.start.year, item.start.month, 1),
            "ChargeCategory": item.category,
            "ChargeClass": None,
            "ChargeDescription": item.description,
            "ChargePeriodStart": item.start,
            "ChargePeriodEnd": item.end,
            "CommitmentDiscountId": item.sp_arn or item.ri_arn or None,
            "CommitmentDiscountStatus": "Used" if committed else None,
            "ConsumedQuantity": item.usage_amount,
            "PricingCategory": ("Committed" if committed else "Dynamic"
                                if item.purchase_option == "Spot" else "Standard")
            if item.category == "Usage" else None,
            "ProviderName": "AWS",
            "RegionId": item.region,
            "ResourceId": item.resource_id or None,
            "ServiceName": item.service,
            "SubAccountId": item.account,
            "Tags": json.dumps(item.tags) if item.tags else None,
            "x_UsageType": item.usage_type,
        }
        if version in ("1.1", "1.2"):
            row.update({k: None for k in FOCUS_11_EXTRA})
            row["SkuMeter"] = item.usage_type
        if version == "1.2":
            row.update({k: None for k in FOCUS_12_EXTRA})
            row["PricingCurrency"] = item.currency
        rows.append(row)
    return rows


def focus_billed(item: Item) -> float:
    """The BilledCost a FOCUS export shows for a CUR item (commitment usage is prepaid)."""
    if item.line_item_type in ("SavingsPlanCoveredUsage", "DiscountedUsage",
                               "SavingsPlanNegation"):
        return 0.0
    return item.billed


# -- scenarios -----------------------------------------------------------------------------
def every_line_item_type(day: dt.datetime | None = None) -> list[Item]:
    """One hand-made item of every CUR line item type, with the effective cost AWS's CID gives.

    A Savings Plan of $1.00/h commitment: $0.70 of it covers usage worth $1.00 on demand, $0.30
    goes unused; an RI with $0.40/h amortized upfront + $0.10 recurring covering $0.30 of usage.
    """
    t0 = day or dt.datetime(2027, 1, 10, 12)
    t1 = t0 + HOUR
    sp, ri = "arn:aws:savingsplans::1:savingsplan/sp-1", "arn:aws:ec2:us-east-1:1:reserved/ri-1"
    tags = {"env": "prod", "component": "recs-endpoint"}
    return [
        Item(t0, t1, "Usage", 0.50, 0.50, usage_type="USE1-BoxUsage:m5.large",
             instance_type="m5.large", resource_id="i-ondemand", tags=tags),
        Item(t0, t1, "Usage", 0.12, 0.12, usage_type="USE1-SpotUsage:m5.xlarge",
             instance_type="m5.xlarge", resource_id="i-spot", purchase_option="Spot",
             public_on_demand=0.192, tags={"env": "dev"}),
        Item(t0, t1, "SavingsPlanCoveredUsage", 1.00, 0.70, usage_type="USE1-BoxUsage:c5.2xlarge",
             instance_type="c5.2xlarge", resource_id="i-sp", sp_arn=sp, sp_effective=0.70,
             tags=tags),
        Item(t0, t1, "SavingsPlanNegation", -1.00, 0.0, usage_type="USE1-BoxUsage:c5.2xlarge",
             resource_id="i-sp", sp_arn=sp, public_on_demand=0.0, tags=tags),
        Item(t0, t1, "SavingsPlanRecurringFee", 1.00, 0.30, service="ComputeSavingsPlans",
             sp_arn=sp, sp_total_commitment=1.00, sp_used_commitment=0.70, public_on_demand=0.0),
        Item(t0.replace(day=1, hour=0), t0.replace(day=1, hour=0) + HOUR,
             "SavingsPlanUpfrontFee", 730.0, 0.0, service="ComputeSavingsPlans", sp_arn=sp,
             public_on_demand=0.0),
        Item(t0, t1, "DiscountedUsage", 0.0, 0.30, usage_type="USE1-HeavyUsage:r5.large",
             instance_type="r5.large", resource_id="i-ri", ri_arn=ri, ri_effective=0.30,
             public_on_demand=0.126, tags={"env": "qa"}),
        Item(t0.replace(day=1, hour=0), t0.replace(day=1, hour=0) + HOUR, "RIFee", 74.40, 20.0,
             usage_type="USE1-HeavyUsage:r5.large", ri_arn=ri, ri_unused_upfront=15.0,
             ri_unused_recurring=5.0, public_on_demand=0.0),
        Item(t0.replace(day=1, hour=0), t0.replace(day=1, hour=0) + HOUR, "Fee", 300.0, 0.0,
             description="Sign up charge for subscription: ri-1", ri_arn=ri, public_on_demand=0.0),
        Item(t0, t1, "Fee", 29.0, 29.0, service="AWSSupportBusiness",
             description="AWS Support (Business)"),
        Item(t0, t1, "Credit", -5.0, -5.0, description="AWS Promotional Credit"),
        Item(t0, t1, "Refund", -2.0, -2.0, description="Refund of an overcharge"),
        Item(t0, t1, "Tax", 3.5, 3.5, service="AmazonEC2", description="Tax for product code"),
        Item(t0, t1, "EdpDiscount", -0.05, -0.05, description="Enterprise discount"),
        Item(t0, t1, "BundledDiscount", -0.02, -0.02, description="Free tier bundled"),
        Item(t0, t1, "Usage", 2.30, 2.30, service="AmazonSageMaker",
             usage_type="USE1-Train:ml.m5.4xlarge", instance_type="ml.m5.4xlarge",
             resource_id="arn:aws:sagemaker:us-east-1:1:training-job/exp-1",
             tags={"env": "dev", "component": "experiments"}),
    ]


# -- a month of the recommender example ----------------------------------------------------
@dataclass(frozen=True)
class Running:
    """A generated resource: what it is, what an hour costs, and when it runs."""

    env: str | None
    component: str | None
    service: str
    usage_type: str
    instance_type: str
    usd_per_hour: float
    count: float = 1.0
    hours: str = "always"  # always | office (M-F 7-19 New York) | qa (M-F 8-18) | weekly
    resource_id: str = ""
    spot: bool = False


RECOMMENDER: tuple[Running, ...] = (
    Running("dev", "ds-notebooks", "AmazonSageMaker", "USE1-Notebk:ml.t3.medium",
            "ml.t3.medium", 0.05, 4, "office",
            "arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/ds-notebooks"),
    Running("dev", "gpu-notebook", "AmazonSageMaker", "USE1-Notebk:ml.g4dn.xlarge",
            "ml.g4dn.xlarge", 0.7364, 1, "office",
            "arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/gpu-notebook"),
    Running("dev", "experiments", "AmazonSageMaker", "USE1-Train:ml.m5.4xlarge",
            "ml.m5.4xlarge", 0.2765, 1, "daytime-jobs",
            "arn:aws:sagemaker:us-east-1:111122223333:training-job/experiments", spot=True),
    Running("dev", "scratch", "AmazonS3", "USE1-TimedStorage-ByteHrs", "", 0.0065),
    Running("qa", "recs-endpoint-qa", "AmazonSageMaker", "USE1-Host:ml.c5.xlarge",
            "ml.c5.xlarge", 0.238, 1, "qa",
            "arn:aws:sagemaker:us-east-1:111122223333:endpoint/recs-endpoint-qa"),
    Running("qa", "qa-simulation", "AmazonSageMaker", "USE1-Processing:ml.m5.xlarge",
            "ml.m5.xlarge", 0.23, 1, "nightly",
            "arn:aws:sagemaker:us-east-1:111122223333:processing-job/qa-simulation"),
    Running("prod", "recs-endpoint", "AmazonSageMaker", "USE1-Host:ml.c5.2xlarge",
            "ml.c5.2xlarge", 0.476, 3, "always",
            "arn:aws:sagemaker:us-east-1:111122223333:endpoint/recs-endpoint"),
    Running("prod", "airflow", "AmazonMWAA", "USE1-Environment:mw1.small", "", 0.49),
    Running("prod", "interactions-lake", "AmazonS3", "USE1-TimedStorage-ByteHrs", "", 0.0640),
    Running("prod", "weekly-retrain", "AmazonEC2", "USE1-BoxUsage:m6i.8xlarge", "m6i.8xlarge",
            1.536, 1, "weekly", "i-0retrain0000000001"),
    Running("prod", "api-egress", "AWSDataTransfer", "USE1-DataTransfer-Out-Bytes", "", 0.0675),
    Running(None, None, "AmazonCloudWatch", "USE1-CW:MetricMonitorUsage", "", 0.0137),
    Running(None, None, "AmazonVPC", "USE1-NatGateway-Hours", "", 0.045, 1, "always",
            "arn:aws:ec2:us-east-1:111122223333:natgateway/nat-0untagged00001"),
)
NEW_YORK = "America/New_York"


def _runs(hours: str, local: dt.datetime, rng: Any) -> bool:
    weekday = local.weekday() < 5
    if hours == "always":
        return True
    if hours == "office":
        return weekday and 7 <= local.hour < 19
    if hours == "qa":
        return weekday and 8 <= local.hour < 18
    if hours == "daytime-jobs":
        return weekday and 9 <= local.hour < 17 and bool(rng.random() < 0.3)
    if hours == "nightly":
        return weekday and local.hour == 1
    if hours == "weekly":
        return local.weekday() == 6 and 2 <= local.hour < 5
    raise ValueError(hours)


def recommender_items(first: dt.date, last: dt.date, seed: int = 0,
                      left_on: tuple[str, dt.date] | None = ("gpu-notebook",
                                                             dt.date(2027, 1, 12)),
                      ) -> list[Item]:
    """Hourly line items of the recommender example's resources from `first` to `last` (UTC).

    `left_on` keeps one notebook running through the night from that day on (a schedule
    violation of the kind instance-scheduler-on-aws#601 describes), for the check to find.
    """
    from zoneinfo import ZoneInfo

    np = require("numpy", "billing")
    rng = np.random.default_rng(seed)
    tz = ZoneInfo(NEW_YORK)
    items: list[Item] = []
    t = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    while t < end:
        local = t.replace(tzinfo=dt.UTC).astimezone(tz)
        for r in RECOMMENDER:
            on = _runs(r.hours, local, rng)
            if left_on and r.component == left_on[0] and local.date() >= left_on[1] and (
                    local.date() - left_on[1]).days < 3:
                on = True
            if not on:
                continue
            # Storage, egress and metrics vary a little hour to hour; instances do not.
            jitter = 1.0 if r.instance_type else float(rng.lognormal(0.0, 0.15))
            amount = r.count * jitter
            rate = r.usd_per_hour * (0.3 if r.spot else 1.0)
            tags = {k: v for k, v in (("env", r.env), ("component", r.component),
                                      ("project", "retail-recs" if r.env else None)) if v}
            items.append(Item(
                t, t + HOUR, "Usage", round(amount * rate, 10), round(amount * rate, 10),
                service=r.service, usage_type=r.usage_type, instance_type=r.instance_type,
                resource_id=r.resource_id, usage_amount=amount,
                public_on_demand=round(amount * r.usd_per_hour, 10),
                purchase_option="Spot" if r.spot else "OnDemand",
                description=f"{r.usage_type} ({'spot' if r.spot else 'on demand'})", tags=tags))
        t += HOUR
    # One-off charges: support fee on the 1st, tax when the month closes, a credit.
    day1 = dt.datetime(first.year, first.month, 1)
    if first.day == 1:
        items.append(Item(day1, day1 + HOUR, "Fee", 29.0, 29.0, service="AWSSupportBusiness",
                          description="AWS Support (Business)"))
        items.append(Item(day1, day1 + HOUR, "Credit", -15.0, -15.0, service="AmazonSageMaker",
                          description="AWS Promotional Credit"))
    return items
