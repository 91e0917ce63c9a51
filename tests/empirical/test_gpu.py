"""The GPU path, against a fake NVML module at the library boundary (no GPU on CI machines).

Not validated on a real GPU: these tests pin what mlscope does with what NVML reports (device
name -> catalog accelerator, memory above the baseline, utilization x time, the per-device
memory check, scaling to the instance's accelerators), not NVML's own readings.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np
import pytest

from mlscope.estimate.empirical.measure import measure_command
from mlscope.estimate.empirical.result import Run, analyze
from mlscope.estimate.empirical.targets import (
    Parallelism,
    _gpu_ratio,
    catalog_accelerator,
    estimate_instance,
)


class FakeNvml(types.ModuleType):
    """pynvml's calls mlscope makes; memory grows by `grow_mb` after the first reading."""

    def __init__(self, name: str = "NVIDIA A10G", base_mb: float = 500.0,
                 grow_mb: float = 3000.0, util: int = 80) -> None:
        super().__init__("pynvml")
        self.name, self.base_mb, self.grow_mb, self.util = name, base_mb, grow_mb, util
        self.readings = 0
        self.initialised = False

    def nvmlInit(self) -> None:
        self.initialised = True

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return self.name.encode()  # older pynvml returns bytes

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        used = self.base_mb + (self.grow_mb if self.readings else 0.0)
        self.readings += 1
        return types.SimpleNamespace(used=used * 2**20)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:
        return types.SimpleNamespace(gpu=self.util)


@pytest.fixture
def nvml(monkeypatch: pytest.MonkeyPatch) -> FakeNvml:
    fake = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    return fake


def test_nvml_readings_reach_the_measurement(nvml: FakeNvml) -> None:
    m = measure_command([sys.executable, "-c", "import time; time.sleep(0.5)"])
    assert nvml.initialised and m.gpu_name == "NVIDIA A10G"
    assert m.peak_gpu_mb == pytest.approx(3000.0)  # above the 500 MB in use before the run
    assert m.gpu_s is not None and 0.2 < m.gpu_s <= m.wall_s * 0.8 + 1e-9  # 80 % busy


def test_no_nvml_means_not_measured_rather_than_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails
    m = measure_command([sys.executable, "-c", "pass"])
    assert m.gpu_s is None and m.peak_gpu_mb is None and m.gpu_name is None


@pytest.mark.parametrize(("nvml_name", "catalog"), [
    ("NVIDIA A10G", "A10G"), ("Tesla T4", "T4"), ("NVIDIA H100 80GB HBM3", "H100-SXM5-80GB"),
    ("NVIDIA A100-SXM4-40GB", "A100-SXM4-40GB"), ("NVIDIA L4", "L4"),
    ("NVIDIA GeForce RTX 4090", None)])
def test_nvml_device_names_map_to_the_catalog(nvml_name: str, catalog: str | None) -> None:
    assert catalog_accelerator(nvml_name) == catalog


def _gpu_runs(gpu_mb: list[float]) -> list[Run]:
    sizes = [0.001, 0.05, 0.15, 0.45]
    return [Run(x, 0, 2.0 + 40 * x, 2.0 + 40 * x, 800 + 2000 * x, gpu_s=0.9 * (2.0 + 40 * x),
                peak_gpu_mb=mb, fixed=x == 0.001, gpu_name="Tesla T4")
            for x, mb in zip(sizes, gpu_mb, strict=True)]


def test_gpu_time_is_scaled_to_the_instance_gpu_and_memory_is_checked() -> None:
    runs = _gpu_runs([300, 300 + 17_000 * 0.05, 300 + 17_000 * 0.15, 300 + 17_000 * 0.45])
    result = analyze(["train"], runs, instances=["g5.xlarge", "g4dn.xlarge", "c6i.xlarge"],
                     fixed_level=0.001)
    assert result.gpu_memory is not None
    assert result.gpu_memory.prediction.p50 == pytest.approx(17_300, rel=0.1)
    by = {e.instance_type: e for e in result.instances}
    # The T4 measured here -> an A10G is faster (FP32 and bandwidth ratios from the catalog);
    # the same T4 there takes the same time.
    assert by["g5.xlarge"].hours["p50"] < by["g4dn.xlarge"].hours["p50"]
    assert any("scaled by peak FP32" in n for n in by["g5.xlarge"].notes)
    # 17 GiB of GPU memory fits an A10G (24 GB) but not a T4 (16 GB); a CPU instance has none.
    assert by["g5.xlarge"].fits_memory and not by["g4dn.xlarge"].fits_memory
    assert not by["c6i.xlarge"].fits_memory
    assert any("GPU memory" in n for n in by["c6i.xlarge"].notes)
    assert any("not validated on a real GPU" in a for a in result.assumptions)


def test_gpu_ratio_is_the_catalog_arithmetic() -> None:
    from mlscope.catalog import get_catalog

    cat = get_catalog()
    t4, a10 = cat.accelerator("T4"), cat.accelerator("A10G")
    assert t4.bandwidth_gbs and a10.bandwidth_gbs
    by_hand = np.sqrt(t4.peak_tflops("fp32") / a10.peak_tflops("fp32")
                      * t4.bandwidth_gbs / a10.bandwidth_gbs)
    assert _gpu_ratio("T4", "A10G", 1) == pytest.approx(by_hand)
    assert _gpu_ratio("T4", "A10G", 4) == pytest.approx(by_hand / 4)


def test_gpu_share_scales_only_the_gpu_part() -> None:
    seconds = np.full(100, 3600.0)
    serial = Parallelism(0.0, 2, "serial-run")
    cpu_only = estimate_instance("g5.xlarge", None, seconds, 100, serial, {"g5": 1.0})
    gpu = estimate_instance("g5.xlarge", None, seconds, 100, serial, {"g5": 1.0}, 0.9, "T4")
    ratio = _gpu_ratio("T4", "A10G", 1)
    assert gpu.hours["p50"] == pytest.approx(cpu_only.hours["p50"] * (0.1 + 0.9 * ratio))
