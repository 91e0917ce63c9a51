"""The few SQL spellings that differ between DuckDB (what mlscope runs) and Athena (Trino).

Everything else in the generated queries is plain ANSI SQL that both engines accept, so
`mlscope billing sql --dialect athena` prints the same query with only these pieces swapped.
"""

from __future__ import annotations

from dataclasses import dataclass


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Dialect:
    name: str  # "duckdb" | "athena"

    @property
    def athena(self) -> bool:
        return self.name == "athena"

    def lam(self, var: str, body: str) -> str:
        # DuckDB >= 1.3 spells lambdas `lambda x: ...` (arrows are deprecated); Trino `x -> ...`.
        return f"{var} -> {body}" if self.athena else f"lambda {var}: {body}"

    def list_filter(self, items: str, var: str, body: str) -> str:
        fn = "filter" if self.athena else "list_filter"
        return f"{fn}({items}, {self.lam(var, body)})"

    def list_transform(self, items: str, var: str, body: str) -> str:
        fn = "transform" if self.athena else "list_transform"
        return f"{fn}({items}, {self.lam(var, body)})"

    def first(self, items: str) -> str:
        """The first element of a list, NULL when empty."""
        if self.athena:
            return f"element_at({items}, 1)"
        return f"({items})[1]"

    def replace_all(self, text: str, pattern: str, replacement: str) -> str:
        # Trino replaces every match; DuckDB only the first unless given the 'g' option.
        if self.athena:
            return f"regexp_replace({text}, {pattern}, {replacement})"
        return f"regexp_replace({text}, {pattern}, {replacement}, 'g')"

    def struct_value(self, row: str) -> str:
        """The `value` field of a (key, value) entry that may be NULL."""
        return f"{row}[2]" if self.athena else f"struct_extract({row}, 'value')"

    def month(self, ts: str) -> str:
        return f"date_format({ts}, '%Y-%m')" if self.athena else f"strftime({ts}, '%Y-%m')"

    def day_text(self, day: str) -> str:
        return f"date_format({day}, '%Y-%m-%d')" if self.athena else f"strftime({day}, '%Y-%m-%d')"

    def json_map(self, text: str) -> str:
        """A JSON object held as text -> MAP(VARCHAR, VARCHAR); NULL when it is not JSON."""
        if self.athena:
            return f"TRY_CAST(json_parse({text}) AS MAP(VARCHAR, VARCHAR))"
        return f"TRY_CAST(TRY_CAST({text} AS JSON) AS MAP(VARCHAR, VARCHAR))"

    def timestamp(self, expr: str, is_text: bool) -> str:
        """A UTC timestamp without zone (offsets like Z or +02:00 are honoured)."""
        if not is_text:
            return f"CAST({expr} AS TIMESTAMP)"
        if self.athena:
            return f"CAST(from_iso8601_timestamp({expr}) AT TIME ZONE 'UTC' AS TIMESTAMP)"
        return f"CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS TIMESTAMP)"

    def entry_key(self, var: str) -> str:
        # map_entries gives STRUCT(key, value) in DuckDB and ROW(key, value) in Trino (by index).
        return f"{var}[1]" if self.athena else f"{var}.key"

    def entry_value(self, var: str) -> str:
        return f"{var}[2]" if self.athena else f"{var}.value"

    def make_entry(self, key: str, value: str) -> str:
        if self.athena:
            return f"CAST(ROW({key}, {value}) AS ROW(key VARCHAR, value VARCHAR))"
        return f"{{'key': {key}, 'value': {value}}}"

    def empty_entries(self) -> str:
        if self.athena:
            return "CAST(ARRAY[] AS ARRAY(ROW(key VARCHAR, value VARCHAR)))"
        return "CAST([] AS STRUCT(key VARCHAR, value VARCHAR)[])"

    def entries_of(self, map_expr: str) -> str:
        return f"map_entries({map_expr})"

    def concat_lists(self, parts: list[str]) -> str:
        if len(parts) == 1:
            return parts[0]
        fn = "concat" if self.athena else "list_concat"
        out = parts[0]
        for part in parts[1:]:
            out = f"{fn}({out}, {part})"
        return out


DUCKDB = Dialect("duckdb")
ATHENA = Dialect("athena")
DIALECTS = {"duckdb": DUCKDB, "athena": ATHENA}
