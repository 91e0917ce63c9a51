from __future__ import annotations

import pytest

from mlscope.catalog import get_catalog
from mlscope.errors import UnknownNameError

REQUIRED = ["V100", "T4", "A10G", "L4", "L40S", "A100-40GB", "A100-80GB", "H100-SXM",
            "H100-PCIE", "H800", "H200", "Trainium1", "Trainium2", "Inferentia2", "TPU-v3",
            "TPU-v4", "TPU-v5e", "TPU-v5p", "Gaudi2", "MI300X"]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_accelerators_resolve(name: str) -> None:
    acc = get_catalog().accelerator(name)
    assert acc.memory_gb > 0 and acc.peak_tflops("bf16") > 0 and acc.source


@pytest.mark.parametrize(("alias", "canonical"), [
    ("a100-80gb", "A100-SXM4-80GB"), ("h100", "H100-SXM5-80GB"), ("TPU-V4", "TPU-v4"),
])
def test_aliases_are_case_insensitive(alias: str, canonical: str) -> None:
    assert get_catalog().accelerator(alias).name == canonical


def test_instances_map_to_accelerators() -> None:
    cat = get_catalog()
    hw = cat.resolve("p4d.24xlarge")
    assert hw.accelerator is not None and hw.accelerator.name == "A100-SXM4-40GB"
    assert hw.per_instance == 8
    ml = cat.instance("ML.P4D.24XLARGE")
    assert ml.service == "sagemaker" and ml.price_quality.endswith("rough")


def test_prices_cover_three_regions() -> None:
    cat = get_catalog()
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        inst = cat.instance("g5.xlarge", region)
        assert inst.on_demand_usd_hr and inst.on_demand_usd_hr > 0


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_catalog().resolve("p4d.24xlarg")
    assert "did you mean p4d.24xlarge" in info.value.one_line()
