"""The CLI contract of `mlscope billing summary` and `billing sql`, run through the entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.costs.billing import synth


def test_summary_json_contract(run, exports: dict[str, Path], items: list[synth.Item]) -> None:
    res = run("billing", "summary", exports["cur2-parquet"], "--by", "service", "--by", "env",
              "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert {"format", "rows", "currency", "billed_cost", "effective_cost", "groups"} <= set(out)
    assert out["format"] == "cur2" and out["rows"] == len(items) and out["currency"] == "USD"
    for group in out["groups"]:
        assert set(group["key"]) == {"service", "env"}
        assert {"billed_cost", "effective_cost"} <= set(group)
    untagged = [g for g in out["groups"] if g["key"]["env"] is None]
    assert untagged, "untagged cost is a group with env null"
    assert sum(g["effective_cost"] for g in out["groups"]) == pytest.approx(
        out["effective_cost"])


@pytest.mark.parametrize("dim,sample", [
    ("account", "111122223333"), ("region", "us-east-1"), ("instance-type", "m5.large"),
    ("usage-type", "USE1-BoxUsage:m5.large"), ("day", "2027-01-10"), ("month", "2027-01"),
    ("tag:component", "recs-endpoint"), ("job-kind", "training"),
])
def test_summary_dimensions(run, exports: dict[str, Path], dim: str, sample: str) -> None:
    res = run("billing", "summary", exports["legacy-csv"], "--by", dim, "--json")
    assert res.code == 0, res.err
    values = {g["key"][dim] for g in res.json()["groups"]}
    assert sample in values


def test_summary_month_and_table(run, exports: dict[str, Path]) -> None:
    res = run("billing", "summary", exports["focus-1.2"], "--month", "2027-02", "--json")
    assert res.code == 0 and res.json()["format"] == "focus-1.2"
    table = run("billing", "summary", exports["focus-1.2"], "--by", "env")
    assert table.code == 0 and "focus-1.2" in table.out and "Untagged" in table.out


@pytest.mark.parametrize("args,needle", [
    (["--by", "colour"], "unknown dimension"),
    (["--month", "2027-13"], "YYYY-MM"),
])
def test_bad_arguments_are_one_line(run, exports: dict[str, Path], args: list[str],
                                    needle: str) -> None:
    res = run("billing", "summary", exports["cur2-parquet"], *args, "--json")
    assert res.code == 2 and needle in res.err and len(res.err.strip().splitlines()) == 1


def test_unknown_file_is_one_line_exit_2(run, tmp_path: Path) -> None:
    bad = tmp_path / "sales.csv"
    bad.write_text("date,amount\n2027-01-01,3\n")
    res = run("billing", "summary", bad, "--json")
    assert res.code == 2
    assert len(res.err.strip().splitlines()) == 1
    assert "line_item_unblended_cost" in res.err and "BilledCost" in res.err
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    res = run("billing", "summary", empty, "--json")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1


def test_sql_prints_what_runs(run, exports: dict[str, Path]) -> None:
    import duckdb

    res = run("billing", "sql", exports["cur2-parquet"], "--by", "service")
    assert res.code == 0
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    statements = [s for s in res.out.split(";\n") if s.strip()]
    for statement in statements:
        con.execute("\n".join(line for line in statement.splitlines()
                              if not line.startswith("--")))
    summary = run("billing", "summary", exports["cur2-parquet"], "--by", "service", "--json")
    rows = con.fetchall()
    assert sum(r[-2] for r in rows if r[-2] is not None) / 3 == pytest.approx(
        summary.json()["effective_cost"])
    athena = run("billing", "sql", exports["legacy-csv"], "--dialect", "athena", "--table",
                 "cur_db.cur")
    assert athena.code == 0
    assert 'FROM "cur_db"."cur"' in athena.out and "lambda" not in athena.out
    assert '"line_item_unblended_cost"' in athena.out and "lineItem/" not in athena.out


@pytest.mark.parametrize("name", ["cur2-parquet", "legacy-csv", "legacy-parquet", "focus-1.2"])
def test_athena_sql_parses_as_trino(run, exports: dict[str, Path], name: str) -> None:
    """Not run on Athena (no AWS here): parsed by sqlglot's Trino dialect, Athena's engine."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    res = run("billing", "sql", exports[name], "--dialect", "athena", "--table", "db.cur",
              "--by", "env", "--by", "day", "--by", "tag:component", "--month", "2027-01")
    assert res.code == 0, res.err
    statements = [s for s in res.out.split(";\n") if s.strip()]
    assert len(statements) == 2
    for statement in statements:
        body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
        sqlglot.parse_one(body, read="trino", error_level=ErrorLevel.RAISE)
