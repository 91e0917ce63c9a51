"""Recognise a billing export from its columns and map it onto one normalized line-item view.

Formats: CUR 2.0 (`cur2`), legacy CUR (`cur-legacy`: CSV with `lineItem/UnblendedCost` headers
or Athena-style snake_case Parquet) and FOCUS 1.0/1.1/1.2. Costs follow the mapping AWS's Cloud
Intelligence Dashboards (`summary_view.sql`) and the FinOps Foundation's focus_converters use
(see docs/billing.md): Savings Plan covered usage at its effective cost, negation rows at 0,
RI usage at the reservation's effective cost, unused commitment in the fees, upfront fees 0
(amortized into usage), credits kept as `Credit`, tax as `Tax`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mlscope.costs.billing.dialect import Dialect, literal, quote
from mlscope.errors import InputError

FORMATS = ("cur2", "cur-legacy", "focus-1.0", "focus-1.1", "focus-1.2")

# The columns without which a file is not that format (the unknown-file message names them).
CUR_REQUIRED = ("line_item_unblended_cost", "line_item_usage_start_date")
FOCUS_REQUIRED = ("BilledCost", "ChargePeriodStart")
CUR2_MARKERS = ("product", "resource_tags", "cost_category", "discount", "bill_payer_account_name")
FOCUS_11 = ("CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
            "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails")
FOCUS_12 = ("BillingAccountType", "InvoiceId", "PricingCurrency",
            "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
            "PricingCurrencyListUnitPrice", "SubAccountType")

# The normalized view's columns, in order (docs/billing.md describes each).
NORMALIZED = (
    "usage_start", "day", "month", "provider", "account", "service", "region", "instance_type",
    "usage_type", "description", "resource_id", "charge_type", "charge_category", "charge_class",
    "pricing_category", "commitment_id", "commitment_status", "currency", "usage_amount",
    "billed_cost", "effective_cost", "list_cost", "tags",
)

# Instance types inside usage types or descriptions: BoxUsage:m5.large, USE1-Host:ml.c5.xlarge.
INSTANCE_RE = (r"((?:ml\.|db\.|cache\.)?[a-z][a-z0-9-]*\.(?:nano|micro|small|medium|large"
               r"|[0-9]*xlarge|metal(?:-[0-9]+xl)?))")


def unknown_format_error(source: str, columns: list[str]) -> InputError:
    shown = ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")
    return InputError(
        f"{source} is not a billing export mlscope knows (its columns: {shown or 'none'})",
        "expected CUR 2.0 or legacy CUR columns (line_item_line_item_type, "
        "line_item_unblended_cost, line_item_usage_start_date, or lineItem/UnblendedCost, "
        "lineItem/UsageStartDate) or FOCUS columns (BilledCost, EffectiveCost, ChargeCategory, "
        "ChargePeriodStart)")


def legacy_to_snake(header: str) -> str:
    """`lineItem/UnblendedCost` -> `line_item_unblended_cost`, as Athena's CUR table names it.

    Every capital starts a word (so `ReservationARN` -> `reservation_a_r_n`, like Athena).
    """
    parts = []
    for piece in header.split("/"):
        snake = re.sub(r"([A-Z])", r"_\1", piece).lower().lstrip("_")
        parts.append(re.sub(r"[^a-z0-9]+", "_", snake).strip("_"))
    return "_".join(p for p in parts if p)


def normalize_tag_key(key: str) -> str:
    """One spelling per tag across formats: `user:CostCenter`, `user_cost_center` -> costcenter."""
    key = re.sub(r"^user[:_]", "", key, flags=re.I)
    return re.sub(r"[^a-z0-9]", "", key.lower())


def detect(columns: Mapping[str, str]) -> str:
    """The format of a file from its column names, or '' when it is none of them."""
    names = set(columns)
    if all(c in names for c in FOCUS_REQUIRED):
        if names & set(FOCUS_12):
            return "focus-1.2"
        if names & set(FOCUS_11):
            return "focus-1.1"
        return "focus-1.0"
    snake = {legacy_to_snake(c) if "/" in c else c for c in names}
    if not all(c in snake for c in CUR_REQUIRED):
        return ""
    if any("/" in c for c in names):
        return "cur-legacy"
    if names & set(CUR2_MARKERS):
        return "cur2"
    return "cur-legacy"


@dataclass
class Columns:
    """The columns one source really has (name -> DuckDB type), addressed by canonical name."""

    types: dict[str, str]
    dialect: Dialect

    def __post_init__(self) -> None:
        self.by_canonical: dict[str, str] = {}
        for name in self.types:
            canon = legacy_to_snake(name) if "/" in name else name
            self.by_canonical.setdefault(canon, name)
            self.by_canonical.setdefault(canon.lower(), name)

    def has(self, canon: str) -> bool:
        return canon in self.by_canonical or canon.lower() in self.by_canonical

    def actual(self, canon: str) -> str | None:
        return self.by_canonical.get(canon, self.by_canonical.get(canon.lower()))

    def is_text(self, canon: str) -> bool:
        name = self.actual(canon)
        return name is not None and self.types[name].upper() in ("VARCHAR", "STRING", "JSON")

    def raw(self, canon: str) -> str:
        name = self.actual(canon)
        return quote(name) if name is not None else "NULL"

    def text(self, canon: str) -> str:
        """A text column with empty strings as NULL (CSV exports write missing values as '')."""
        name = self.actual(canon)
        if name is None:
            return "CAST(NULL AS VARCHAR)"
        if self.is_text(canon):
            return f"NULLIF({quote(name)}, '')"
        return f"CAST({quote(name)} AS VARCHAR)"

    def num(self, canon: str) -> str:
        name = self.actual(canon)
        if name is None:
            return "CAST(NULL AS DOUBLE)"
        if self.is_text(canon):
            return f"TRY_CAST({quote(name)} AS DOUBLE)"
        return f"CAST({quote(name)} AS DOUBLE)"

    def first_num(self, *canon: str) -> str:
        present = [self.num(c) for c in canon if self.has(c)]
        if not present:
            return "CAST(NULL AS DOUBLE)"
        return present[0] if len(present) == 1 else f"COALESCE({', '.join(present)})"

    def first_text(self, *canon: str) -> str:
        present = [self.text(c) for c in canon if self.has(c)]
        if not present:
            return "CAST(NULL AS VARCHAR)"
        return present[0] if len(present) == 1 else f"COALESCE({', '.join(present)})"

    def ts(self, canon: str) -> str:
        name = self.actual(canon)
        if name is None:
            return "CAST(NULL AS TIMESTAMP)"
        return self.dialect.timestamp(quote(name), self.is_text(canon))

    def tag_map(self, canon: str) -> str | None:
        """A map column (or a JSON object held as text, as in CSV exports) as MAP(text, text)."""
        name = self.actual(canon)
        if name is None:
            return None
        kind = self.types[name].upper()
        if kind.startswith("MAP"):
            return quote(name)
        if kind in ("VARCHAR", "JSON"):
            return self.dialect.json_map(f"NULLIF({quote(name)}, '')")
        return None


def _instance(d: Dialect, *exprs: str) -> str:
    return f"regexp_extract(COALESCE({', '.join(exprs)}, ''), {literal(INSTANCE_RE)}, 1)"


def _cur_tags(c: Columns) -> str:
    """The tags of a CUR line item as one map.

    CUR 2.0 has a `resource_tags` (or `tags`) map keyed `user_<key>`; legacy CUR has one column
    per tag (`resourceTags/user:env`, Athena `resource_tags_user_env`), gathered here into a map
    keyed by `normalize_tag_key` so a lookup finds them whatever the export's spelling.
    """
    d = c.dialect
    for canon in ("resource_tags", "tags"):
        found = c.tag_map(canon)
        if found is not None:
            return found
    legacy: dict[str, list[str]] = {}
    for name in c.types:
        if name.startswith("resourceTags/") or name.startswith("resource_tags_"):
            key = normalize_tag_key(name.split("/", 1)[1] if "/" in name else
                                    name[len("resource_tags_"):])
            legacy.setdefault(key, []).append(name)
    if not legacy:
        return d.empty_map()
    keys, values = [], []
    for key, names in sorted(legacy.items()):
        parts = [f"NULLIF(CAST({quote(n)} AS VARCHAR), '')" for n in names]
        keys.append(literal(key))
        values.append(parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})")
    return d.make_map(keys, values)


def cur_select(c: Columns) -> dict[str, str]:
    """Normalized expressions for CUR 2.0 and legacy CUR (both addressed by snake_case names)."""
    d = c.dialect
    # The raw column, not NULLIF(...): CASE compares it once per WHEN, and an empty or NULL
    # type matches no WHEN anyway (it falls through to plain usage at its billed cost).
    t = c.raw("line_item_line_item_type") if c.has("line_item_line_item_type") else "NULL"
    unblended = c.num("line_item_unblended_cost")
    billed = c.first_num("line_item_net_unblended_cost", "line_item_unblended_cost")
    sp_eff = c.first_num("savings_plan_net_savings_plan_effective_cost",
                         "savings_plan_savings_plan_effective_cost")
    sp_unused = (f"COALESCE({c.num('savings_plan_total_commitment_to_date')}, 0) - "
                 f"COALESCE({c.num('savings_plan_used_commitment')}, 0)")
    ri_eff = c.first_num("reservation_net_effective_cost", "reservation_effective_cost")
    ri_unused = (
        f"COALESCE({c.first_num('reservation_net_unused_amortized_upfront_fee_for_billing_period', 'reservation_unused_amortized_upfront_fee_for_billing_period')}, 0)"  # noqa: E501
        f" + COALESCE({c.first_num('reservation_net_unused_recurring_fee', 'reservation_unused_recurring_fee')}, 0)")  # noqa: E501
    ri_arn = c.text("reservation_reservation_a_r_n")
    sp_arn = c.text("savings_plan_savings_plan_a_r_n")
    effective = (
        f"CASE {t} "
        f"WHEN 'SavingsPlanCoveredUsage' THEN COALESCE({sp_eff}, 0) "
        f"WHEN 'SavingsPlanNegation' THEN 0 "
        f"WHEN 'SavingsPlanUpfrontFee' THEN 0 "
        f"WHEN 'SavingsPlanRecurringFee' THEN {sp_unused} "
        f"WHEN 'DiscountedUsage' THEN COALESCE({ri_eff}, 0) "
        f"WHEN 'RIFee' THEN {ri_unused} "
        f"WHEN 'Fee' THEN CASE WHEN {ri_arn} IS NOT NULL THEN 0 ELSE COALESCE({billed}, 0) END "
        f"ELSE COALESCE({billed}, 0) END")
    category = (
        f"CASE WHEN {t} IS NULL OR {t} = '' THEN 'Usage' "
        f"WHEN {t} = 'Tax' THEN 'Tax' WHEN {t} = 'Credit' THEN 'Credit' "
        f"WHEN {t} IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee') "
        f"THEN 'Purchase' "
        f"WHEN {t} IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', "
        f"'SavingsPlanNegation', 'BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount', "
        f"'Discount', 'Refund') THEN 'Usage' ELSE 'Adjustment' END")
    usage_type = c.text("line_item_usage_type")
    purchase = c.first_text("pricing_purchase_option", "product_purchase_option")
    pricing = (
        f"CASE WHEN {t} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage', "
        f"'SavingsPlanNegation') THEN 'Committed' "
        f"WHEN {purchase} = 'Spot' OR {usage_type} LIKE '%SpotUsage%' THEN 'Dynamic' "
        f"WHEN {t} = 'Usage' OR {t} IS NULL THEN 'Standard' ELSE NULL END")
    start = c.ts("line_item_usage_start_date")
    region = c.first_text("product_region_code", "product_region")
    instance = c.first_text("product_instance_type")
    return {
        "usage_start": start,
        "provider": "'AWS'",
        "account": c.first_text("line_item_usage_account_id", "bill_payer_account_id"),
        "service": c.first_text("line_item_product_code", "product_servicecode"),
        "region": region,
        "instance_type": f"COALESCE({instance}, NULLIF({_instance(d, usage_type)}, ''))",
        "usage_type": usage_type,
        "description": c.text("line_item_line_item_description"),
        "resource_id": c.text("line_item_resource_id"),
        "charge_type": c.first_text("line_item_line_item_type"),
        "charge_category": category,
        "charge_class": f"CASE WHEN {t} = 'Refund' THEN 'Correction' ELSE NULL END",
        "pricing_category": pricing,
        "commitment_id": f"COALESCE({sp_arn}, {ri_arn})",
        "commitment_status": (f"CASE WHEN {t} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') "
                              f"THEN 'Used' ELSE NULL END"),
        "currency": c.first_text("line_item_currency_code", "pricing_currency"),
        "usage_amount": c.num("line_item_usage_amount"),
        "billed_cost": f"COALESCE({billed}, 0)",
        "effective_cost": effective,
        "list_cost": f"COALESCE({c.num('pricing_public_on_demand_cost')}, {unblended}, 0)"
        if c.has("pricing_public_on_demand_cost") else f"COALESCE({unblended}, 0)",
        "tags": _cur_tags(c),
    }


def _title_case(expr: str, values: tuple[str, ...]) -> str:
    """Spec spellings of an enumerated FOCUS value, whatever case the file used."""
    whens = " ".join(f"WHEN {literal(v.lower())} THEN {literal(v)}" for v in values)
    return f"CASE lower({expr}) {whens} ELSE {expr} END"


def focus_select(c: Columns) -> dict[str, str]:
    d = c.dialect
    billed = c.num("BilledCost")
    usage_type = c.first_text("x_UsageType", "SkuMeter")
    description = c.text("ChargeDescription")
    tags = c.tag_map("Tags")
    return {
        "usage_start": c.ts("ChargePeriodStart"),
        "provider": c.first_text("ProviderName", "ServiceProviderName", "PublisherName"),
        "account": c.first_text("SubAccountId", "BillingAccountId"),
        "service": c.first_text("ServiceName"),
        "region": c.first_text("RegionId", "Region"),
        "instance_type": f"NULLIF({_instance(d, usage_type, description)}, '')",
        "usage_type": usage_type,
        "description": description,
        "resource_id": c.first_text("ResourceId"),
        "charge_type": c.first_text("ChargeCategory"),
        "charge_category": _title_case(c.first_text("ChargeCategory"),
                                       ("Usage", "Purchase", "Tax", "Credit", "Adjustment")),
        "charge_class": c.first_text("ChargeClass"),
        "pricing_category": _title_case(c.first_text("PricingCategory"),
                                        ("Standard", "Dynamic", "Committed", "Other")),
        "commitment_id": c.first_text("CommitmentDiscountId"),
        "commitment_status": _title_case(c.first_text("CommitmentDiscountStatus"),
                                         ("Used", "Unused")),
        "currency": c.first_text("BillingCurrency"),
        "usage_amount": c.first_num("ConsumedQuantity", "PricingQuantity"),
        "billed_cost": f"COALESCE({billed}, 0)",
        "effective_cost": f"COALESCE({c.num('EffectiveCost')}, {billed}, 0)",
        "list_cost": f"COALESCE({c.num('ListCost')}, {billed}, 0)",
        "tags": tags or d.empty_map(),
    }


def normalized_select(fmt: str, columns: Mapping[str, str], dialect: Dialect,
                      source_sql: str) -> str:
    """SELECT of the normalized view over `source_sql` (a FROM-able expression)."""
    c = Columns(dict(columns), dialect)
    exprs = focus_select(c) if fmt.startswith("focus") else cur_select(c)
    inner = ",\n    ".join(f"{exprs[k]} AS {k}" for k in exprs)
    cols = [k for k in NORMALIZED if k not in ("day", "month", "usage_start")]
    return (
        "SELECT usage_start, CAST(usage_start AS DATE) AS day, "
        f"{dialect.month('usage_start')} AS month, {', '.join(cols)}\n"
        f"FROM (\n  SELECT\n    {inner}\n  FROM {source_sql}\n) AS line_items")
