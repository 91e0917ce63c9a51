"""Every format is read, detected and totalled like an independent sum in Python."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from mlscope.costs.billing import synth
from mlscope.costs.billing.dataset import BillingData
from mlscope.costs.billing.formats import detect, legacy_to_snake
from mlscope.errors import ConflictError, InputError

DATA = Path(__file__).resolve().parent / "data"
FORMATS = {"cur2-parquet": "cur2", "cur2-csv": "cur2", "legacy-csv": "cur-legacy",
           "legacy-parquet": "cur-legacy", "focus-1.0": "focus-1.0", "focus-1.1": "focus-1.1",
           "focus-1.2": "focus-1.2"}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_totals_match_python(name: str, exports: dict[str, Path],
                                          items: list[synth.Item]) -> None:
    focus = name.startswith("focus")
    billed = sum(synth.focus_billed(i) if focus else i.billed for i in items)
    effective = sum(i.effective for i in items)
    with BillingData([str(exports[name])]) as data:
        result = data.summary(["env"])
    assert result["format"] == FORMATS[name]
    expected_rows = len([i for i in items if not (focus and i.line_item_type ==
                                                  "SavingsPlanNegation")])
    assert result["rows"] == expected_rows
    assert result["currency"] == "USD"
    assert result["billed_cost"] == pytest.approx(billed, abs=1e-9)
    assert result["effective_cost"] == pytest.approx(effective, abs=1e-9)
    by_env: dict[str | None, float] = {}
    for i in items:
        key = i.tags.get("env")
        by_env[key] = by_env.get(key, 0.0) + i.effective
    got = {g["key"]["env"]: g["effective_cost"] for g in result["groups"]}
    assert got == pytest.approx(by_env, abs=1e-9)
    assert None in got  # untagged items stay a group of their own, keyed null


def test_month_filter_and_day_keys(exports: dict[str, Path], items: list[synth.Item]) -> None:
    with BillingData([str(exports["cur2-parquet"])]) as data:
        assert data.months() == ["2027-01", "2027-02"]
        feb = data.summary(["day"], month="2027-02")
    days = {g["key"]["day"] for g in feb["groups"]}
    assert "2027-02-01" in days and all(d.startswith("2027-02") for d in days)
    assert feb["effective_cost"] == pytest.approx(
        sum(i.effective for i in items if i.start.month == 2))


def test_folder_glob_and_many_files(tmp_path: Path, items: list[synth.Item]) -> None:
    # Legacy CUR columns vary month to month: January lacks the tag and the SP columns.
    jan = [i for i in items if i.start.month == 1]
    feb = [i for i in items if i.start.month == 2]
    synth.write_csv(synth.legacy_rows(jan, True, drop=("pricing_purchase_option",)),
                    tmp_path / "exp" / "2027-01" / "cur-1.csv.gz")
    synth.write_csv(synth.legacy_rows(feb, True), tmp_path / "exp" / "2027-02" / "cur-1.csv")
    total = sum(i.effective for i in items)
    for paths in ([str(tmp_path / "exp")], [str(tmp_path / "exp" / "*" / "cur-1.csv*")],
                  [str(tmp_path / "exp" / "2027-01"), str(tmp_path / "exp" / "2027-02")]):
        with BillingData(paths) as data:
            result = data.summary([])
        assert result["format"] == "cur-legacy"
        assert result["effective_cost"] == pytest.approx(total)


def test_real_focus_sample_against_python_csv() -> None:
    path = DATA / "focus_sample.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))

    def num(v: str) -> float:
        return 0.0 if v == "NULL" else float(v)

    with BillingData([str(path)]) as data:
        result = data.summary(["provider", "charge-category"])
        env = data.summary(["tag:environment"])
    assert result["format"] == "focus-1.0" and result["rows"] == 1000
    assert result["billed_cost"] == pytest.approx(sum(num(r["BilledCost"]) for r in rows))
    assert result["effective_cost"] == pytest.approx(sum(num(r["EffectiveCost"]) for r in rows))
    groups = {(g["key"]["provider"], g["key"]["charge-category"]): g for g in result["groups"]}
    # The sample's one AWS Credit stays a Credit (not folded into Adjustment).
    assert groups[("AWS", "Credit")]["rows"] == 1
    assert groups[("AWS", "Credit")]["billed_cost"] == pytest.approx(-2.6137)
    assert groups[("Microsoft", "Usage")]["rows"] == 51
    dev = sum(num(r["EffectiveCost"]) for r in rows if '"environment": "dev"' in r["Tags"])
    got = {g["key"]["tag:environment"]: g["effective_cost"] for g in env["groups"]}
    assert got["dev"] == pytest.approx(dev)


def test_legacy_headers_of_a_real_export_are_recognised(tmp_path: Path) -> None:
    headers = (DATA / "cur_legacy_columns_example.txt").read_text().split()
    assert legacy_to_snake("reservation/ReservationARN") == "reservation_reservation_a_r_n"
    assert detect({h: "VARCHAR" for h in headers}) == "cur-legacy"
    # A file with only those headers and one row is read (no resourceTags, no PurchaseOption).
    row = {h: "" for h in headers}
    row.update({"lineItem/UnblendedCost": "1.25", "lineItem/LineItemType": "Usage",
                "lineItem/UsageStartDate": "2019-01-01T00:00:00Z", "lineItem/ProductCode":
                "AmazonS3", "lineItem/CurrencyCode": "USD"})
    path = tmp_path / "legacy.csv.gz"
    with gzip.open(path, "wt", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=headers)
        writer.writeheader()
        writer.writerow(row)
    with BillingData([str(path)]) as data:
        result = data.summary(["service", "env"])
    assert result["format"] == "cur-legacy"
    assert result["groups"] == [{"key": {"service": "AmazonS3", "env": None}, "rows": 1,
                                 "billed_cost": 1.25, "effective_cost": 1.25,
                                 "list_cost": 1.25}]


def test_unknown_file_and_mixed_formats(tmp_path: Path, exports: dict[str, Path]) -> None:
    bad = tmp_path / "sales.csv"
    bad.write_text("date,amount\n2027-01-01,3\n")
    with pytest.raises(InputError) as err:
        BillingData([str(bad)])
    assert "BilledCost" in err.value.one_line() and "line_item_unblended_cost" in str(
        err.value.one_line())
    with pytest.raises(ConflictError):
        BillingData([str(exports["cur2-parquet"]), str(exports["focus-1.0"])])
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(InputError):
        BillingData([str(broken)])
    with pytest.raises(InputError):
        BillingData([str(tmp_path / "missing.parquet")])


def test_cur2_with_the_full_real_schema(tmp_path: Path, items: list[synth.Item]) -> None:
    """A CUR 2.0 file with exactly the 127 columns and Glue types of the real table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with (DATA / "cur2_columns.csv").open(newline="") as fh:
        schema_rows = list(csv.DictReader(fh))
    assert len(schema_rows) == 127
    kinds = {"double": pa.float64(), "timestamp": pa.timestamp("ms"),
             "map<string,string>": pa.map_(pa.string(), pa.string()),
             "map<string,double>": pa.map_(pa.string(), pa.float64())}
    ours = synth.cur2_rows(items)
    fields, columns = [], []
    for spec in schema_rows:
        name, kind = spec["column"], kinds.get(spec["glue_type_in_CID_table"], pa.string())
        values = [r.get(name) for r in ours]
        if kind == pa.string():
            values = [None if v is None else str(v) for v in values]
        elif kind == pa.float64():
            values = [None if v in (None, "") else float(v) for v in values]
        elif isinstance(kind, pa.MapType):
            values = [v or {} for v in values]
        fields.append(pa.field(name, kind))
        columns.append(pa.array(values, kind))
    path = tmp_path / "cur2-full.parquet"
    pq.write_table(pa.Table.from_arrays(columns, schema=pa.schema(fields)), path)
    with BillingData([str(path)]) as data:
        result = data.summary(["service", "env", "instance-type"])
    assert result["format"] == "cur2" and result["rows"] == len(items)
    assert result["effective_cost"] == pytest.approx(sum(i.effective for i in items))
    assert result["billed_cost"] == pytest.approx(sum(i.billed for i in items))
