from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlscope.catalog import get_catalog

VMS_HEADER = ("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
              "SpotPrice,Region,AvailabilityZone\n")


def test_list_and_show(run) -> None:  # type: ignore[no-untyped-def]
    d = run("catalog", "list", "--json").json()
    assert any(a["name"] == "H100-SXM5-80GB" for a in d["accelerators"])
    d = run("catalog", "list", "--kind", "instances", "--region", "eu-west-1",
            "--accelerator", "A10G", "--json").json()
    assert d["instances"] and all(i["region"] == "eu-west-1" for i in d["instances"])
    assert all(i["accelerator"] == "A10G" for i in d["instances"])
    d = run("catalog", "show", "p5.48xlarge", "--json").json()
    assert {r["region"] for r in d["regions"]} >= {"us-east-1", "us-west-2"}
    res = run("catalog", "show", "p5.48xlarg")
    assert res.code == 2 and "did you mean p5.48xlarge" in res.err


def test_import_skypilot_vms_csv(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "vms.csv"
    f.write_text(VMS_HEADER
                 + "p4d.24xlarge,A100,8,96,1152,,20.00,5.00,us-east-1,us-east-1a\n"
                 + "p4d.24xlarge,A100,8,96,1152,,20.00,4.00,us-east-1,us-east-1b\n"
                 + "x9.large,,0,2,8,,0.10,,us-east-1,us-east-1a\n")
    res = run("catalog", "import", f, "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert out["rows"] == 2 and out["new_types"] == 1
    inst = get_catalog().instance("p4d.24xlarge", "us-east-1")
    assert inst.on_demand_usd_hr == 20.0 and inst.spot_usd_hr == 4.0  # lowest AZ spot
    assert inst.price_quality == "imported" and inst.accelerator == "A100-SXM4-40GB"
    assert get_catalog().instance("x9.large").vcpus == 2
    assert "instances_imported" in get_catalog().dates
    # The estimate now uses the imported price.
    d = run("estimate", "training", "--params", "1e9", "--tokens", "1e10", "--accelerator",
            "p4d.24xlarge", "--count", "8", "--json").json()
    assert d["instance"]["price_on_demand_usd_hr"] == 20.0


def test_import_aws_offer_json(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    offer = {
        "offerCode": "AmazonSageMaker", "publicationDate": "2026-10-01T00:00:00Z",
        "products": {
            "SKU1": {"attributes": {"instanceName": "ml.p4d.24xlarge", "regionCode": "us-east-1",
                                    "component": "Training"}},
            "SKU2": {"attributes": {"instanceName": "ml.p4d.24xlarge", "regionCode": "us-east-1",
                                    "component": "Hosting"}},
        },
        "terms": {"OnDemand": {
            "SKU1": {"T1": {"priceDimensions": {"R1": {"unit": "Hrs",
                                                       "pricePerUnit": {"USD": "25.5"}}}}},
            "SKU2": {"T2": {"priceDimensions": {"R2": {"unit": "Hrs",
                                                       "pricePerUnit": {"USD": "99"}}}}},
        }},
    }
    f = tmp_path / "offer.json"
    f.write_text(json.dumps(offer))
    res = run("catalog", "import", f, "--json")
    assert res.code == 0, res.err
    assert res.json()["rows"] == 1
    inst = get_catalog().instance("ml.p4d.24xlarge", "us-east-1")
    assert inst.on_demand_usd_hr == 25.5 and inst.service == "sagemaker"
    assert inst.date.startswith("2026-10-01")


@pytest.mark.parametrize(("content", "needle"), [
    ("a,b\n1,2\n", "not a SkyPilot vms.csv"),
    ("{not json", "not valid JSON"),
    ('{"products": {}, "terms": {"OnDemand": {}}}', "no usable instance prices"),
    (VMS_HEADER + "p4d.24xlarge,A100,8,96,1152,,-3,,us-east-1,us-east-1a\n",
     "row 2: Price '-3'"),
])
def test_import_errors_keep_catalog(run, tmp_path: Path, content: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / ("bad.json" if content.lstrip().startswith("{") else "bad.csv")
    f.write_text(content)
    before = get_catalog().instance("p4d.24xlarge", "us-east-1").on_demand_usd_hr
    res = run("catalog", "import", f)
    assert res.code == 2 and needle in res.err
    assert get_catalog().instance("p4d.24xlarge", "us-east-1").on_demand_usd_hr == before


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(st.text(min_size=1, max_size=20))
def test_any_name_resolves_or_suggests(name: str) -> None:
    from mlscope.errors import UnknownNameError

    try:
        hw = get_catalog().resolve(name)
        assert hw.accelerator is not None or hw.instance_type is not None
    except UnknownNameError as exc:
        assert exc.one_line().startswith("unknown accelerator or instance")


def _offer(itype: str, region: str, usd: str) -> dict[str, object]:
    return {
        "offerCode": "AmazonEC2",
        "products": {"S": {"attributes": {
            "instanceType": itype, "regionCode": region, "operatingSystem": "Linux",
            "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}}},
        "terms": {"OnDemand": {"S": {"T": {"priceDimensions": {"R": {
            "unit": "Hrs", "pricePerUnit": {"USD": usd}}}}}}},
    }


def test_offer_import_keeps_each_regions_spot(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The packaged eu-west-1 p4d spot is $9.7598; another region's ($7.9992) must not leak in.
    f = tmp_path / "ec2.json"
    f.write_text(json.dumps(_offer("p4d.24xlarge", "eu-west-1", "24.5")))
    res = run("catalog", "import", f)
    assert res.code == 0, res.err
    inst = get_catalog().instance("p4d.24xlarge", "eu-west-1")
    assert inst.on_demand_usd_hr == 24.5
    assert inst.spot_usd_hr == pytest.approx(9.7598)
    assert inst.accelerator == "A100-SXM4-40GB" and inst.accelerator_count == 8
    assert inst.efa and inst.network_gbps == 400  # hardware columns untouched


def test_three_column_csv_keeps_accelerator_columns(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "vms.csv"
    f.write_text("InstanceType,Price,Region\np5.48xlarge,50.0,us-east-1\n")
    res = run("catalog", "import", f)
    assert res.code == 0, res.err
    inst = get_catalog().instance("p5.48xlarge", "us-east-1")
    assert inst.on_demand_usd_hr == 50.0
    assert inst.accelerator == "H100-SXM5-80GB" and inst.accelerator_count == 8
    assert inst.vcpus == 192 and inst.spot_usd_hr == pytest.approx(17.6289)


@pytest.mark.parametrize("price", ["nan", "0", "inf", "-1", "abc"])
def test_bad_prices_rejected_with_row(run, tmp_path: Path, price: str) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "vms.csv"
    f.write_text(VMS_HEADER + "p5.48xlarge,H100,8,192,2048,,50,,us-east-1,us-east-1a\n"
                 + f"p4d.24xlarge,A100,8,96,1152,,{price},,us-east-1,us-east-1a\n")
    res = run("catalog", "import", f)
    assert res.code == 2 and "row 3" in res.err and len(res.err.strip().splitlines()) == 1
    assert get_catalog().instance("p5.48xlarge", "us-east-1").on_demand_usd_hr == 55.04


@pytest.mark.parametrize("blob", [b"\x00\x01\x02\xff\xfe", b"\xff\xd8\xff\xe0JFIF"])
def test_binary_file_is_one_line_error(run, tmp_path: Path, blob: bytes) -> None:  # type: ignore[no-untyped-def]
    for name in ("x.csv", "x.json"):
        f = tmp_path / name
        f.write_bytes(blob)
        res = run("catalog", "import", f)
        assert res.code == 2 and "Traceback" not in res.err, res.err
        assert len(res.err.strip().splitlines()) == 1
