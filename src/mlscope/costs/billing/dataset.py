"""Open billing exports in DuckDB as one normalized view, and summarise them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscope.costs.billing.dialect import DUCKDB, Dialect, literal, quote
from mlscope.costs.billing.formats import detect, normalized_select, unknown_format_error
from mlscope.costs.billing.query import Query, TagKeys
from mlscope.costs.billing.sources import Sources, resolve
from mlscope.errors import ConflictError, InputError, require

VIEW = "billing_line_items"
TOP_UNTAGGED = 10
CSV_OPTIONS = "all_varchar=true, union_by_name=true, header=true, nullstr=['NULL', 'null', '']"


def read_sql(kind: str, files: list[str]) -> str:
    """The DuckDB table function that reads these files (gzip is recognised by its suffix)."""
    listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    if kind == "parquet":
        return f"read_parquet({listing}, union_by_name=true)"
    return f"read_csv({listing}, {CSV_OPTIONS})"


@dataclass
class Part:
    """Files of one kind (parquet/csv) and one format, read as one source."""

    kind: str
    fmt: str
    files: list[str]
    columns: dict[str, str] = field(default_factory=dict)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError("the export holds a cost that is not a finite number",
                         "check the file: costs must be numbers")
    return value


class BillingData:
    """A DuckDB connection with the normalized view `billing_line_items` over the exports."""

    def __init__(self, paths: list[str], tag_keys: TagKeys | None = None,
                 memory_limit: str | None = None) -> None:
        duckdb = require("duckdb", "billing")
        self._duckdb = duckdb
        self.tag_keys = tag_keys or TagKeys()
        self.query = Query(DUCKDB, self.tag_keys)
        self.sources: Sources = resolve([str(p) for p in paths])
        self.con = duckdb.connect()
        try:
            self.con.execute("SET TimeZone = 'UTC'")
            if memory_limit is not None:
                # DuckDB streams Parquet/CSV and spills to disk, so exports larger than RAM fit.
                self.con.execute(f"SET memory_limit = {literal(memory_limit)}")
            self.parts = self._parts()
            self.format = self.parts[0].fmt
            self.query = Query(DUCKDB, self.tag_keys, self.format)
            self.view_sql = self.normalized_sql(DUCKDB)
            self.con.execute(f"CREATE TEMP VIEW {VIEW} AS\n{self.view_sql}")
        except BaseException:
            self.close()
            raise

    # -- reading -------------------------------------------------------------------------
    def _describe(self, kind: str, files: list[str]) -> dict[str, str]:
        try:
            rows = self.con.execute(f"DESCRIBE SELECT * FROM {read_sql(kind, files)}").fetchall()
        except self._duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"cannot read {Path(files[0]).name} as {kind}: {first}",
                             "pass a CUR 2.0, legacy CUR or FOCUS export (.parquet, .csv, "
                             ".csv.gz)") from None
        return {str(r[0]): str(r[1]) for r in rows}

    def _parts(self) -> list[Part]:
        by_format: dict[tuple[str, str], list[str]] = {}
        for kind, files in (("parquet", self.sources.parquet), ("csv", self.sources.csv)):
            for f in files:
                cols = self._describe(kind, [f])
                fmt = detect(cols)
                if not fmt:
                    raise unknown_format_error(Path(f).name, list(cols))
                by_format.setdefault((kind, fmt), []).append(f)
        formats = sorted({fmt for _, fmt in by_format})
        if len(formats) > 1:
            examples = "; ".join(f"{Path(files[0]).name} is {fmt}"
                                 for (_, fmt), files in by_format.items())
            raise ConflictError(f"the exports mix formats ({examples})",
                                "pass the files of one export at a time")
        parts = []
        for (kind, fmt), files in by_format.items():
            parts.append(Part(kind, fmt, files, self._describe(kind, files)))
        return parts

    def normalized_sql(self, dialect: Dialect, table: str | None = None) -> str:
        """The normalized view's SELECT; for Athena over `table` (the export's Glue table)."""
        selects = []
        for part in self.parts:
            if table is not None:
                from mlscope.costs.billing.formats import legacy_to_snake

                cols = {legacy_to_snake(n) if "/" in n else n: t for n, t in part.columns.items()}
                qualified = ".".join(quote(p) for p in table.split("."))
                selects.append(normalized_select(part.fmt, cols, dialect, qualified))
                break  # one Athena table holds the whole export
            selects.append(normalized_select(part.fmt, part.columns, dialect,
                                             read_sql(part.kind, part.files)))
        return "\nUNION ALL\n".join(selects)

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self.sources.cleanup()

    def __enter__(self) -> BillingData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return [tuple(_clean(v) for v in row) for row in self.con.execute(sql).fetchall()]
        except self._duckdb.Error as exc:
            msg = str(exc).strip().splitlines()[0]
            raise InputError(f"cannot read the billing export: {msg}",
                             "check that the files are complete exports") from None

    # -- questions -----------------------------------------------------------------------
    def months(self) -> list[str]:
        return [r[0] for r in self.fetch(
            f"SELECT DISTINCT month FROM {VIEW} WHERE month IS NOT NULL ORDER BY 1")]

    def summary(self, by: list[str], month: str | None = None) -> dict[str, Any]:
        """The `billing summary --json` object (see docs/billing.md for the schema)."""
        rows = self.fetch(self.query.summary(VIEW, by, month))
        n = len(by)
        # GROUPING() bits, leftmost column first: 0 where the column is grouped.
        dims_mask = ((1 << n) - 1) << 3
        group_id, currency_id, untagged_id = 0b111, dims_mask | 0b011, dims_mask | 0b100
        groups, currencies, untagged = [], [], []
        for row in rows:
            gid = row[n + 4]
            line_items, billed, effective, listed = row[n + 5:n + 9]
            if gid == group_id:
                groups.append({"key": {b: _key(row[i]) for i, b in enumerate(by)},
                               "rows": line_items, "billed_cost": billed or 0.0,
                               "effective_cost": effective or 0.0, "list_cost": listed or 0.0})
            elif gid == currency_id:
                currencies.append((row[n], line_items, billed or 0.0, effective or 0.0,
                                   listed or 0.0))
            elif gid == untagged_id and row[n + 1]:
                untagged.append({"resource_id": row[n + 2], "service": row[n + 3],
                                 "billed_cost": billed or 0.0, "effective_cost": effective or 0.0})
        untagged.sort(key=lambda u: -abs(u["effective_cost"]))
        total_rows = sum(c[1] for c in currencies)
        billed_total = sum(c[2] for c in currencies)
        effective_total = sum(c[3] for c in currencies)
        named = sorted({c[0] for c in currencies if c[0]})
        groups.sort(key=lambda g: (-abs(g["effective_cost"]), str(g["key"])))
        untagged_cost = sum(u["effective_cost"] for u in untagged)
        return {
            "format": self.format,
            "month": month,
            "rows": total_rows,
            "currency": named[0] if len(named) == 1 else ("mixed" if named else None),
            "billed_cost": billed_total,
            "effective_cost": effective_total,
            "list_cost": sum(c[4] for c in currencies),
            "by": list(by),
            "groups": groups,
            "untagged": {
                "tag_keys": list(self.tag_keys.env),
                "effective_cost": untagged_cost,
                "share": untagged_cost / effective_total if effective_total else 0.0,
                "top_resources": untagged[:TOP_UNTAGGED],
            },
        }

    def daily(self, by: str | None = None, month: str | None = None,
              where: str | None = None) -> list[tuple[Any, Any, float, float]]:
        return [(r[0], r[1], float(r[2] or 0.0), float(r[3] or 0.0))
                for r in self.fetch(self.query.daily(VIEW, by, month, where))]


def _key(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@contextmanager
def open_billing(paths: list[str], tag_keys: TagKeys | None = None) -> Iterator[BillingData]:
    data = BillingData(paths, tag_keys)
    try:
        yield data
    finally:
        data.close()
