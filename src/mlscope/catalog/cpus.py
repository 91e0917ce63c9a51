"""Per-family CPU speed of AWS instance families (and of the machine a load test ran on).

`catalog/data/cpu_families.csv`: the processor behind each family, its sustained all-core clock
as a range (the base in the CPU's model string to AWS's published turbo, or the spread between
host CPUs of one family), the core's instructions per clock relative to Skylake (vendor claims,
each with its source), and the sustained-use baseline of burstable types. Speed per vCPU =
clock x IPC; the serving estimate divides a family's speed by the measuring machine's.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from mlscope.errors import UnknownNameError


@dataclass(frozen=True)
class CpuFamily:
    family: str
    processor: str
    microarchitecture: str
    ghz_low: float
    ghz_high: float
    ipc_vs_skylake: float
    burst_baseline: dict[str, float]  # instance type -> sustained share of each vCPU
    note: str
    source: str
    date: str


def _baseline(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, value = part.split("=")
        out[name.strip()] = float(value)
    return out


@lru_cache(maxsize=1)
def cpu_families() -> dict[str, CpuFamily]:
    path = resources.files("mlscope.catalog") / "data" / "cpu_families.csv"
    with path.open() as fh:
        return {r["family"]: CpuFamily(
            r["family"], r["processor"], r["microarchitecture"], float(r["ghz_low"]),
            float(r["ghz_high"]), float(r["ipc_vs_skylake"]), _baseline(r["burst_baseline"]),
            r["note"], r["source"], r["date"]) for r in csv.DictReader(fh)}


def family_of(instance_type: str) -> str:
    """'ml.c5.2xlarge' and 'c5.2xlarge' -> 'c5'."""
    return instance_type.lower().removeprefix("ml.").split(".")[0]


def cpu_family(name: str) -> CpuFamily:
    fams = cpu_families()
    found = fams.get(family_of(name)) or fams.get(name.lower())
    if found is None:
        raise UnknownNameError("CPU family", name, fams)
    return found


def machine_family(cpu_flags: set[str], vendor: str) -> CpuFamily:
    """The row that stands for the measuring machine, from its /proc/cpuinfo flags."""
    fams = cpu_families()
    if vendor == "GenuineIntel" and "amx_tile" in cpu_flags:
        return fams["sapphire-rapids"]
    if vendor == "GenuineIntel" and "avx512_vnni" in cpu_flags and "avx512ifma" in cpu_flags:
        return fams["ice-lake"]
    return fams["skylake"]
