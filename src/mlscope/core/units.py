"""Units and constants with one home.

AWS bills and quotes monthly prices on 730 hours a month (8,760 h / 12); every monthly figure in
mlscope uses that, except where a calendar month is simulated hour by hour (schedules), which
says so. Memory is compared in the unit the vendor quotes capacity in: accelerator memory in GB
as printed on the data sheet is converted to bytes with GB = 1e9, GiB = 2**30.
"""

from __future__ import annotations

HOURS_PER_MONTH = 730.0
HOURS_PER_YEAR = 8760.0
HOURS_PER_DAY = 24.0
GB = 1e9
GIB = float(2**30)
TB = 1e12


def gib_to_gb(gib: float) -> float:
    return gib * GIB / GB


def gb_to_gib(gb: float) -> float:
    return gb * GB / GIB
