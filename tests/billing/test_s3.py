"""s3:// exports read through pyarrow's S3 filesystem, against moto's server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.costs.billing import synth


def test_s3_prefix_and_glob(run, moto_url: str, monkeypatch: pytest.MonkeyPatch,
                            exports: dict[str, Path], items: list[synth.Item]) -> None:
    import boto3

    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", moto_url)):
        monkeypatch.setenv(var, value)
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket="billing")
    s3.upload_file(str(exports["cur2-parquet"]), "billing",
                   "exports/cur2/data/BILLING_PERIOD=2027-01/part-0.parquet")
    s3.upload_file(str(exports["legacy-csv"]), "billing", "legacy/2027/cur-1.csv.gz")
    s3.put_object(Bucket="billing", Key="exports/cur2/metadata/manifest.json", Body=b"{}")
    effective = sum(i.effective for i in items)
    res = run("billing", "summary", "s3://billing/exports/cur2/", "--json")
    assert res.code == 0, res.err
    assert res.json()["format"] == "cur2"
    assert res.json()["effective_cost"] == pytest.approx(effective)
    res = run("billing", "summary", "s3://billing/legacy/*/cur-*.csv.gz", "--json")
    assert res.code == 0, res.err
    assert res.json()["format"] == "cur-legacy" and res.json()["rows"] == len(items)
    missing = run("billing", "summary", "s3://billing/nothing-here/", "--json")
    assert missing.code == 2 and len(missing.err.strip().splitlines()) == 1
