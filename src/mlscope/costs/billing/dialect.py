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

    def map_get(self, map_expr: str, key: str) -> str:
        return f"element_at({map_expr}, {key})" if self.athena else f"{map_expr}[{key}]"

    def make_map(self, keys: list[str], values: list[str]) -> str:
        if self.athena:
            return f"MAP(ARRAY[{', '.join(keys)}], ARRAY[{', '.join(values)}])"
        return f"MAP([{', '.join(keys)}], [{', '.join(values)}])"

    def empty_map(self) -> str:
        if self.athena:
            return "CAST(MAP() AS MAP(VARCHAR, VARCHAR))"
        return "CAST(MAP() AS MAP(VARCHAR, VARCHAR))"


DUCKDB = Dialect("duckdb")
ATHENA = Dialect("athena")
DIALECTS = {"duckdb": DUCKDB, "athena": ATHENA}
