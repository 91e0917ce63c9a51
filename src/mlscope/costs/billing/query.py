"""The dimensions a billing summary groups by, and the SQL of the summary itself.

All aggregation is SQL run by DuckDB (or printed for Athena); Python only assembles the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mlscope.costs.billing.dialect import Dialect, literal
from mlscope.costs.billing.formats import normalize_tag_key
from mlscope.errors import InputError

PLAIN_DIMS = {
    "service": "service",
    "account": "account",
    "region": "region",
    "instance-type": "instance_type",
    "usage-type": "usage_type",
    "resource": "resource_id",
    "provider": "provider",
    "charge-category": "charge_category",
    "pricing-category": "pricing_category",
    "month": "month",
}
TAG_DIMS = ("env", "project", "component")
DIMS = (*PLAIN_DIMS, "day", *TAG_DIMS, "job-kind", "tag:NAME")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# SageMaker usage types name the job kind: USE1-Train:ml.p3.2xlarge, Notebk:..., Host:...,
# Processing:..., Tsform:... (LIKE patterns, so the same text runs on DuckDB and Athena).
JOB_KINDS = (
    ("training", ("%Train%",)),
    ("notebook", ("%Notebk%", "%Notebook%", "%Studio%")),
    ("endpoint", ("%Host%", "%Endpoint%", "%Inference%", "%Async%")),
    ("processing", ("%Processing%",)),
    ("batch-transform", ("%Tsform%", "%Transform%")),
)


@dataclass(frozen=True)
class TagKeys:
    """Which resource tags name the environment, project and component (first present wins)."""

    env: tuple[str, ...] = ("env", "environment")
    project: tuple[str, ...] = ("project",)
    component: tuple[str, ...] = ("component",)

    def keys(self, dim: str) -> tuple[str, ...]:
        keys: tuple[str, ...] = getattr(self, dim)
        return keys


@dataclass
class Query:
    dialect: Dialect
    tag_keys: TagKeys = field(default_factory=TagKeys)
    fmt: str | None = None  # the export's format: fewer key spellings to try when known

    def tag(self, *names: str) -> str:
        """The value of the first of these tags a line item has, or NULL (empty counts as none).

        Map lookups of the key's usual spellings (computed here, once) rather than normalizing
        every key of every row: that keeps `--by env` near DuckDB's raw scan speed.
        """
        d = self.dialect
        lookups = []
        for name in names:
            for key in tag_spellings(name, self.fmt):
                lookups.append(f"NULLIF({d.map_get('tags', literal(key))}, '')")
        return lookups[0] if len(lookups) == 1 else f"COALESCE({', '.join(lookups)})"

    def job_kind(self) -> str:
        text = "COALESCE(usage_type, description, '')"
        whens = " ".join(
            f"WHEN {' OR '.join(f'{text} LIKE {literal(p)}' for p in pats)} THEN {literal(kind)}"
            for kind, pats in JOB_KINDS)
        return (f"CASE WHEN lower(COALESCE(service, '')) LIKE '%sagemaker%' "
                f"THEN CASE {whens} ELSE 'other' END ELSE NULL END")

    def dim(self, name: str) -> str:
        if name in PLAIN_DIMS:
            return PLAIN_DIMS[name]
        if name == "day":
            return self.dialect.day_text("day")
        if name in TAG_DIMS:
            return self.tag(*self.tag_keys.keys(name))
        if name == "job-kind":
            return self.job_kind()
        if name.startswith("tag:") and len(name) > 4:
            return self.tag(name[4:])
        raise InputError(f"unknown dimension '{name}'",
                         f"use one of {', '.join(DIMS)} (tag:NAME for any tag)")

    def where(self, month: str | None, extra: str | None = None) -> str:
        clauses = []
        if month is not None:
            clauses.append(f"month = {literal(check_month(month))}")
        if extra:
            clauses.append(extra)
        return f"WHERE {' AND '.join(clauses)}" if clauses else ""

    def summary(self, view: str, by: list[str], month: str | None) -> str:
        """One scan: the groups, the totals by currency, and untagged cost by resource.

        One scan matters: decoding the tag map column costs more than the aggregation, so the
        untagged share rides along as a third grouping set instead of a second query.
        """
        # The env tag is looked up once per row, for the untagged share and for `--by env`.
        dims = ["env_value" if b == "env" else self.dim(b) for b in by]
        env = self.tag(*self.tag_keys.env)
        names = [f"d{i}" for i in range(len(dims))]
        # Dimensions are columns of a subquery, not SELECT aliases: Trino (Athena) does not
        # accept aliases in GROUP BY, DuckDB accepts both.
        computed = "".join(f", {e} AS d{i}" for i, e in enumerate(dims))
        sets = [f"({', '.join(names)})", "(currency)", "(untagged, u_resource)"]
        grouping = [*names, "currency", "untagged", "u_resource"]
        # Tagged rows collapse into one group of the last set: only untagged ones are listed.
        return (
            f"SELECT {', '.join([*names, 'currency', 'untagged', 'u_resource'])},\n"
            f"  MAX(u_service) AS u_service,\n"
            f"  GROUPING({', '.join(grouping)}) AS grouping_id,\n"
            f"  COUNT(*) AS line_items, SUM(billed_cost) AS billed_cost,\n"
            f"  SUM(effective_cost) AS effective_cost, SUM(list_cost) AS list_cost\n"
            f"FROM (SELECT *,\n"
            f"  CASE WHEN untagged THEN resource_id END AS u_resource,\n"
            f"  CASE WHEN untagged THEN service END AS u_service\n"
            f"  FROM (SELECT *, env_value IS NULL AS untagged{computed}\n"
            f"  FROM (SELECT *, {env} AS env_value FROM {view}) AS e\n"
            f"  {self.where(month)}) AS t) AS b\n"
            f"GROUP BY GROUPING SETS ({', '.join(sets)})")

    def daily(self, view: str, by: str | None, month: str | None = None,
              where: str | None = None) -> str:
        """Daily effective cost (per value of `by`, when given)."""
        key = self.dim(by) if by else "NULL"
        return (f"SELECT day, {key} AS k, SUM(effective_cost) AS cost, "
                f"SUM(billed_cost) AS billed\nFROM {view}\n{self.where(month, where)}\n"
                f"GROUP BY 1, 2 ORDER BY 1")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def tag_spellings(name: str, fmt: str | None = None) -> list[str]:
    """The keys a tag may have in an export: CUR 2.0's `user_<snake>` (and as written), FOCUS's
    as written (and lower case), legacy CUR's `normalize_tag_key` (its columns are gathered into
    a map under that key). Unknown format: all of them."""
    base = name[5:] if name.lower().startswith(("user:", "user_")) else name
    snake = re.sub(r"[^a-z0-9]+", "_", _snake(base)).strip("_")
    if fmt == "cur2":
        out = [f"user_{snake}", f"user_{base}", name]
    elif fmt == "cur-legacy":
        out = [normalize_tag_key(name)]
    elif fmt is not None and fmt.startswith("focus"):
        out = [name, base, base.lower()]
    else:
        out = [name, base, base.lower(), f"user_{snake}", f"user_{base}", f"user:{base}",
               normalize_tag_key(name)]
    return list(dict.fromkeys(k for k in out if k))


def check_month(month: str) -> str:
    if not MONTH_RE.match(month):
        raise InputError(f"month '{month}' is not YYYY-MM", "pass e.g. --month 2027-01")
    return month
